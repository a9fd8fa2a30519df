// The header table (mail_sync_headers): the top-level header without its
// trace fields, which every header sync reads, derived from the header
// documents. For every message it must give the same HEADER.FIELDS answers
// as the full header for any names but trace fields, follow adds, copies,
// expunges and late header documents, and be rebuilt for a store written
// before it. The full header (BODY[HEADER]) stays exact.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { headerFieldBlocks, selectFields } from "../../native-host/imap/fetch/section";
import { Account } from "../../native-host/mail/account";
import { flagsIdFor, headerIdFor, newMetaId } from "../../native-host/mail/mail-index";
import type { Mailbox } from "../../native-host/mail/mailbox";
import type { Message } from "../../native-host/mail/message";
import { splitMessage } from "../../native-host/mail/mime-split";
import { isTraceField, syncHeader } from "../../native-host/mail/sync-header";
import { DocumentStore } from "../../native-host/store/document-store";
import { corpusEntries, readCorpusMessage } from "../helpers/corpus";
import { plainMessage } from "../helpers/messages";
import { openTempAccount } from "../helpers/temp-store";

let close = () => {};
afterEach(() => close());

const headerRows = (store: DocumentStore) =>
  (store.sql.prepare("SELECT count(*) AS n FROM mail_sync_headers").get() as { n: number }).n;

/** The header block as the full message has it: its bytes up to and including the blank line. */
function fullHeader(message: Message): Buffer {
  const raw = message.raw();
  return raw.subarray(0, message.mime().header.length);
}

function addCorpus(inbox: Mailbox): { uid: number; raw: Buffer; path: string }[] {
  return corpusEntries().map((entry) => {
    const raw = readCorpusMessage(entry);
    return { uid: inbox.add(raw).uid, raw, path: entry.path };
  });
}

const THUNDERBIRD = ["From", "To", "Cc", "Subject", "Date", "Message-ID", "References", "In-Reply-To", "Content-Type"];
const MUTT = ["DATE", "FROM", "SENDER", "SUBJECT", "TO", "CC", "MESSAGE-ID", "REFERENCES", "CONTENT-TYPE", "CONTENT-DESCRIPTION",
  "IN-REPLY-TO", "REPLY-TO", "LINES", "LIST-POST", "LIST-SUBSCRIBE", "LIST-UNSUBSCRIBE", "X-LABEL", "X-ORIGINAL-TO"];

/** The full top header equals the message's header bytes however it is
 * read, and the sync header, however read, answers as the full one would. */
function expectHeadersExact(inbox: Mailbox, added: { uid: number; raw: Buffer; path: string }[]): void {
  const batched = new Map(inbox.messages(added.map((a) => a.uid).sort((a, b) => a - b), { headers: true }).map((m) => [m.uid, m]));
  for (const { uid, raw, path } of added) {
    const header = splitMessage(raw).root.header;
    const expected = Buffer.from(header, "latin1");
    expect(raw.subarray(0, expected.length).equals(expected), path).toBe(true);
    expect(Buffer.from(inbox.get(uid)!.headerText(), "latin1").equals(expected), path).toBe(true);
    expect(fullHeader(inbox.get(uid)!).equals(expected), path).toBe(true);
    for (const message of [inbox.get(uid)!, batched.get(uid)!]) {
      expect(message.syncHeader(), path).toBe(syncHeader(header));
      for (const names of [THUNDERBIRD, MUTT]) expect(selectFields(message.syncHeader(), names, false), path).toBe(selectFields(header, names, false));
    }
  }
}

describe("header table", () => {
  it("holds the exact top-level header of every corpus message", async () => {
    const temp = await openTempAccount();
    close = temp.close;
    const inbox = temp.account.mailbox("INBOX")!;
    const added = addCorpus(inbox);
    expect(added.length).toBeGreaterThan(10);
    expect(headerRows(temp.store)).toBe(inbox.uids().length);
    expectHeadersExact(inbox, added);
  });

  it("follows copies, expunges, mailbox deletion and a header document that arrives after its message", async () => {
    const temp = await openTempAccount();
    close = temp.close;
    const { account, store } = temp;
    const inbox = account.mailbox("INBOX")!;
    const work = account.createMailbox("Work");
    const a = inbox.add(plainMessage(1)).uid;
    const b = inbox.add(plainMessage(2)).uid;
    inbox.copy([a, b], work);
    expect(headerRows(store)).toBe(4);
    inbox.updateFlags([a], "add", ["\\Deleted"]);
    inbox.expunge();
    expect(headerRows(store)).toBe(3);
    expect(work.range(1, 2, { headers: true }).map((m) => m.syncHeader())).toEqual(
      work.range(1, 2).map((m) => syncHeader(m.mime().header)),
    );
    account.deleteMailbox("Work");
    expect(headerRows(store)).toBe(1);

    // Sync may deliver the meta document before the header it points at.
    const split = splitMessage(plainMessage(3));
    const metaId = newMetaId(inbox.id, split.msgHash);
    store.transaction(() => {
      for (const [hash, bytes] of split.leaves) store.put("content", `C-${hash}`, bytes);
      store.put("flags", flagsIdFor(metaId), { mailbox: inbox.id, msgHash: split.msgHash, flags: [], internalDate: 0 });
      store.put("meta", metaId, {
        mailbox: inbox.id,
        msgHash: split.msgHash,
        flags: flagsIdFor(metaId),
        header: headerIdFor(split.msgHash),
        contents: [...split.leaves.keys()].map((hash) => `C-${hash}`),
      });
    });
    const late = inbox.uids().at(-1)!;
    expect(headerRows(store)).toBe(1);
    store.put("header", headerIdFor(split.msgHash), { size: split.size, messageId: split.messageId, root: split.root });
    expect(headerRows(store)).toBe(2);
    expect(inbox.get(late)!.headerText()).toBe(split.root.header);
    expect(inbox.messages([b, late], { headers: true }).map((m) => m.syncHeader())).toEqual([
      syncHeader(inbox.get(b)!.mime().header),
      syncHeader(split.root.header),
    ]);
  });

  it("is rebuilt for a store written before it existed", async () => {
    const temp = await openTempAccount();
    close = temp.close;
    const inbox = temp.account.mailbox("INBOX")!;
    const added = addCorpus(inbox);
    inbox.copy(
      added.slice(0, 3).map((a) => a.uid),
      temp.account.mailbox("Archive")!,
    );
    const rows = headerRows(temp.store);
    expect(rows).toBe(inbox.uids().length + 3);
    // What a store of an earlier version holds: no header table and no record
    // of it, the header table's first form (BLOBs under another name) or its
    // second (whole headers, recorded as built).
    temp.store.sql.exec(`DROP TABLE mail_sync_headers; DELETE FROM mail_derived;
      CREATE TABLE mail_headers (mailbox_id TEXT NOT NULL, uid INTEGER NOT NULL, header BLOB NOT NULL, PRIMARY KEY (mailbox_id, uid));
      INSERT INTO mail_headers SELECT mailbox_id, uid, x'00' FROM mail_messages;
      CREATE TABLE mail_top_headers (mailbox_id TEXT NOT NULL, uid INTEGER NOT NULL, header TEXT NOT NULL, PRIMARY KEY (mailbox_id, uid));
      INSERT INTO mail_top_headers SELECT mailbox_id, uid, 'x' FROM mail_messages;
      INSERT INTO mail_derived (name) VALUES ('mail_top_headers')`);
    temp.store.close();

    const store = await DocumentStore.open(temp.file, temp.secret);
    close = () => {
      store.close();
      temp.close();
    };
    const account = Account.open(store);
    expect(headerRows(store)).toBe(rows);
    for (const old of ["mail_headers", "mail_top_headers"]) {
      expect(store.sql.prepare("SELECT name FROM sqlite_master WHERE name = ?").get(old)).toBeUndefined();
    }
    expectHeadersExact(account.mailbox("INBOX")!, added);
    const archive = account.mailbox("Archive")!;
    for (const message of archive.range(1, 3, { headers: true })) expect(message.syncHeader()).toBe(syncHeader(message.mime().header));
  });
});

describe("sync header", () => {
  const RELAYED =
    "Received: from a.example (a.example [192.0.2.1])\r\n\tby mx.example.org; Mon, 1 Jan 2024 00:00:00 +0000\r\n" +
    "From: A <a@example.net>\r\n" +
    "DKIM-Signature: v=1; a=rsa-sha256; d=example.net;\r\n        b=AAAA\r\n        BBBB\r\n" +
    "Subject: relayed\r\n" +
    "ARC-Seal: i=1; cv=none\r\n" +
    "X-MS-Exchange-Organization-SCL: 1\r\n" +
    "received : from b.example\r\n" +
    "Autocrypt: addr=a@example.net; keydata=\r\n xsBNBF\r\n" +
    "To: B <b@example.org>\r\n" +
    "\r\n";

  it("leaves out whole trace fields, keeping every other byte in order", () => {
    expect(syncHeader(RELAYED)).toBe("From: A <a@example.net>\r\nSubject: relayed\r\nTo: B <b@example.org>\r\n\r\n");
    expect(syncHeader("From: a\r\nSubject: b\r\n\r\n")).toBe("From: a\r\nSubject: b\r\n\r\n");
    expect(syncHeader("Received: x\r\n\r\n")).toBe("\r\n");
  });

  it("shrinks the corpus's relayed headers and answers every non-trace HEADER.FIELDS as the full header does", () => {
    let full = 0;
    let kept = 0;
    for (const entry of corpusEntries()) {
      const header = splitMessage(readCorpusMessage(entry)).root.header;
      const sync = syncHeader(header);
      full += header.length;
      kept += sync.length;
      expect(headerFieldBlocks(sync).filter((field) => isTraceField(field.name)), entry.path).toEqual([]);
      for (const names of [THUNDERBIRD, MUTT, ["subject"], ["list-id", "x-spam-status"], []]) {
        expect(selectFields(sync, names, false), entry.path).toBe(selectFields(header, names, false));
      }
    }
    expect(kept).toBeLessThan(full);
  });

  it("answers as the full header on arbitrary header text", () => {
    const piece = fc.constantFrom("\r\n", "\n", " ", "\t", ":", "a", "Subject", "to", "Received", "DKIM-Signature", "x-ms-exchange-y", " x", "\r", "\u00a0", "É");
    const header = fc.array(piece, { maxLength: 40 }).map((parts) => parts.join(""));
    const names = fc.subarray(["subject", "To", "a", "x", "É", "x-ms-exchange", "received-x"]);
    fc.assert(
      fc.property(header, names, (text, wanted) => {
        expect(selectFields(syncHeader(text), wanted, false)).toBe(selectFields(text, wanted, false));
      }),
      { numRuns: 3000 },
    );
  });
});

describe("HEADER.FIELDS selection", () => {
  /** What selectFields returned before its one-pass rewrite. */
  function reference(header: string, names: readonly string[], exclude: boolean): string {
    const wanted = new Set(names.map((name) => name.toLowerCase()));
    const kept = headerFieldBlocks(header).filter((field) => field.name !== "" && wanted.has(field.name) !== exclude);
    const text = kept.map((field) => (field.raw.endsWith("\n") ? field.raw : field.raw + "\r\n")).join("");
    return text + "\r\n";
  }
  it("equals the field-block cut on every corpus header", () => {
    for (const entry of corpusEntries()) {
      const header = splitMessage(readCorpusMessage(entry)).root.header;
      for (const exclude of [false, true]) {
        for (const names of [THUNDERBIRD, ["subject"], ["X-None"], []]) {
          expect(selectFields(header, names, exclude), entry.path).toBe(reference(header, names, exclude));
        }
      }
    }
  });

  it("equals the field-block cut on arbitrary header text", () => {
    const piece = fc.constantFrom("\r\n", "\n", " ", "\t", ":", "a", "B", "Subject", "to", " x", "\r", "\u00a0", "é", "É", "×", "\u00f7", "\v");
    const header = fc.array(piece, { maxLength: 40 }).map((parts) => parts.join(""));
    const names = fc.subarray(["subject", "To", "a", "b", "X", "é", "É", "×", "\u00f7", "To"]);
    fc.assert(
      fc.property(header, names, fc.boolean(), (text, wanted, exclude) => {
        expect(selectFields(text, wanted, exclude)).toBe(reference(text, wanted, exclude));
      }),
      { numRuns: 2000 },
    );
  });
});
