// The local, derived side of the mail model: per-device UIDs, MODSEQs, flags,
// counts and part references, kept in the same transaction as the documents
// by a store apply hook. Whatever writes a document (the mail API, sync,
// incoming) goes through the same path, so listeners hear about every change.
import { EventEmitter } from "node:events";
import { createHash, randomBytes } from "node:crypto";
import type { Doc, FlagsContent, HeaderContent, MetaContent } from "../../shared/documents";
import type { DocChange, DocumentStore, SqlDatabase } from "../store/document-store";
import { hasFlag } from "./flags";
import { syncHeader } from "./sync-header";

export type MessageRow = {
  mailbox_id: string;
  uid: number;
  meta_id: string;
  msg_hash: string;
  flags: string;
  seen: number;
  deleted: number;
  internal_date: number;
  size: number;
  message_id: string | null;
  modseq: number;
};

/** What names a message's content, for the Message that reads it; metaId
 * names its meta document (its flags document is flagsIdFor(metaId)). */
export type MessageIdentity = { metaId: string; msgHash: string; messageId: string | null };

export type FlagChange = { uid: number; flags: string[]; modseq: number };

/** Events per mailbox id, delivered after the transaction commits. */
export type MailboxEvents = {
  new: [uids: number[]];
  changed: [changes: FlagChange[]];
  expunged: [uids: number[]];
};

/** Whether a flags column (a JSON array) holds a keyword: see the index below. */
export const HAS_KEYWORD = `(flags GLOB '*[[,]"[^\\]*' OR flags GLOB '*[[,]"\\[^\\]*')`;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS mail_mailboxes (
    mailbox_id TEXT PRIMARY KEY,
    uid_next INTEGER NOT NULL DEFAULT 1,
    highest_modseq INTEGER NOT NULL DEFAULT 1,
    -- Messages with higher UIDs are \Recent: no session has selected the
    -- mailbox since they came (UIDs only grow, so one number says it, as in
    -- Dovecot's index; a claim is one small write, not one per message).
    recent_after INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE IF NOT EXISTS mail_messages (
    mailbox_id TEXT NOT NULL,
    uid INTEGER NOT NULL,
    meta_id TEXT NOT NULL UNIQUE,
    msg_hash TEXT NOT NULL,
    flags TEXT NOT NULL,
    seen INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    internal_date INTEGER NOT NULL,
    size INTEGER NOT NULL,
    message_id TEXT,
    modseq INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS mail_messages_by_hash ON mail_messages (msg_hash);
  CREATE INDEX IF NOT EXISTS mail_messages_by_message_id ON mail_messages (mailbox_id, message_id);
  -- CHANGEDSINCE and QRESYNC read the messages changed after a MODSEQ, and
  -- Message's columns, from this index alone: the few changed rows lie
  -- scattered over the table. (Its first form held the MODSEQ alone.)
  DROP INDEX IF EXISTS mail_messages_by_modseq;
  CREATE INDEX IF NOT EXISTS mail_messages_changes ON mail_messages (mailbox_id, modseq, flags, internal_date, size);
  -- SELECT lists every UID: read from this index, a few pages, rather than
  -- from the table, where the rows are wide and each page must be decrypted.
  CREATE INDEX IF NOT EXISTS mail_messages_uids ON mail_messages (mailbox_id, uid);
  -- SELECT also lists the keywords in use: only messages with one are in
  -- this index. flags is a JSON array of strings; an element that does not
  -- start with an escaped backslash (a system flag) is a keyword, and since
  -- quotes inside strings are escaped, [" or ," begins an element.
  CREATE INDEX IF NOT EXISTS mail_messages_keyworded ON mail_messages (mailbox_id, flags)
    WHERE ${HAS_KEYWORD};
  -- Every SELECT asks for the first unseen message: this partial index holds
  -- just the unseen rows, so it does not read every message (in a big
  -- mailbox nearly all are seen).
  CREATE INDEX IF NOT EXISTS mail_messages_unseen ON mail_messages (mailbox_id, uid) WHERE seen = 0;
  CREATE TABLE IF NOT EXISTS mail_expunged (
    mailbox_id TEXT NOT NULL,
    uid INTEGER NOT NULL,
    modseq INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS mail_part_refs (
    part_id TEXT NOT NULL,
    meta_id TEXT NOT NULL,
    PRIMARY KEY (part_id, meta_id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS mail_part_refs_by_meta ON mail_part_refs (meta_id);
`;

/** Stores from before recent_after kept \Recent as a column per message:
 * the mailbox's mark becomes the highest UID some session had claimed, and
 * the column and its index go. */
function migrateRecentFlags(sql: SqlDatabase): void {
  const hasColumn = (table: string, column: string) =>
    sql.prepare("SELECT 1 FROM pragma_table_info(?) WHERE name = ?").get(table, column) !== undefined;
  if (!hasColumn("mail_messages", "recent")) return;
  sql.transaction(() => {
    sql.exec(`
      ALTER TABLE mail_mailboxes ADD COLUMN recent_after INTEGER NOT NULL DEFAULT 0;
      UPDATE mail_mailboxes SET recent_after = coalesce(
        (SELECT max(uid) FROM mail_messages m WHERE m.mailbox_id = mail_mailboxes.mailbox_id AND m.recent = 0), 0);
      DROP INDEX IF EXISTS mail_messages_recent;
      ALTER TABLE mail_messages DROP COLUMN recent;
    `);
  })();
}

/** The top-level header block of every message without its trace fields
 * (see sync-header.ts), for the header sync every client runs: read from the
 * header documents, each message costs a random page of the big document
 * table (they lie between the content documents) and a decode of its whole
 * MIME tree. Here the rows are small and written in arrival order, so
 * consecutive UIDs share pages. A rowid table, so that a header of a few KB
 * stays in its row (a WITHOUT ROWID row spills past about 1 KB), keyed like
 * mail_messages; a copy holds its own row. The header is kept as TEXT, one
 * character per byte (latin1), which is lossless and reads back as a string
 * at half the cost of a Buffer per row. Its earlier forms are dropped (a
 * BLOB, then the whole header): stores that had them fill this one once. */
const HEADERS_TABLE = "mail_sync_headers";
const HEADERS_SCHEMA = `
  DROP TABLE IF EXISTS mail_headers;
  DROP TABLE IF EXISTS mail_top_headers;
  CREATE TABLE IF NOT EXISTS ${HEADERS_TABLE} (
    mailbox_id TEXT NOT NULL,
    uid INTEGER NOT NULL,
    header TEXT NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
  );
  -- Derived tables added to existing stores, by name, once filled from the documents.
  CREATE TABLE IF NOT EXISTS mail_derived (name TEXT PRIMARY KEY) WITHOUT ROWID;
`;

export const flagsIdFor = (metaId: string) => "F" + metaId.slice(1);
/** A new message's meta id, its own: the same bytes added twice are two
 * messages (RFC 3501 6.3.11, "appends the literal argument as a new
 * message"), while their header and content documents stay shared. With a
 * key (see AddOptions), the id is that of the key and the bytes, so two
 * devices that add the same message under one key make one document.
 * Stores of earlier versions named messages `M-{mailbox}-{msgHash}` (64 hex
 * digits, never 32 as here): those ids stay as they are, since nothing reads
 * meaning from a meta id but flagsIdFor, which takes either form. */
export function newMetaId(mailboxId: string, msgHash: string, key?: string): string {
  const unique = key === undefined ? randomBytes(16).toString("hex") : createHash("sha256").update(`${key}\n${msgHash}`).digest("hex").slice(0, 32);
  return `M-${mailboxId}-${unique}`;
}
export const headerIdFor = (msgHash: string) => `H-${msgHash}`;
export const contentIdFor = (leafHash: string) => `C-${leafHash}`;

type PendingEvents = { new: number[]; changed: Map<number, FlagChange>; expunged: number[] };

export class MailIndex {
  private readonly emitters = new Map<string, EventEmitter<MailboxEvents>>();
  private pending: { transaction: number; events: Map<string, PendingEvents> } | null = null;
  private readonly q;

  constructor(private readonly store: DocumentStore) {
    const sql = store.sql;
    migrateRecentFlags(sql);
    sql.exec(SCHEMA);
    sql.exec(HEADERS_SCHEMA);
    this.q = {
      ensureMailbox: sql.prepare("INSERT OR IGNORE INTO mail_mailboxes (mailbox_id) VALUES (?)"),
      dropMailbox: sql.prepare("DELETE FROM mail_mailboxes WHERE mailbox_id = ?"),
      dropMessages: sql.prepare("DELETE FROM mail_messages WHERE mailbox_id = ?"),
      dropExpunged: sql.prepare("DELETE FROM mail_expunged WHERE mailbox_id = ?"),
      dropHeaders: sql.prepare(`DELETE FROM ${HEADERS_TABLE} WHERE mailbox_id = ?`),
      putHeader: sql.prepare(`INSERT OR REPLACE INTO ${HEADERS_TABLE} (mailbox_id, uid, header) VALUES (?, ?, ?)`),
      deleteHeader: sql.prepare(`DELETE FROM ${HEADERS_TABLE} WHERE mailbox_id = ? AND uid = ?`),
      fillHeaders: sql.prepare(
        `INSERT OR REPLACE INTO ${HEADERS_TABLE} (mailbox_id, uid, header)
         SELECT mailbox_id, uid, @header FROM mail_messages WHERE msg_hash = @msg_hash ORDER BY mailbox_id, uid`,
      ),
      forgetHeaders: sql.prepare(
        `DELETE FROM ${HEADERS_TABLE} WHERE (mailbox_id, uid) IN (SELECT mailbox_id, uid FROM mail_messages WHERE msg_hash = ?)`,
      ),
      identity: sql.prepare<[string, number], MessageIdentity>(
        "SELECT meta_id AS metaId, msg_hash AS msgHash, message_id AS messageId FROM mail_messages WHERE mailbox_id = ? AND uid = ?",
      ),
      syncHeader: sql.prepare<[string, number], { header: string }>(
        `SELECT header FROM ${HEADERS_TABLE} WHERE mailbox_id = ? AND uid = ?`,
      ),
      isBuilt: sql.prepare<[string], { name: string }>("SELECT name FROM mail_derived WHERE name = ?"),
      markBuilt: sql.prepare("INSERT OR IGNORE INTO mail_derived (name) VALUES (?)"),
      allMessages: sql.prepare<[], { mailbox_id: string; uid: number; msg_hash: string }>(
        "SELECT mailbox_id, uid, msg_hash FROM mail_messages ORDER BY mailbox_id, uid",
      ),
      takeUid: sql.prepare<[string], { uid: number; modseq: number }>(
        `UPDATE mail_mailboxes SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1
         WHERE mailbox_id = ? RETURNING uid_next - 1 AS uid, highest_modseq AS modseq`,
      ),
      nextModseq: sql.prepare<[string], { modseq: number }>(
        "UPDATE mail_mailboxes SET highest_modseq = highest_modseq + 1 WHERE mailbox_id = ? RETURNING highest_modseq AS modseq",
      ),
      insertMessage: sql.prepare(
        `INSERT INTO mail_messages (mailbox_id, uid, meta_id, msg_hash, flags, seen, deleted, internal_date, size, message_id, modseq)
         VALUES (@mailbox_id, @uid, @meta_id, @msg_hash, @flags, @seen, @deleted, @internal_date, @size, @message_id, @modseq)`,
      ),
      byMetaId: sql.prepare<[string], MessageRow>("SELECT * FROM mail_messages WHERE meta_id = ?"),
      deleteMessage: sql.prepare("DELETE FROM mail_messages WHERE meta_id = ?"),
      recordExpunge: sql.prepare("INSERT OR REPLACE INTO mail_expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)"),
      updateFlags: sql.prepare(
        "UPDATE mail_messages SET flags = @flags, seen = @seen, deleted = @deleted, internal_date = @internal_date, modseq = @modseq WHERE meta_id = @meta_id",
      ),
      fillHeader: sql.prepare("UPDATE mail_messages SET size = ?, message_id = ? WHERE msg_hash = ?"),
      addRef: sql.prepare("INSERT OR IGNORE INTO mail_part_refs (part_id, meta_id) VALUES (?, ?)"),
      refsOfMeta: sql.prepare<[string], { part_id: string }>("SELECT part_id FROM mail_part_refs WHERE meta_id = ?"),
      dropRefs: sql.prepare("DELETE FROM mail_part_refs WHERE meta_id = ?"),
      refCount: sql.prepare<[string], { n: number }>("SELECT count(*) AS n FROM mail_part_refs WHERE part_id = ?"),
    };
    store.onApply((change) => this.apply(change));
    // A store written before the header table existed has it filled once.
    if (!this.q.isBuilt.get(HEADERS_TABLE)) this.rebuildHeaders();
  }

  identity(mailboxId: string, uid: number): MessageIdentity | undefined {
    return this.q.identity.get(mailboxId, uid);
  }

  /** A message's sync header (with its blank line) as latin1 text, or
   * undefined when its header document has not arrived. */
  syncHeader(mailboxId: string, uid: number): string | undefined {
    return this.q.syncHeader.get(mailboxId, uid)?.header;
  }

  /** Fills the header table again from the header documents. */
  rebuildHeaders(): void {
    this.store.transaction(() => {
      this.store.sql.exec(`DELETE FROM ${HEADERS_TABLE}`);
      for (const row of this.q.allMessages.all()) {
        const header = this.store.get(headerIdFor(row.msg_hash), "header")?.content;
        if (header) this.q.putHeader.run(row.mailbox_id, row.uid, syncHeader(header.root.header));
      }
      this.q.markBuilt.run(HEADERS_TABLE);
    });
  }

  /** The event emitter of one mailbox; every Mailbox view of it shares this. */
  events(mailboxId: string): EventEmitter<MailboxEvents> {
    let emitter = this.emitters.get(mailboxId);
    if (!emitter) {
      emitter = new EventEmitter<MailboxEvents>();
      emitter.setMaxListeners(0);
      this.emitters.set(mailboxId, emitter);
    }
    return emitter;
  }

  private apply({ doc, previous }: DocChange): void {
    switch (doc.type) {
      case "mailbox":
        if (doc.content) this.q.ensureMailbox.run(doc.id);
        else this.dropMailbox(doc.id);
        return;
      case "meta":
        if (doc.content && !previous) this.addMessage(doc as Doc<"meta">);
        else if (!doc.content && previous) this.removeMessage(doc.id);
        return;
      case "flags":
        if (doc.content) this.updateFlags(doc.id, doc.content as FlagsContent);
        return;
      case "header":
        // Sync may deliver a header after the meta that points at it.
        if (doc.content) {
          const header = doc.content as HeaderContent;
          this.q.fillHeader.run(header.size, header.messageId, doc.id.slice(2));
          this.q.fillHeaders.run({ header: syncHeader(header.root.header), msg_hash: doc.id.slice(2) });
        } else if (previous) {
          this.q.forgetHeaders.run(doc.id.slice(2));
        }
        return;
    }
  }

  private dropMailbox(mailboxId: string): void {
    this.q.dropMessages.run(mailboxId);
    this.q.dropExpunged.run(mailboxId);
    this.q.dropHeaders.run(mailboxId);
    this.q.dropMailbox.run(mailboxId);
  }

  private addMessage(doc: Doc<"meta">): void {
    const meta = doc.content as MetaContent;
    this.q.ensureMailbox.run(meta.mailbox);
    const { uid, modseq } = this.q.takeUid.get(meta.mailbox)!;
    const flags = this.store.get(meta.flags, "flags")?.content;
    const header = this.store.get(meta.header, "header")?.content;
    const flagList = flags?.flags ?? [];
    this.q.insertMessage.run({
      mailbox_id: meta.mailbox,
      uid,
      meta_id: doc.id,
      msg_hash: meta.msgHash,
      flags: JSON.stringify(flagList),
      seen: hasFlag(flagList, "\\Seen") ? 1 : 0,
      deleted: hasFlag(flagList, "\\Deleted") ? 1 : 0,
      internal_date: flags?.internalDate ?? Date.now(),
      size: header?.size ?? 0,
      message_id: header?.messageId ?? null,
      modseq,
    });
    if (header) this.q.putHeader.run(meta.mailbox, uid, syncHeader(header.root.header));
    for (const part of [meta.header, ...meta.contents]) this.q.addRef.run(part, doc.id);
    this.queue(meta.mailbox).new.push(uid);
  }

  private removeMessage(metaId: string): void {
    const row = this.q.byMetaId.get(metaId);
    if (row) {
      this.q.deleteMessage.run(metaId);
      this.q.deleteHeader.run(row.mailbox_id, row.uid);
      const { modseq } = this.q.nextModseq.get(row.mailbox_id)!;
      this.q.recordExpunge.run(row.mailbox_id, row.uid, modseq);
      const pending = this.queue(row.mailbox_id);
      pending.changed.delete(row.uid);
      pending.expunged.push(row.uid);
    }
    // Collect header and content documents that no message points at any more.
    const parts = this.q.refsOfMeta.all(metaId).map((ref) => ref.part_id);
    this.q.dropRefs.run(metaId);
    for (const part of parts) if (this.q.refCount.get(part)!.n === 0) this.store.delete(part);
  }

  private updateFlags(flagsId: string, flags: FlagsContent): void {
    const metaId = "M" + flagsId.slice(1);
    const row = this.q.byMetaId.get(metaId);
    if (!row) return; // the meta document has not arrived yet; it reads the flags when it does
    const { modseq } = this.q.nextModseq.get(row.mailbox_id)!;
    this.q.updateFlags.run({
      meta_id: metaId,
      flags: JSON.stringify(flags.flags),
      seen: hasFlag(flags.flags, "\\Seen") ? 1 : 0,
      deleted: hasFlag(flags.flags, "\\Deleted") ? 1 : 0,
      internal_date: flags.internalDate,
      modseq,
    });
    this.queue(row.mailbox_id).changed.set(row.uid, { uid: row.uid, flags: flags.flags, modseq });
  }

  private queue(mailboxId: string): PendingEvents {
    const transaction = this.store.currentTransaction();
    if (!this.pending || this.pending.transaction !== transaction) {
      // A rolled-back transaction never delivers; its events are dropped here.
      const pending = { transaction, events: new Map<string, PendingEvents>() };
      this.pending = pending;
      this.store.afterCommit(() => {
        if (this.pending === pending) this.pending = null;
        this.deliver(pending.events);
      });
    }
    let events = this.pending.events.get(mailboxId);
    if (!events) {
      events = { new: [], changed: new Map(), expunged: [] };
      this.pending.events.set(mailboxId, events);
    }
    return events;
  }

  private deliver(pending: Map<string, PendingEvents>): void {
    for (const [mailboxId, events] of pending) {
      const emitter = this.emitters.get(mailboxId);
      if (!emitter) continue;
      const added = new Set(events.new);
      const expunged = new Set(events.expunged);
      const fresh = events.new.filter((uid) => !expunged.has(uid));
      const changed = [...events.changed.values()].filter((c) => !added.has(c.uid) && !expunged.has(c.uid));
      const gone = events.expunged.filter((uid) => !added.has(uid));
      if (fresh.length) emitter.emit("new", fresh);
      if (changed.length) emitter.emit("changed", changed);
      if (gone.length) emitter.emit("expunged", gone);
    }
  }
}
