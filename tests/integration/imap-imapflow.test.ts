// Each capability through imapflow, a widely used client library: what its
// users get from our server.
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { startImap } from "../helpers/imap-server";
import { messageWithAttachment, plainMessage } from "../helpers/messages";

let stop = async () => {};
afterEach(() => stop());

async function setup() {
  const imap = await startImap();
  stop = imap.stop;
  return imap;
}

describe("imapflow against our server", () => {
  it("ID, NAMESPACE, SPECIAL-USE LIST, STATUS=SIZE and mailbox management", async () => {
    const imap = await setup();
    const client = await imap.client();
    expect(client.serverInfo?.name).toBe("Bitmask Mail");
    expect(client.namespaces?.personal?.[0]).toMatchObject({ prefix: "", delimiter: "/" });
    const specialUses = Object.fromEntries((await client.list()).map((box) => [box.path, box.specialUse ?? null]));
    expect(specialUses).toMatchObject({ Sent: "\\Sent", Drafts: "\\Drafts", Trash: "\\Trash", Junk: "\\Junk", Archive: "\\Archive" });
    await client.mailboxCreate(["Projects", "Kalender ✓"]);
    await client.mailboxRename("Projects/Kalender ✓", "Projects/Done");
    expect((await client.list()).map((box) => box.path)).toContain("Projects/Done");
    await client.append("Projects/Done", plainMessage(1));
    const status = await client.status("Projects/Done", { messages: true, uidNext: true, unseen: true, highestModseq: true });
    expect(status).toMatchObject({ messages: 1, uidNext: 2, unseen: 1 });
    await client.mailboxDelete("Projects/Done");
    expect((await client.list()).map((box) => box.path)).not.toContain("Projects/Done");
  });

  it("APPEND with UIDPLUS, FETCH of envelope, structure and parts", async () => {
    const imap = await setup();
    const client = await imap.client();
    const attachment = randomBytes(10_000);
    const appended = await client.append("INBOX", messageWithAttachment(3, attachment, "data.bin"), ["\\Flagged"], new Date("2026-02-03T04:05:06Z"));
    expect(appended).toMatchObject({ uid: 1, uidValidity: BigInt(imap.account.requireMailbox("INBOX").uidValidity) });
    await client.mailboxOpen("INBOX");
    const message = await client.fetchOne("1", { envelope: true, bodyStructure: true, internalDate: true, size: true, flags: true });
    expect(message && message.envelope?.subject).toBe("Attachment 3");
    expect(message && message.envelope?.from?.[0]?.address).toBe("sender3@example.org");
    expect(message && message.bodyStructure?.childNodes?.map((node) => node.type)).toEqual(["text/plain", "application/octet-stream"]);
    expect(message && message.internalDate).toEqual(new Date("2026-02-03T04:05:06Z"));
    const download = await client.download("1", "2");
    const chunks: Buffer[] = [];
    for await (const chunk of download.content!) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(attachment)).toBe(true);
  });

  it("STORE, COPY, MOVE and EXPUNGE", async () => {
    const imap = await setup();
    const client = await imap.client();
    for (let n = 1; n <= 4; n++) await client.append("INBOX", plainMessage(n));
    await client.mailboxOpen("INBOX");
    await client.messageFlagsAdd("1:2", ["\\Seen", "$Important"]);
    await client.messageFlagsRemove("2", ["$Important"]);
    expect(imap.account.requireMailbox("INBOX").get(2)!.flags).toEqual(["\\Seen"]);
    const copied = await client.messageCopy("1", "Archive");
    expect(copied && copied.uidMap?.get(1)).toBe(1);
    const moved = await client.messageMove("3:4", "Trash");
    expect(moved && [...(moved.uidMap?.entries() ?? [])]).toEqual([[3, 1], [4, 2]]);
    expect(client.mailbox && client.mailbox.exists).toBe(2);
    await client.messageDelete("1");
    expect(imap.account.requireMailbox("INBOX").uids()).toEqual([2]);
  });

  it("IDLE delivers new mail added through the mail API", async () => {
    const imap = await setup();
    const client = await imap.client();
    await client.mailboxOpen("INBOX");
    const exists = new Promise<number>((resolve) => client.on("exists", (data: { count: number }) => resolve(data.count)));
    const idling = client.idle();
    await new Promise((resolve) => setTimeout(resolve, 50));
    imap.account.requireMailbox("INBOX").add(plainMessage(42));
    expect(await exists).toBe(1);
    await client.noop();
    await idling;
  });

  it("CONDSTORE and QRESYNC through imapflow", async () => {
    const imap = await setup();
    const inbox = imap.account.requireMailbox("INBOX");
    for (let n = 1; n <= 3; n++) inbox.add(plainMessage(n));
    const client = await imap.client({ qresync: true });
    const opened = await client.mailboxOpen("INBOX");
    expect(opened.highestModseq).toBe(BigInt(inbox.highestModseq));
    const since = inbox.highestModseq;
    inbox.updateFlags([2], "add", ["\\Answered"]);
    const changed: number[] = [];
    for await (const message of client.fetch("1:*", { uid: true, flags: true }, { changedSince: BigInt(since) })) changed.push(message.uid);
    expect(changed).toEqual([2]);
    const vanished = new Promise<unknown>((resolve) => client.on("expunge", resolve));
    inbox.updateFlags([3], "add", ["\\Deleted"]);
    inbox.expunge();
    await client.noop();
    expect(await vanished).toMatchObject({ uid: 3, vanished: true });
  });
});
