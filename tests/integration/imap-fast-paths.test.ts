// The IMAP server's shortcuts for big mailboxes give the same answers as the
// long way round: batched socket writes, CHANGEDSINCE from the MODSEQ index,
// cached keywords, the recent and unseen indexes, the FTS join, and header
// fields from the sync header (the top header without trace fields).
import { afterEach, describe, expect, it } from "vitest";
import { ADDRESS, startImap } from "../helpers/imap-server";
import { messageWithAttachment, plainMessage } from "../helpers/messages";
import { RawImap } from "../helpers/raw-imap";

let stop = async () => {};
afterEach(() => stop());

async function loggedIn() {
  const imap = await startImap();
  stop = imap.stop;
  const raw = await RawImap.connect(imap.port);
  expect(await raw.command("a0", `LOGIN ${ADDRESS} ${imap.token}`)).toMatch(/a0 OK/);
  return { imap, raw };
}

/** Logged in, with `count` plain messages in INBOX, selected with
 * CONDSTORE; `base` is the mailbox's HIGHESTMODSEQ at that point. */
async function condstoreInbox(count: number) {
  const { imap, raw } = await loggedIn();
  const inbox = imap.account.requireMailbox("INBOX");
  for (let n = 1; n <= count; n++) inbox.add(plainMessage(n));
  await raw.command("s", "SELECT INBOX (CONDSTORE)");
  return { imap, raw, inbox, base: inbox.highestModseq };
}

/** The FETCH responses of a reply by sequence number, literals read by their length. */
function fetchedBodies(reply: string): Map<number, string> {
  const bodies = new Map<number, string>();
  const start = /\* (\d+) FETCH \(UID \d+ BODY\[\] \{(\d+)\}\r\n/g;
  for (let match = start.exec(reply); match; match = start.exec(reply)) {
    const length = Number(match[2]);
    const from = match.index + match[0].length;
    bodies.set(Number(match[1]), reply.slice(from, from + length));
    start.lastIndex = from + length;
  }
  return bodies;
}

/** The data of a reply's first literal. */
function firstLiteral(reply: string): string {
  const match = /\{(\d+)\}\r\n/.exec(reply)!;
  const from = match.index + match[0].length;
  return reply.slice(from, from + Number(match[1]));
}

describe("IMAP fast paths", () => {
  it("sends a big FETCH byte-exact and in order, small and large literals mixed", async () => {
    const { imap, raw } = await loggedIn();
    const inbox = imap.account.requireMailbox("INBOX");
    const messages: Buffer[] = [];
    for (let n = 1; n <= 300; n++) {
      // Every 50th message is larger than one output batch (64 KiB).
      const raw = n % 50 === 0 ? messageWithAttachment(n, Buffer.alloc(100_000, n)) : plainMessage(n, "x".repeat(n * 37));
      messages.push(raw);
      inbox.add(raw);
    }
    await raw.command("s", "SELECT INBOX");
    const reply = await raw.command("f", "UID FETCH 1:* (BODY.PEEK[])", 30_000);
    const bodies = fetchedBodies(reply);
    expect(bodies.size).toBe(300);
    messages.forEach((message, i) => expect(bodies.get(i + 1)).toBe(message.toString("latin1")));
    expect(reply.endsWith("f OK FETCH completed\r\n")).toBe(true);
    raw.close();
  });

  it("answers CHANGEDSINCE with just the changed messages of the set, UID and sequence forms", async () => {
    const { raw, inbox, base } = await condstoreInbox(600);
    const changed = [3, 150, 299, 300, 301, 598];
    inbox.updateFlags(changed, "add", ["\\Flagged"]);
    const modseqOf = (uid: number) => inbox.get(uid)!.modseq;

    const all = await raw.command("c1", `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${base})`);
    const lines = all.split("\r\n").filter((line) => line.startsWith("* "));
    expect(lines).toEqual(changed.map((uid) => `* ${uid} FETCH (UID ${uid} FLAGS (\\Flagged \\Recent) MODSEQ (${modseqOf(uid)}))`));

    const some = await raw.command("c2", `UID FETCH 100:300,598 (FLAGS) (CHANGEDSINCE ${base})`);
    expect(some.match(/UID (\d+) /g)).toEqual(["UID 150 ", "UID 299 ", "UID 300 ", "UID 598 "]);

    const bySequence = await raw.command("c3", `FETCH 2:299 (UID) (CHANGEDSINCE ${base})`);
    expect(bySequence.match(/\* \d+ FETCH \(UID \d+/g)).toEqual(["* 3 FETCH (UID 3", "* 150 FETCH (UID 150", "* 299 FETCH (UID 299"]);
    expect(bySequence).toMatch(/c3 OK/);

    const none = await raw.command("c4", `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${inbox.highestModseq})`);
    expect(none).not.toContain("FETCH (");
    raw.close();
  });

  it("still tells of a change that lands after a CHANGEDSINCE FETCH read its messages", async () => {
    const { raw, inbox, base } = await condstoreInbox(450);
    inbox.updateFlags(inbox.uids(), "add", ["\\Flagged"]);
    // The FETCH reads the changed messages, then writes them; a change to
    // message 100 lands in between (as one could while a FETCH yields).
    const readAll = inbox.messagesChangedSince.bind(inbox);
    inbox.messagesChangedSince = (modseq) => {
      const read = readAll(modseq);
      inbox.updateFlags([100], "add", ["$Late"]);
      return read;
    };
    const reply = await raw.command("c", `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${base})`);
    const about100 = reply.split("\r\n").filter((line) => line.startsWith("* 100 FETCH"));
    // As read, then the later change, before the command completes.
    expect(about100).toEqual([
      expect.stringMatching(/^\* 100 FETCH \(UID 100 FLAGS \(\\Flagged \\Recent\) MODSEQ/),
      `* 100 FETCH (UID 100 FLAGS (\\Flagged $Late \\Recent) MODSEQ (${inbox.get(100)!.modseq}))`,
    ]);
    // One response for each changed message, and the notice for 100.
    expect(reply.match(/^\* \d+ FETCH \(UID \d+ FLAGS/gm)).toHaveLength(451);
    expect(reply).toMatch(/c OK/);
    raw.close();
  });

  it("reports EXPUNGEISSUED for a CHANGEDSINCE FETCH by sequence over a message expunged elsewhere", async () => {
    const { raw, inbox, base } = await condstoreInbox(5);
    inbox.updateFlags([4], "add", ["\\Flagged"]);
    inbox.updateFlags([2], "add", ["\\Deleted"]);
    inbox.expunge();
    const reply = await raw.command("f", `FETCH 1:5 (FLAGS) (CHANGEDSINCE ${base})`);
    expect(reply).toMatch(/\* 4 FETCH \(FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)/);
    expect(reply).toMatch(/f NO \[EXPUNGEISSUED\]/);
    // The UID form names only what exists: no error.
    expect(await raw.command("u", `UID FETCH 1:5 (FLAGS) (CHANGEDSINCE ${base})`)).toMatch(/u OK/);
    raw.close();
  });

  it("reports the MODSEQ that setting \\Seen gave, as an item and implicitly", async () => {
    const { raw, inbox } = await condstoreInbox(2);
    const implicit = await raw.command("f1", "UID FETCH 1 (BODY[HEADER])");
    expect(implicit).toContain(`FLAGS (\\Seen \\Recent) MODSEQ (${inbox.get(1)!.modseq}))`);
    const explicit = await raw.command("f2", "UID FETCH 2 (MODSEQ BODY[TEXT])");
    expect(explicit).toContain(`MODSEQ (${inbox.get(2)!.modseq})`);
    expect(inbox.get(2)!.flags).toContain("\\Seen");
    raw.close();
  });

  it("lists keywords in SELECT as they come and go", async () => {
    const { imap, raw } = await loggedIn();
    const inbox = imap.account.requireMailbox("INBOX");
    for (let n = 1; n <= 3; n++) inbox.add(plainMessage(n));
    const flagsLine = (reply: string) => /\* FLAGS \(([^)]*)\)/.exec(reply)![1]!;
    expect(flagsLine(await raw.command("s1", "SELECT INBOX"))).not.toContain("$Work");
    inbox.updateFlags([2], "add", ["$Work"]);
    expect(flagsLine(await raw.command("s2", "SELECT INBOX"))).toContain("$Work");
    // From another session's STORE too.
    const other = await RawImap.connect(imap.port);
    await other.command("b0", `LOGIN ${ADDRESS} ${imap.token}`);
    await other.command("b1", "SELECT INBOX");
    await other.command("b2", "STORE 3 +FLAGS ($Later)");
    expect(flagsLine(await raw.command("s3", "SELECT INBOX"))).toContain("$Later");
    await other.command("b3", "STORE 2:3 -FLAGS ($Work $Later)");
    const last = flagsLine(await raw.command("s4", "SELECT INBOX"));
    expect(last).not.toContain("$Work");
    expect(last).not.toContain("$Later");
    other.close();
    raw.close();
  });

  it("hands \\Recent to the first session only and finds the first unseen message", async () => {
    const { imap, raw } = await loggedIn();
    const inbox = imap.account.requireMailbox("INBOX");
    for (let n = 1; n <= 50; n++) inbox.add(plainMessage(n));
    inbox.updateFlags(
      Array.from({ length: 30 }, (_, i) => i + 1),
      "add",
      ["\\Seen"],
    );
    const first = await raw.command("s1", "SELECT INBOX");
    expect(first).toContain("* 50 RECENT");
    expect(first).toContain("[UNSEEN 31]");
    const again = await raw.command("s2", "SELECT INBOX");
    expect(again).toContain("* 0 RECENT");
    inbox.add(plainMessage(51));
    expect(await raw.command("n", "NOOP")).toContain("* 1 RECENT");
    inbox.updateFlags(
      Array.from({ length: 51 }, (_, i) => i + 1),
      "add",
      ["\\Seen"],
    );
    expect(await raw.command("s3", "SELECT INBOX")).not.toContain("UNSEEN");
    raw.close();
  });

  it("finds a word in many messages through the full-text index as a scan would", async () => {
    const { imap, raw } = await loggedIn();
    const inbox = imap.account.requireMailbox("INBOX");
    const other = imap.account.createMailbox("Other");
    const expected: number[] = [];
    for (let n = 1; n <= 400; n++) {
      const withWord = n % 3 === 0;
      inbox.add(plainMessage(n, withWord ? "Relayed via MX3.example.net today\r\n" : "nothing here\r\n"));
      if (withWord) expected.push(n);
    }
    // The same word in another mailbox must not leak into INBOX's answer.
    other.add(plainMessage(1000, "mx3.example.net\r\n"));
    await raw.command("s", "SELECT INBOX");
    const text = await raw.command("t", 'UID SEARCH TEXT "mx3.example.net"');
    expect(/\* SEARCH([\d ]*)\r\n/.exec(text)![1]!.trim().split(" ").map(Number)).toEqual(expected);
    const body = await raw.command("b", 'UID SEARCH BODY "MX3.EXAMPLE.NET"');
    expect(/\* SEARCH([\d ]*)\r\n/.exec(body)![1]!.trim().split(" ").map(Number)).toEqual(expected);
    expect(await raw.command("n", 'UID SEARCH TEXT "xylophone"')).toContain("* SEARCH\r\n");
    raw.close();
  });

  it("serves header fields from the sync header, and trace fields and whole headers from the full one", async () => {
    const { imap, raw } = await loggedIn();
    const header =
      "Received: from relay.example (relay.example [192.0.2.7])\r\n\tby mx.example.org; Mon, 1 Jan 2024 00:00:00 +0000\r\n" +
      "From: Relayed <relayed@example.net>\r\n" +
      "DKIM-Signature: v=1; a=rsa-sha256; d=example.net;\r\n        b=QUJD\r\n" +
      "Subject: through relays\r\n" +
      "To: alice@example.org\r\n";
    const message = Buffer.from(`${header}\r\nHello.\r\n`);
    imap.account.requireMailbox("INBOX").add(message);
    await raw.command("s", "SELECT INBOX");

    const synced = await raw.command("h1", "UID FETCH 1 (BODY.PEEK[HEADER.FIELDS (From Subject To)])");
    expect(firstLiteral(synced)).toBe("From: Relayed <relayed@example.net>\r\nSubject: through relays\r\nTo: alice@example.org\r\n\r\n");
    const traced = await raw.command("h2", "UID FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject received DKIM-SIGNATURE)])");
    expect(firstLiteral(traced)).toBe(
      "Received: from relay.example (relay.example [192.0.2.7])\r\n\tby mx.example.org; Mon, 1 Jan 2024 00:00:00 +0000\r\n" +
        "DKIM-Signature: v=1; a=rsa-sha256; d=example.net;\r\n        b=QUJD\r\nSubject: through relays\r\n\r\n",
    );
    const others = await raw.command("h3", "UID FETCH 1 (BODY.PEEK[HEADER.FIELDS.NOT (Subject To)])");
    expect(firstLiteral(others)).toBe(
      "Received: from relay.example (relay.example [192.0.2.7])\r\n\tby mx.example.org; Mon, 1 Jan 2024 00:00:00 +0000\r\n" +
        "From: Relayed <relayed@example.net>\r\nDKIM-Signature: v=1; a=rsa-sha256; d=example.net;\r\n        b=QUJD\r\n\r\n",
    );
    expect(firstLiteral(await raw.command("h4", "UID FETCH 1 (BODY.PEEK[HEADER])"))).toBe(`${header}\r\n`);
    expect(firstLiteral(await raw.command("h5", "UID FETCH 1 (RFC822.HEADER)"))).toBe(`${header}\r\n`);
    raw.close();
  });
});
