// The IMAP server at the protocol level: exact responses over a raw socket.
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
  expect(await raw.command("a0", `LOGIN ${ADDRESS} ${imap.token}`)).toMatch(/a0 OK \[CAPABILITY [^\]]*CONDSTORE/);
  return { imap, raw };
}

describe("IMAP protocol", () => {
  it("advertises its capabilities before and after login", async () => {
    const imap = await startImap();
    stop = imap.stop;
    const raw = await RawImap.connect(imap.port);
    const before = await raw.command("c1", "CAPABILITY");
    expect(before).toMatch(/\* CAPABILITY IMAP4rev1 LITERAL\+ ID ENABLE IDLE NAMESPACE UNSELECT AUTH=PLAIN\r\n/);
    await raw.command("c2", `LOGIN ${ADDRESS} ${imap.token}`);
    const after = await raw.command("c3", "CAPABILITY");
    for (const capability of ["UIDPLUS", "MOVE", "SPECIAL-USE", "CONDSTORE", "QRESYNC", "ESEARCH", "SORT", "THREAD=REFERENCES", "APPENDLIMIT=", "STATUS=SIZE", "IDLE", "NAMESPACE", "ID", "ENABLE", "UNSELECT", "LITERAL+"]) {
      expect(after).toContain(capability);
    }
    expect(after).not.toContain("AUTH=PLAIN");
    raw.close();
  });

  it("refuses a wrong token after a delay and accepts AUTHENTICATE PLAIN", async () => {
    const imap = await startImap();
    stop = imap.stop;
    const raw = await RawImap.connect(imap.port);
    const started = Date.now();
    expect(await raw.command("l1", `LOGIN ${ADDRESS} wrong-token`)).toMatch(/l1 NO \[AUTHENTICATIONFAILED\]/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(await raw.command("l2", `LOGIN bob@example.org ${imap.token}`)).toMatch(/l2 NO \[AUTHENTICATIONFAILED\]/);
    expect(await raw.command("l3", "SELECT INBOX")).toMatch(/l3 BAD SELECT is not allowed before login/);
    raw.write("l4 AUTHENTICATE PLAIN\r\n");
    expect(await raw.readUntil((t) => t.startsWith("+"))).toBe("+ \r\n");
    const plain = Buffer.from(`\0${ADDRESS}\0${imap.token}`).toString("base64");
    raw.write(`${plain}\r\n`);
    expect(await raw.readUntil((t) => /l4 (OK|NO|BAD)/.test(t))).toMatch(/l4 OK/);
    expect(imap.events.filter((e) => e.type === "login-failed")).toHaveLength(2);
    raw.close();
  });

  it("answers malformed commands with BAD and keeps the connection", async () => {
    const { raw } = await loggedIn();
    expect(await raw.command("b1", "FETCH")).toMatch(/b1 BAD/);
    expect(await raw.command("b2", "SELECT")).toMatch(/b2 BAD/);
    expect(await raw.command("b3", "FROBNICATE")).toMatch(/b3 BAD unknown command FROBNICATE/);
    expect(await raw.command("b4", 'LIST "" ("unclosed')).toMatch(/b4 BAD/);
    raw.write("\r\n");
    raw.write("*** garbage\r\n");
    expect(await raw.readUntil((t) => t.includes("BAD"))).toMatch(/BAD/);
    expect(await raw.command("b5", "SELECT INBOX")).toMatch(/b5 BAD FETCH|b5 OK/);
    expect(await raw.command("b6", "FETCH 99 FLAGS")).toMatch(/b6 BAD/);
    expect(await raw.command("b7", "STORE 1 +FLAGS (bad flag(")).toMatch(/b7 BAD/);
    expect(await raw.command("b8", "NOOP")).toMatch(/b8 OK/);
    raw.close();
  });

  it("refuses an oversized APPEND literal with NO [TOOBIG] and stays usable", async () => {
    const { raw } = await loggedIn();
    const reply = await raw.command("t1", "APPEND INBOX {999999999999}");
    expect(reply).toMatch(/t1 NO \[TOOBIG\]/);
    expect(await raw.command("t2", "NOOP")).toMatch(/t2 OK/);
    raw.close();
  });

  it("selects with FLAGS, EXISTS, RECENT, UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ", async () => {
    const { imap, raw } = await loggedIn();
    const inbox = imap.account.requireMailbox("INBOX");
    inbox.add(plainMessage(1), { flags: ["\\Seen", "$Work"] });
    inbox.add(plainMessage(2));
    const reply = await raw.command("s1", "SELECT INBOX");
    expect(reply).toContain("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)\r\n");
    expect(reply).toContain("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work \\*)]");
    expect(reply).toContain("* 2 EXISTS\r\n* 2 RECENT\r\n");
    expect(reply).toContain("* OK [UNSEEN 2]");
    expect(reply).toContain(`* OK [UIDVALIDITY ${inbox.uidValidity}]`);
    expect(reply).toContain("* OK [UIDNEXT 3]");
    expect(reply).toMatch(/s1 OK \[READ-WRITE\]/);
    // \Recent went to the first session; a second one sees none.
    const other = await RawImap.connect(imap.port);
    await other.command("o0", `LOGIN ${ADDRESS} ${imap.token}`);
    expect(await other.command("o1", "EXAMINE INBOX")).toMatch(/\* 0 RECENT[\s\S]*o1 OK \[READ-ONLY\]/);
    expect(await other.command("o2", "STORE 1 +FLAGS (\\Flagged)")).toMatch(/o2 NO \[READ-ONLY\]/);
    other.close();
    raw.close();
  });

  it("fetches sections, partials and structure, and sets \\Seen only without PEEK", async () => {
    const { imap, raw } = await loggedIn();
    const attachment = Buffer.from("attachment bytes ".repeat(20));
    imap.account.requireMailbox("INBOX").add(messageWithAttachment(7, attachment, "a.txt"));
    await raw.command("f0", "SELECT INBOX");
    const peek = await raw.command("f1", "FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject From)] FLAGS)");
    expect(peek).toContain("BODY[HEADER.FIELDS (Subject From)] {52}\r\nFrom: sender7@example.org\r\nSubject: Attachment 7\r\n\r\n");
    expect(peek).not.toContain("\\Seen");
    const partial = await raw.command("f2", "FETCH 1 (BODY.PEEK[]<0.10>)");
    expect(partial).toContain("BODY[]<0> {10}\r\nFrom: send)");
    const mime = await raw.command("f3", "FETCH 1 (BODY.PEEK[2.MIME] BODY.PEEK[1])");
    expect(mime).toContain('Content-Type: application/octet-stream; name="a.txt"');
    expect(mime).toContain("BODY[1] {17}\r\nSee attached (7).");
    const structure = await raw.command("f4", "FETCH 1 (BODYSTRUCTURE)");
    expect(structure).toMatch(/BODYSTRUCTURE \(\("TEXT" "PLAIN"/i);
    const seen = await raw.command("f5", "FETCH 1 (BODY[TEXT])");
    expect(seen).toMatch(/FLAGS \(\\Seen \\Recent\)/);
    expect(imap.account.requireMailbox("INBOX").get(1)!.flags).toEqual(["\\Seen"]);
    // A part that does not exist is empty, as Dovecot answers (imap-rfc-conformance.test.ts, item 12).
    expect(await raw.command("f6", "FETCH 1 (BODY.PEEK[9])")).toContain("BODY[9] {0}\r\n)");
    raw.close();
  });

  it("tells other sessions about new, changed and expunged messages", async () => {
    const { imap, raw } = await loggedIn();
    const inbox = imap.account.requireMailbox("INBOX");
    inbox.add(plainMessage(1));
    inbox.add(plainMessage(2));
    await raw.command("n0", "SELECT INBOX");
    // Changes made through the mail API, as sync and incoming mail make them.
    inbox.add(plainMessage(3));
    inbox.updateFlags([1], "add", ["\\Flagged"]);
    inbox.updateFlags([2], "add", ["\\Deleted"]);
    inbox.expunge();
    // FETCH may not carry EXPUNGE: only the EXISTS and flag change come with it.
    const during = await raw.command("n1", "FETCH 1 (UID)");
    expect(during).toContain("* 3 EXISTS");
    expect(during).not.toContain("EXPUNGE");
    expect(during).toMatch(/\* 1 FETCH \(UID 1 FLAGS \(\\Flagged \\Recent\)\)/);
    const noop = await raw.command("n2", "NOOP");
    expect(noop).toContain("* 2 EXPUNGE\r\n");
    expect(await raw.command("n3", "FETCH 1:* (UID)")).toMatch(/\* 1 FETCH \(UID 1\)\r\n\* 2 FETCH \(UID 3\)\r\n/);
    raw.close();
  });

  it("IDLE reports changes from the mail API and other sessions as they happen", async () => {
    const { imap, raw } = await loggedIn();
    const inbox = imap.account.requireMailbox("INBOX");
    inbox.add(plainMessage(1));
    await raw.command("i0", "SELECT INBOX");
    raw.write("i1 IDLE\r\n");
    expect(await raw.readUntil((t) => t.includes("+ idling"))).toContain("+ idling");
    inbox.add(plainMessage(2));
    expect(await raw.readUntil((t) => t.includes("EXISTS"))).toContain("* 2 EXISTS");
    const client = await imap.client();
    await client.mailboxOpen("INBOX");
    await client.messageFlagsAdd("1", ["\\Deleted"]);
    expect(await raw.readUntil((t) => t.includes("FETCH"))).toMatch(/\* 1 FETCH \(UID 1 FLAGS \(\\Deleted/);
    await client.messageDelete("1");
    expect(await raw.readUntil((t) => t.includes("EXPUNGE"))).toContain("* 1 EXPUNGE");
    raw.write("DONE\r\n");
    expect(await raw.readUntil((t) => t.includes("i1 "))).toContain("i1 OK IDLE terminated");
    raw.close();
  });

  it("conditional STORE reports MODIFIED and FETCH CHANGEDSINCE returns only changes", async () => {
    const { imap, raw } = await loggedIn();
    const inbox = imap.account.requireMailbox("INBOX");
    for (let n = 1; n <= 3; n++) inbox.add(plainMessage(n));
    await raw.command("m0", "SELECT INBOX (CONDSTORE)");
    const base = inbox.highestModseq;
    inbox.updateFlags([2], "add", ["\\Answered"]);
    const store = await raw.command("m1", `STORE 1:3 (UNCHANGEDSINCE ${base}) +FLAGS.SILENT (\\Flagged)`);
    expect(store).toMatch(/m1 OK \[MODIFIED 2\]/);
    expect(store).toMatch(/\* 1 FETCH \(UID 1 FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)/);
    const changed = await raw.command("m2", `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${base})`);
    expect(changed.match(/\* \d+ FETCH/g)).toHaveLength(3);
    const none = await raw.command("m3", `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${inbox.highestModseq})`);
    expect(none).not.toContain("FETCH (");
    raw.close();
  });

  it("QRESYNC resynchronises a reconnecting client in one SELECT", async () => {
    const { imap, raw } = await loggedIn();
    const inbox = imap.account.requireMailbox("INBOX");
    for (let n = 1; n <= 4; n++) inbox.add(plainMessage(n));
    const modseq = inbox.highestModseq;
    inbox.updateFlags([3], "add", ["\\Deleted"]);
    inbox.expunge();
    inbox.updateFlags([1], "add", ["\\Seen"]);
    expect(await raw.command("q0", "ENABLE QRESYNC")).toContain("* ENABLED QRESYNC");
    const reply = await raw.command("q1", `SELECT INBOX (QRESYNC (${inbox.uidValidity} ${modseq} 1:4))`);
    expect(reply).toContain("* VANISHED (EARLIER) 3\r\n");
    expect(reply).toMatch(/\* 1 FETCH \(UID 1 FLAGS \(\\Seen \\Recent\) MODSEQ \(\d+\)\)/);
    await raw.command("q2", "UID STORE 2 +FLAGS.SILENT (\\Deleted)");
    expect(await raw.command("q3", "EXPUNGE")).toContain("* VANISHED 2\r\n");
    raw.close();
  });

  it("copies and moves with COPYUID, expunges by UID, and handles missing targets", async () => {
    const { imap, raw } = await loggedIn();
    const inbox = imap.account.requireMailbox("INBOX");
    for (let n = 1; n <= 3; n++) inbox.add(plainMessage(n));
    await raw.command("x0", "SELECT INBOX");
    const archive = imap.account.requireMailbox("Archive");
    expect(await raw.command("x1", "COPY 1:2 Archive")).toMatch(new RegExp(`x1 OK \\[COPYUID ${archive.uidValidity} 1:2 1:2\\]`));
    expect(await raw.command("x2", "COPY 1 Nowhere")).toMatch(/x2 NO \[TRYCREATE\]/);
    const moved = await raw.command("x3", "UID MOVE 3 Trash");
    expect(moved).toMatch(/\* OK \[COPYUID \d+ 3 1\][^\r]*\r\n\* 3 EXPUNGE\r\nx3 OK/);
    await raw.command("x4", "STORE 1:2 +FLAGS.SILENT (\\Deleted)");
    expect(await raw.command("x5", "UID EXPUNGE 2")).toMatch(/\* 2 EXPUNGE\r\nx5 OK/);
    expect(await raw.command("x6", "CLOSE")).toMatch(/x6 OK/);
    expect(inbox.uids()).toEqual([]);
    expect(archive.uids()).toEqual([1, 2]);
    raw.close();
  });

  it("appends with APPENDUID, dates and flags, and LITERAL+", async () => {
    const { imap, raw } = await loggedIn();
    const message = plainMessage(9);
    raw.write(`p1 APPEND Drafts (\\Draft) "05-Mar-2026 10:20:30 +0100" {${message.length}+}\r\n`);
    raw.write(Buffer.concat([message, Buffer.from("\r\n")]));
    const reply = await raw.command("p2", "NOOP").then((text) => text);
    const drafts = imap.account.requireMailbox("Drafts");
    expect(reply).toMatch(new RegExp(`p1 OK \\[APPENDUID ${drafts.uidValidity} 1\\]`));
    const stored = drafts.get(1)!;
    expect(stored.flags).toEqual(["\\Draft"]);
    expect(stored.internalDate.toISOString()).toBe("2026-03-05T09:20:30.000Z");
    expect(stored.raw().equals(message)).toBe(true);
    expect(await raw.command("p3", "APPEND Nowhere {3+}\r\nabc")).toMatch(/p3 NO \[TRYCREATE\]/);
    expect(await raw.command("p4", 'APPEND Drafts "not a date" {3+}\r\nabc')).toMatch(/p4 BAD/);
    raw.close();
  });

  it("manages mailboxes with modified UTF-7 names, LIST options and STATUS", async () => {
    const { imap, raw } = await loggedIn();
    expect(await raw.command("b1", 'CREATE "Entw&APw-rfe/Alt"')).toMatch(/b1 OK/);
    expect(imap.account.mailbox("Entwürfe/Alt")).toBeDefined();
    expect(await raw.command("b2", 'LIST "" "Entw*"')).toContain('* LIST (\\Noselect \\HasChildren) "/" "Entw&APw-rfe"\r\n* LIST (\\HasNoChildren) "/" "Entw&APw-rfe/Alt"');
    expect(await raw.command("b3", 'LIST (SPECIAL-USE) "" "*"')).toMatch(/\\Sent\) "\/" "Sent"/);
    expect(await raw.command("b4", 'LIST "" "%" RETURN (STATUS (MESSAGES UIDNEXT SIZE))')).toMatch(/\* STATUS "INBOX" \(MESSAGES 0 UIDNEXT 1 SIZE 0\)/);
    expect(await raw.command("b5", 'CREATE INBOX')).toMatch(/b5 NO \[ALREADYEXISTS\]/);
    expect(await raw.command("b6", 'RENAME "Entw&APw-rfe" Old')).toMatch(/b6 NO \[NONEXISTENT\]/);
    expect(await raw.command("b7", 'RENAME "Entw&APw-rfe/Alt" "Old"')).toMatch(/b7 OK/);
    expect(await raw.command("b8", "UNSUBSCRIBE Old")).toMatch(/b8 OK/);
    expect(await raw.command("b9", 'LSUB "" "*"')).not.toContain('"Old"');
    expect(await raw.command("b10", "STATUS Old (MESSAGES UNSEEN HIGHESTMODSEQ UIDVALIDITY)")).toMatch(/\* STATUS "Old" \(MESSAGES 0 UNSEEN 0 HIGHESTMODSEQ \d+ UIDVALIDITY \d+\)/);
    expect(await raw.command("b11", "DELETE Old")).toMatch(/b11 OK/);
    expect(await raw.command("b12", "DELETE INBOX")).toMatch(/b12 NO/);
    expect(await raw.command("b13", "NAMESPACE")).toContain('* NAMESPACE (("" "/")) NIL NIL');
    expect(await raw.command("b14", 'ID ("name" "test")')).toContain('* ID ("name" "Bitmask Mail"');
    raw.close();
  });
});
