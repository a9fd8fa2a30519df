// The mail API over the control socket, as bitmaskctl and the web reader use
// it: a real daemon (SQLCipher store, keys, provider) and a second one that
// sends it encrypted, signed mail through its SMTP gateway. Every method,
// the change stream, and what bad input gets: a clear error, nothing changed.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ControlEvent } from "../../shared/control-api";
import { MAX_MAIL_PAGE_SIZE } from "../../shared/control-limits";
import { ControlClient, ControlRequestError } from "../../native-host/control/client";
import type { UnlockedAccount } from "../../native-host/daemon/daemon";
import { newestInInbox, sendThroughGateway, startTwoDevices, syncNow, type TestDaemon, type TlsProvider } from "../helpers/daemon";

const PASSPHRASE = "correct horse battery staple";

let provider: TlsProvider;
let aliceDevice: TestDaemon;
let carolDevice: TestDaemon;
let alice: UnlockedAccount;
let carol: UnlockedAccount;
let client: ControlClient;

/** Carol writes to Alice through her own daemon's SMTP gateway: it arrives encrypted and signed. */
async function carolWrites(subject: string, text: string): Promise<void> {
  await sendThroughGateway(carolDevice.daemon, carol, { to: alice.address, subject, text });
  await syncNow(alice);
}

const WITH_ATTACHMENT = [
  "From: Dora <dora@example.net>",
  "To: alice@example.org",
  "Subject: =?utf-8?q?pi=C3=B1ata_plans?=",
  "Date: Tue, 01 Dec 2026 10:00:00 +0000",
  "Message-ID: <plans@example.net>",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="b1"',
  "",
  "--b1",
  'Content-Type: multipart/alternative; boundary="b2"',
  "",
  "--b2",
  "Content-Type: text/plain; charset=utf-8",
  "Content-Transfer-Encoding: quoted-printable",
  "",
  "Bring the pi=C3=B1ata on Friday.",
  "--b2",
  "Content-Type: text/html; charset=utf-8",
  "",
  "<p>Bring the <b>piñata</b> on Friday.</p>",
  "--b2--",
  "--b1",
  'Content-Type: application/octet-stream; name="list.bin"',
  'Content-Disposition: attachment; filename="list.bin"',
  "Content-Transfer-Encoding: base64",
  "",
  Buffer.from([0, 1, 2, 250, 251, 252]).toString("base64"),
  "--b1--",
  "",
].join("\r\n");

function plain(subject: string): Buffer {
  return Buffer.from(`From: x@example.net\r\nTo: alice@example.org\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.net>\r\n\r\nbody of ${subject}\r\n`);
}

async function failure(promise: Promise<unknown>): Promise<ControlRequestError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ControlRequestError);
  return error as ControlRequestError;
}

/** One raw line to the socket, its one reply line back. */
function rawLine(socketPath: string, line: string): Promise<{ id: unknown; error?: { code: string; message: string } }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString("utf8");
      if (text.includes("\n")) {
        socket.destroy();
        resolve(JSON.parse(text.slice(0, text.indexOf("\n"))) as { id: unknown });
      }
    });
    socket.on("error", reject);
    socket.write(line + "\n");
  });
}

beforeAll(async () => {
  ({ provider, aliceDevice, carolDevice, alice, carol } = await startTwoDevices(PASSPHRASE, { controlSocket: true }));
  client = await ControlClient.connect(aliceDevice.daemon.controlSocketPath!);
}, 60_000);

afterAll(async () => {
  client?.close();
  await aliceDevice?.stop();
  await carolDevice?.stop();
  await provider?.stop();
});

describe("the mail API over the control socket", () => {
  it("lists mailboxes with counts, and a message that arrived encrypted and signed with its state", async () => {
    await carolWrites("secret plans", "meet at the usual place");
    const { address, mailboxes } = await client.request("mail.mailboxes", {});
    expect(address).toBe(alice.address);
    expect(mailboxes.map((box) => box.name)).toEqual(expect.arrayContaining(["INBOX", "Sent", "Trash", "Drafts", "Archive", "Junk"]));
    const inbox = mailboxes.find((box) => box.name === "INBOX")!;
    expect(inbox).toMatchObject({ messages: 1, unseen: 1 });
    expect(mailboxes.find((box) => box.name === "Sent")!.specialUse).toBe("\\Sent");

    const page = await client.request("mail.list", { mailbox: "INBOX" });
    expect(page.total).toBe(1);
    const [summary] = page.messages;
    expect(summary).toMatchObject({ subject: "secret plans", flags: [] });
    expect(summary!.from).toContain(carol.address);
    expect(summary!.security).toEqual({ encrypted: true, signature: "valid", signer: carol.keys!.ownFingerprint(), error: null });

    const view = await client.request("mail.get", { mailbox: "inbox", uid: summary!.uid });
    expect(view.mailbox).toBe("INBOX");
    expect(view.text).toContain("meet at the usual place");
    expect(view.security.encrypted).toBe(true);
    expect(view.messageId).toMatch(/^<.+>$/);
  });

  it("decodes text and HTML, lists attachments and returns one by part number", async () => {
    const { uid } = alice.mail.requireMailbox("INBOX").add(Buffer.from(WITH_ATTACHMENT, "utf8"));
    const view = await client.request("mail.get", { mailbox: "INBOX", uid });
    expect(view.subject).toBe("piñata plans");
    expect(view.text).toBe("Bring the piñata on Friday.");
    expect(view.html).toBe("<p>Bring the <b>piñata</b> on Friday.</p>");
    expect(view.attachments).toEqual([{ part: "2", filename: "list.bin", contentType: "application/octet-stream", size: expect.any(Number) }]);
    expect(view.security).toEqual({ encrypted: false, signature: null, signer: null, error: null });
    const part = await client.request("mail.part", { mailbox: "INBOX", uid, part: "2" });
    expect(Buffer.from(part.base64, "base64")).toEqual(Buffer.from([0, 1, 2, 250, 251, 252]));
    expect(part).toMatchObject({ contentType: "application/octet-stream", filename: "list.bin" });
    const missing = await failure(client.request("mail.part", { mailbox: "INBOX", uid, part: "7" }));
    expect(missing.code).toBe("not-found");
    expect(missing.message).toContain("no part 7");
    expect((await failure(client.request("mail.part", { mailbox: "INBOX", uid, part: "../1" }))).code).toBe("bad-request");
  });

  it("pages newest first and refuses an oversized page", async () => {
    await client.request("mailbox.create", { mailbox: "Paging" });
    const box = alice.mail.requireMailbox("Paging");
    for (let i = 1; i <= 7; i++) box.add(plain(`page-${i}`));
    const subjects = async (page: number) =>
      (await client.request("mail.list", { mailbox: "Paging", page, pageSize: 3 })).messages.map((message) => message.subject);
    expect(await subjects(0)).toEqual(["page-7", "page-6", "page-5"]);
    expect(await subjects(1)).toEqual(["page-4", "page-3", "page-2"]);
    expect(await subjects(2)).toEqual(["page-1"]);
    expect(await subjects(3)).toEqual([]);
    const oversized = await failure(client.request("mail.list", { mailbox: "Paging", pageSize: MAX_MAIL_PAGE_SIZE + 1 }));
    expect(oversized.code).toBe("bad-request");
    expect(oversized.message).toMatch(/pageSize/);
    expect((await failure(client.request("mail.list", { mailbox: "Paging", page: -1 }))).code).toBe("bad-request");
  });

  it("searches the full-text index, newest first", async () => {
    const found = await client.request("mail.search", { mailbox: "INBOX", query: "USUAL place" });
    expect(found.messages.map((message) => message.subject)).toEqual(["secret plans"]);
    expect((await client.request("mail.search", { mailbox: "INBOX", query: "piñata" })).total).toBe(1);
    expect((await client.request("mail.search", { mailbox: "INBOX", query: "no such words anywhere" })).total).toBe(0);
    expect((await failure(client.request("mail.search", { mailbox: "INBOX", query: "   " }))).code).toBe("bad-request");
  });

  it("sets and clears flags, and refuses UIDs that do not exist without changing the others", async () => {
    const uid = alice.mail.requireMailbox("INBOX").uids()[0]!;
    expect(await client.request("mail.flags", { mailbox: "INBOX", uids: [uid], mode: "add", flags: ["\\Seen", "$label1"] })).toEqual([
      { uid, flags: ["\\Seen", "$label1"] },
    ]);
    expect((await client.request("mail.mailboxes", {})).mailboxes.find((box) => box.name === "INBOX")!.unseen).toBe(1);
    await client.request("mail.flags", { mailbox: "INBOX", uids: [uid], mode: "remove", flags: ["$label1"] });
    const outOfRange = await failure(client.request("mail.flags", { mailbox: "INBOX", uids: [uid, 99_999], mode: "add", flags: ["\\Flagged"] }));
    expect(outOfRange.code).toBe("not-found");
    expect(outOfRange.message).toContain("99999");
    expect(alice.mail.requireMailbox("INBOX").get(uid)!.flags).toEqual(["\\Seen"]);
    const badFlag = await failure(client.request("mail.flags", { mailbox: "INBOX", uids: [uid], mode: "add", flags: ["bad flag"] }));
    expect(badFlag.code).toBe("bad-request");
    const noUid = await failure(client.request("mail.get", { mailbox: "INBOX", uid: 99_999 }));
    expect(noUid.code).toBe("not-found");
    expect(noUid.message).toMatch(/no message with UID 99999 in INBOX/);
    expect((await failure(client.request("mail.get", { mailbox: "INBOX", uid: 0 }))).code).toBe("bad-request");
  });

  it("copies, moves and deletes messages", async () => {
    const paging = alice.mail.requireMailbox("Paging");
    const [first, second] = paging.uids();
    const copied = await client.request("mail.copy", { mailbox: "Paging", uids: [first!], target: "Archive" });
    expect(copied).toHaveLength(1);
    expect(paging.get(first!)).toBeDefined();
    const moved = await client.request("mail.move", { mailbox: "Paging", uids: [second!], target: "Trash" });
    expect(paging.get(second!)).toBeUndefined();
    expect(alice.mail.requireMailbox("Trash").get(moved[0]!.to)).toBeDefined();
    expect((await failure(client.request("mail.move", { mailbox: "Paging", uids: [first!], target: "Paging" }))).code).toBe("bad-request");
    expect((await failure(client.request("mail.move", { mailbox: "Paging", uids: [first!], target: "Nowhere" }))).code).toBe("not-found");
    expect(await client.request("mail.delete", { mailbox: "Trash", uids: [moved[0]!.to] })).toEqual({ deleted: [moved[0]!.to] });
    expect(alice.mail.requireMailbox("Trash").counts().messages).toBe(0);
    expect((await failure(client.request("mail.delete", { mailbox: "Trash", uids: [] }))).code).toBe("bad-request");
  });

  it("creates, renames and deletes mailboxes, with clear refusals", async () => {
    expect(await client.request("mailbox.create", { mailbox: "Projects/2027" })).toMatchObject({ name: "Projects/2027", messages: 0 });
    expect((await failure(client.request("mailbox.create", { mailbox: "Projects/2027" }))).message).toMatch(/already exists/);
    expect(await client.request("mailbox.rename", { mailbox: "Projects/2027", to: "Projects/2028" })).toMatchObject({ name: "Projects/2028" });
    expect(await client.request("mailbox.delete", { mailbox: "Projects/2028" })).toEqual({ deleted: "Projects/2028" });
    expect((await failure(client.request("mailbox.delete", { mailbox: "Projects/2028" }))).code).toBe("not-found");
    expect((await failure(client.request("mailbox.delete", { mailbox: "INBOX" }))).message).toMatch(/INBOX cannot be deleted/);
    expect((await failure(client.request("mailbox.create", { mailbox: "a//b" }))).message).toMatch(/empty level/);
    expect((await failure(client.request("mail.list", { mailbox: "Nowhere" }))).message).toBe("no mailbox named Nowhere");
  });

  it("sends a reply the way the SMTP gateway does: it reaches the sender encrypted and signed", async () => {
    const original = (await client.request("mail.search", { mailbox: "INBOX", query: "usual place" })).messages[0]!;
    const outcome = await client.request("mail.send", {
      message: { to: [carol.address], subject: "Re: secret plans", text: "see you there", inReplyTo: { mailbox: "INBOX", uid: original.uid } },
    });
    expect(outcome).toMatchObject({ encrypted: 1, signedOnly: 0 });
    expect(outcome.reply).toMatch(/queued|delivered|sent|ok/i);
    await syncNow(carol);
    const arrived = newestInInbox(carol);
    expect(arrived).toContain("X-Leap-Encryption: decrypted");
    expect(arrived).toContain(`X-Leap-Signature: valid; pubkey="${alice.keys!.ownFingerprint()}"`);
    expect(arrived).toContain("see you there");
    expect(arrived).toMatch(/^In-Reply-To: <.+>/m);
    const sent = await client.request("mail.get", { mailbox: "Sent", uid: outcome.sentUid! });
    expect(sent).toMatchObject({ subject: "Re: secret plans", flags: ["\\Seen"] });
    expect(alice.mail.requireMailbox("INBOX").get(original.uid)!.flags).toContain("\\Answered");
    const badAddress = await failure(client.request("mail.send", { message: { to: ["not an address"], subject: "x", text: "x" } }));
    expect(badAddress.code).toBe("bad-request");
    expect(badAddress.message).toMatch(/message\.to\.0: not a mail address/);
  });

  it("streams changes to a subscriber: new, changed, expunged, and the mailbox list", async () => {
    const watcher = await ControlClient.connect(aliceDevice.daemon.controlSocketPath!);
    try {
      const events: ControlEvent[] = [];
      watcher.onEvent((event) => events.push(event));
      await watcher.request("subscribe", {});
      const inbox = alice.mail.requireMailbox("INBOX");
      const { uid } = inbox.add(plain("streamed"));
      inbox.updateFlags([uid], "add", ["\\Flagged"]);
      inbox.remove(uid);
      await client.request("mailbox.create", { mailbox: "Streamed" });
      await expect.poll(() => events.filter((event) => event.event === "mail-changed").length).toBeGreaterThanOrEqual(4);
      const changes = events.flatMap((event) => (event.event === "mail-changed" ? [event] : []));
      expect(changes.slice(0, 4)).toEqual([
        { event: "mail-changed", address: alice.address, mailbox: "INBOX", kind: "new", uids: [uid] },
        { event: "mail-changed", address: alice.address, mailbox: "INBOX", kind: "changed", uids: [uid] },
        { event: "mail-changed", address: alice.address, mailbox: "INBOX", kind: "expunged", uids: [uid] },
        { event: "mail-changed", address: alice.address, mailbox: null, kind: "mailboxes", uids: [] },
      ]);
    } finally {
      watcher.close();
    }
  });

  it("answers malformed JSON and unknown methods with an error reply, and goes on serving", async () => {
    const socketPath = aliceDevice.daemon.controlSocketPath!;
    expect(await rawLine(socketPath, '{"id": 1, "method": "mail.list", "params": {')).toEqual({ id: null, error: { code: "bad-request", message: "not JSON" } });
    expect((await rawLine(socketPath, '{"id": 2, "method": "mail.list", "params": {"mailbox": 7}}')).error!.code).toBe("bad-request");
    expect((await rawLine(socketPath, '{"id": 3, "method": "mail.nothing"}')).error!.code).toBe("unknown-method");
    expect((await client.request("mail.list", { mailbox: "INBOX" })).total).toBeGreaterThan(0);
  });
});
