import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { Account, MailboxError } from "../../native-host/mail/account";
import { type FlagChange, HAS_KEYWORD, flagsIdFor } from "../../native-host/mail/mail-index";
import { DocumentStore } from "../../native-host/store/document-store";
import { messageWithAttachment, plainMessage } from "../helpers/messages";
import { openTempAccount } from "../helpers/temp-store";

let close = () => {};
afterEach(() => close());

async function setup(): Promise<{ account: Account; store: DocumentStore }> {
  const temp = await openTempAccount();
  close = temp.close;
  return temp;
}

const countDocs = (store: DocumentStore, type: string) =>
  (store.sql.prepare("SELECT count(*) AS n FROM docs WHERE type = ? AND deleted = 0").get(type) as { n: number }).n;

describe("account", () => {
  it("starts with the default mailboxes and their special uses", async () => {
    const { account } = await setup();
    expect(account.list().map((m) => [m.name, m.specialUse])).toEqual([
      ["INBOX", null],
      ["Archive", "\\Archive"],
      ["Drafts", "\\Drafts"],
      ["Junk", "\\Junk"],
      ["Sent", "\\Sent"],
      ["Trash", "\\Trash"],
    ]);
    expect(account.mailbox("inbox")?.name).toBe("INBOX");
  });

  it("creates, renames with inferiors, subscribes and deletes mailboxes", async () => {
    const { account } = await setup();
    const work = account.createMailbox("Work");
    account.createMailbox("Work/2026");
    expect(() => account.createMailbox("Work")).toThrow(MailboxError);
    expect(() => account.createMailbox("a//b")).toThrow(/empty level/);
    expect(() => account.createMailbox("bad*name")).toThrow(/forbidden/);
    work.add(plainMessage(1));
    const validity = work.uidValidity;
    account.renameMailbox("Work", "Job");
    expect(account.mailbox("Job/2026")).toBeDefined();
    expect(account.mailbox("Work")).toBeUndefined();
    expect(account.mailbox("Job")!.uidValidity).toBe(validity);
    expect(account.mailbox("Job")!.counts().messages).toBe(1);
    account.setSubscribed("Job", false);
    expect(account.list().find((m) => m.name === "Job")?.subscribed).toBe(false);
    account.deleteMailbox("Job");
    expect(account.mailbox("Job")).toBeUndefined();
    expect(account.mailbox("Job/2026")).toBeDefined();
    expect(() => account.deleteMailbox("INBOX")).toThrow(MailboxError);
  });

  it("renaming INBOX moves its messages and leaves INBOX empty", async () => {
    const { account } = await setup();
    const inbox = account.requireMailbox("INBOX");
    inbox.add(plainMessage(1));
    inbox.add(plainMessage(2));
    account.renameMailbox("INBOX", "Old");
    expect(inbox.counts().messages).toBe(0);
    expect(account.requireMailbox("Old").counts().messages).toBe(2);
  });
});

describe("mailbox", () => {
  it("adds messages with UIDs, sequence numbers, lookups and byte-exact reads", async () => {
    const { account } = await setup();
    const inbox = account.requireMailbox("INBOX");
    const date = new Date("2026-01-02T03:04:05Z");
    const first = inbox.add(plainMessage(1), { flags: ["\\seen", "$Label1", "\\Recent"], internalDate: date });
    const second = inbox.add(plainMessage(2));
    expect([first.uid, second.uid]).toEqual([1, 2]);
    expect(inbox.uidNext).toBe(3);
    expect(inbox.uids()).toEqual([1, 2]);
    const message = inbox.get(1)!;
    expect(message.flags).toEqual(["\\Seen", "$Label1"]);
    expect(message.internalDate).toEqual(date);
    expect(message.size).toBe(plainMessage(1).length);
    expect(message.raw().equals(plainMessage(1))).toBe(true);
    expect(message.headerText()).toMatch(/^From: Sender 1.*\r\n\r\n$/s);
    expect(inbox.bySequence(2)?.uid).toBe(2);
    expect(inbox.bySequence(3)).toBeUndefined();
    expect(inbox.byMessageId("<msg2@example.org>").map((m) => m.uid)).toEqual([2]);
    expect(inbox.counts()).toEqual({ messages: 2, unseen: 1, recent: 2, deleted: 0, size: plainMessage(1).length + plainMessage(2).length });
    expect(inbox.claimRecent()).toEqual([1, 2]);
    expect(inbox.claimRecent()).toEqual([]);
    expect(inbox.counts().recent).toBe(0);
    inbox.add(plainMessage(3));
    inbox.copy([1], account.requireMailbox("Archive"));
    expect(inbox.counts().recent).toBe(1);
    expect(inbox.claimRecent()).toEqual([3]);
    expect(account.requireMailbox("Archive").claimRecent()).toEqual([1]);
  });

  it("lists the keywords in use through its index, whatever characters a synced flags document holds", async () => {
    const { account, store } = await setup();
    const inbox = account.requireMailbox("INBOX");
    // Flags as another device's documents may bring them: the index must
    // tell keywords from system flags in the JSON text however they are escaped.
    const flagLists = [["\\Seen"], ["$Done", "\\Flagged"], ["\\Seen", 'b,"c'], ['"quoted'], ["\u0001ctl"], ["\\Draft", "[x", "é"], []];
    flagLists.forEach((flags, i) => {
      const uid = inbox.add(plainMessage(i + 1)).uid;
      const { msgHash, metaId } = inbox.get(uid)!;
      store.put("flags", flagsIdFor(metaId), { mailbox: inbox.id, msgHash, flags, internalDate: 0 });
    });
    const expected = [...new Set(flagLists.flat().filter((flag) => !flag.startsWith("\\")))].sort();
    expect(inbox.keywords()).toEqual(expected);
    const keyworded = store.sql.prepare("SELECT count(*) AS n FROM mail_messages INDEXED BY mail_messages_keyworded WHERE mailbox_id = ? AND " + HAS_KEYWORD);
    expect((keyworded.get(inbox.id) as { n: number }).n).toBe(flagLists.filter((flags) => flags.some((flag) => !flag.startsWith("\\"))).length);
  });

  it("keeps \\Recent across the change from a column per message to one mark per mailbox", async () => {
    const temp = await openTempAccount();
    close = temp.close;
    const inbox = temp.account.requireMailbox("INBOX");
    for (let i = 1; i <= 4; i++) inbox.add(plainMessage(i));
    inbox.claimRecent();
    inbox.add(plainMessage(5));
    inbox.add(plainMessage(6));
    // What a store of the earlier version held: a recent column and its index, no mark.
    temp.store.sql.exec(`
      ALTER TABLE mail_messages ADD COLUMN recent INTEGER NOT NULL DEFAULT 0;
      UPDATE mail_messages SET recent = uid > 4;
      CREATE INDEX mail_messages_recent ON mail_messages (mailbox_id, uid) WHERE recent = 1;
      ALTER TABLE mail_mailboxes DROP COLUMN recent_after;
    `);
    temp.store.close();
    const store = await DocumentStore.open(temp.file, temp.secret);
    close = () => {
      store.close();
      temp.close();
    };
    const reopened = Account.open(store).requireMailbox("INBOX");
    expect(reopened.counts().recent).toBe(2);
    expect(reopened.claimRecent()).toEqual([5, 6]);
    expect(store.sql.prepare("SELECT 1 FROM pragma_table_info('mail_messages') WHERE name = 'recent'").get()).toBeUndefined();
  });

  it("sets, adds and removes flags with MODSEQ increments and UNCHANGEDSINCE", async () => {
    const { account } = await setup();
    const inbox = account.requireMailbox("INBOX");
    inbox.add(plainMessage(1));
    inbox.add(plainMessage(2));
    const start = inbox.highestModseq;
    const added = inbox.updateFlags([1, 2], "add", ["\\Flagged", "work"]);
    expect(added.updated.map((u) => u.flags)).toEqual([["\\Flagged", "work"], ["\\Flagged", "work"]]);
    expect(added.updated[0]!.modseq).toBeGreaterThan(start);
    expect(inbox.highestModseq).toBe(added.updated[1]!.modseq);
    expect(inbox.updateFlags([1], "add", ["\\FLAGGED"]).updated).toEqual([]);
    expect(inbox.updateFlags([1], "remove", ["work"]).updated[0]!.flags).toEqual(["\\Flagged"]);
    expect(inbox.updateFlags([2], "set", ["\\Answered"]).updated[0]!.flags).toEqual(["\\Answered"]);
    expect(() => inbox.updateFlags([1], "add", ["bad flag"])).toThrow(/invalid flag/);

    const since = inbox.get(1)!.modseq;
    const conditional = inbox.updateFlags([1, 2], "add", ["\\Seen"], since);
    expect(conditional.modified).toEqual([2]);
    expect(conditional.updated.map((u) => u.uid)).toEqual([1]);
    expect(inbox.changesSince(since).changed.map((c) => c.uid)).toEqual([1, 2]);
    expect(inbox.changesSince(inbox.highestModseq).changed).toEqual([]);
  });

  it("copies with two small documents, moves, and expunges with QRESYNC history", async () => {
    const { account, store } = await setup();
    const inbox = account.requireMailbox("INBOX");
    const archive = account.requireMailbox("Archive");
    const trash = account.requireMailbox("Trash");
    inbox.add(messageWithAttachment(1, randomBytes(5000)), { flags: ["\\Seen"] });
    inbox.add(plainMessage(2));
    const docsBefore = store.generation();
    const contentBefore = countDocs(store, "content");
    expect(inbox.copy([1, 2, 99], archive)).toEqual([
      { from: 1, to: 1 },
      { from: 2, to: 2 },
    ]);
    expect(store.generation() - docsBefore).toBe(4);
    expect(countDocs(store, "content")).toBe(contentBefore);
    expect(archive.get(1)!.flags).toEqual(["\\Seen"]);
    expect(archive.get(1)!.raw().equals(inbox.get(1)!.raw())).toBe(true);
    // A second copy is a second message (RFC 3501 6.4.7 copies "to the end of the specified destination mailbox").
    expect(inbox.copy([1], archive)).toEqual([{ from: 1, to: 3 }]);

    const modseq = inbox.highestModseq;
    expect(inbox.move([2], trash)).toEqual([{ from: 2, to: 1 }]);
    expect(inbox.uids()).toEqual([1]);
    expect(inbox.changesSince(modseq).expunged).toEqual([2]);

    inbox.add(plainMessage(3));
    inbox.updateFlags([1, 3], "add", ["\\Deleted"]);
    expect(inbox.expunge([3])).toEqual([3]);
    expect(inbox.expunge()).toEqual([1]);
    expect(inbox.counts().messages).toBe(0);
    expect(inbox.uidNext).toBe(4);
    expect(inbox.changesSince(modseq).expunged).toEqual([1, 2, 3]);
  });

  it("stores a shared attachment once and frees parts with the last reference", async () => {
    const { account, store } = await setup();
    const inbox = account.requireMailbox("INBOX");
    const attachment = randomBytes(20_000);
    inbox.add(messageWithAttachment(1, attachment, "a.bin"));
    const afterOne = countDocs(store, "content");
    inbox.add(messageWithAttachment(2, attachment, "a.bin"));
    // The second message adds only its own text part, not the attachment again.
    expect(countDocs(store, "content")).toBe(afterOne + 1);
    const encoded = attachment.toString("base64");
    const holding = store.sql.prepare("SELECT count(*) AS n FROM docs WHERE type = 'content' AND deleted = 0 AND instr(body, ?) > 0");
    expect((holding.get(Buffer.from(encoded.slice(0, 64))) as { n: number }).n).toBe(1);

    inbox.updateFlags([1], "add", ["\\Deleted"]);
    inbox.expunge();
    expect((holding.get(Buffer.from(encoded.slice(0, 64))) as { n: number }).n).toBe(1);
    expect(countDocs(store, "header")).toBe(1);
    inbox.updateFlags([2], "add", ["\\Deleted"]);
    inbox.expunge();
    expect(countDocs(store, "content")).toBe(0);
    expect(countDocs(store, "header")).toBe(0);
    expect(countDocs(store, "meta") + countDocs(store, "flags")).toBe(0);
  });

  it("notifies listeners of new, changed and expunged messages after commit", async () => {
    const { account } = await setup();
    const inbox = account.requireMailbox("INBOX");
    const seen: string[] = [];
    inbox.events.on("new", (uids) => seen.push(`new ${uids.join(",")}`));
    inbox.events.on("changed", (changes: FlagChange[]) => seen.push(`changed ${changes.map((c) => `${c.uid}:${c.flags.join("+")}`).join(",")}`));
    inbox.events.on("expunged", (uids) => seen.push(`expunged ${uids.join(",")}`));
    inbox.add(plainMessage(1));
    account.store.transaction(() => {
      inbox.add(plainMessage(2));
      inbox.add(plainMessage(3));
      expect(seen).toEqual(["new 1"]);
    });
    inbox.updateFlags([1, 2], "add", ["\\Deleted"]);
    inbox.expunge();
    // A rolled-back transaction announces nothing.
    expect(() =>
      account.store.transaction(() => {
        inbox.add(plainMessage(4));
        throw new Error("abort");
      }),
    ).toThrow("abort");
    // A view opened later shares the same listeners.
    account.requireMailbox("inbox").updateFlags([3], "set", ["\\Seen"]);
    expect(seen).toEqual(["new 1", "new 2,3", "changed 1:\\Deleted,2:\\Deleted", "expunged 1,2", "changed 3:\\Seen"]);
  });
});
