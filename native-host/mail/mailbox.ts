// A mailbox of the public mail API: add, copy, move, expunge, flags, lookups,
// counts, changes since a MODSEQ, and listeners for new, changed and expunged
// messages. Every write is one transaction over documents plus local tables.
import type { EventEmitter } from "node:events";
import type { FlagsContent, MailboxContent } from "../../shared/documents";
import type { DocumentStore } from "../store/document-store";
import { storeLeaf } from "./content-chunks";
import { type FlagMode, applyFlagChange, normalizeFlags } from "./flags";
import {
  type FlagChange,
  type MailboxEvents,
  type MailIndex,
  type MessageRow,
  HAS_KEYWORD,
  flagsIdFor,
  headerIdFor,
  newMetaId,
} from "./mail-index";
import { MESSAGE_COLUMNS, Message, type MessageColumns } from "./message";
import { SearchIndex } from "./search-index";
import type { SearchField } from "./searchable-text";
import { splitMessage } from "./mime-split";

/** key: names the message for an add that may run twice (a retry after a
 * crash, two devices taking the same incoming mail): a second add of the same
 * bytes under the same key returns the first one's UID, with existed = true.
 * Without a key every add makes a new message. */
export type AddOptions = { flags?: string[]; internalDate?: Date; key?: string };
export type AddResult = { uid: number; existed: boolean };
export type CopyResult = { from: number; to: number }[];
export type MailboxSummary = { uidNext: number; highestModseq: number; firstUnseenUid: number | undefined };
export type MailboxCounts = { messages: number; unseen: number; recent: number; deleted: number; size: number };
export type FlagUpdate = { updated: FlagChange[]; modified: number[] };
/** headers: read the messages' sync headers along, for the whole batch at once. */
export type MessagesOptions = { headers?: boolean };
export type Changes = { changed: FlagChange[]; expunged: number[] };

/** messages() reads a UID range when it spans at most this many times the
 * UIDs asked for, and looks them up one by one when they are sparser. */
const SCATTERED_SPAN_FACTOR = 4;

export class NoSuchMessageError extends Error {
  constructor(mailbox: string, uid: number) {
    super(`no message with UID ${uid} in ${mailbox}`);
    this.name = "NoSuchMessageError";
  }
}

export class Mailbox {
  private uidCache: number[] | null = null;
  private keywordCache: string[] | null = null;
  private readonly q;

  constructor(
    readonly id: string,
    private readonly store: DocumentStore,
    private readonly index: MailIndex,
    /** The mailbox document's content as the account's cached list has it. */
    private readonly describe: () => MailboxContent | undefined,
  ) {
    const sql = store.sql;
    this.q = {
      state: sql.prepare<[string], { uid_next: number; highest_modseq: number; recent_after: number }>(
        "SELECT uid_next, highest_modseq, recent_after FROM mail_mailboxes WHERE mailbox_id = ?",
      ),
      claimRecent: sql.prepare<[string]>("UPDATE mail_mailboxes SET recent_after = uid_next - 1 WHERE mailbox_id = ?"),
      uidsAfter: sql.prepare<[string, number], number>("SELECT uid FROM mail_messages WHERE mailbox_id = ? AND uid > ? ORDER BY uid").pluck(),
      uids: sql.prepare<[string], number>("SELECT uid FROM mail_messages WHERE mailbox_id = ? ORDER BY uid").pluck(),
      byUid: sql.prepare<[string, number], MessageRow>("SELECT * FROM mail_messages WHERE mailbox_id = ? AND uid = ?"),
      byMetaId: sql.prepare<[string], MessageRow>("SELECT * FROM mail_messages WHERE meta_id = ?"),
      message: sql
        .prepare<[string, number], MessageColumns>(`SELECT ${MESSAGE_COLUMNS} FROM mail_messages WHERE mailbox_id = ? AND uid = ?`)
        .raw(),
      // Scattered UIDs, given as a JSON array: looked up in one statement.
      messagesIn: sql
        .prepare<[string, string], MessageColumns>(
          `SELECT ${MESSAGE_COLUMNS} FROM mail_messages WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid`,
        )
        .raw(),
      messagesByMessageId: sql
        .prepare<[string, string], MessageColumns>(
          `SELECT ${MESSAGE_COLUMNS} FROM mail_messages WHERE mailbox_id = ? AND message_id = ? ORDER BY uid`,
        )
        .raw(),
      range: sql
        .prepare<[string, number, number], MessageColumns>(
          `SELECT ${MESSAGE_COLUMNS} FROM mail_messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid`,
        )
        .raw(),
      // The top-level headers of a range, for a header sync: one statement
      // for a whole batch, not one each, read apart from the rows as both
      // tables are then walked in order (a join looks up each header by its
      // key). Just the headers when every message has one, as nearly always
      // (an array per row cost as much as reading the headers); with their
      // UIDs otherwise.
      headers: sql
        .prepare<[string, number, number], string>(
          `SELECT header FROM mail_sync_headers WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid`,
        )
        .pluck(),
      headerRange: sql
        .prepare<[string, number, number], [uid: number, header: string]>(
          `SELECT uid, header FROM mail_sync_headers WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid`,
        )
        .raw(),
      deletedUids: sql.prepare<[string], { uid: number; meta_id: string }>(
        "SELECT uid, meta_id FROM mail_messages WHERE mailbox_id = ? AND deleted = 1 ORDER BY uid",
      ),
      counts: sql.prepare<[string], MailboxCounts>(
        `SELECT count(*) AS messages, coalesce(sum(m.seen = 0), 0) AS unseen, coalesce(sum(m.uid > b.recent_after), 0) AS recent,
           coalesce(sum(m.deleted), 0) AS deleted, coalesce(sum(m.size), 0) AS size
         FROM mail_messages m JOIN mail_mailboxes b USING (mailbox_id) WHERE m.mailbox_id = ?`,
      ),
      messagesChangedSince: sql
        .prepare<[string, number], MessageColumns>(
          `SELECT ${MESSAGE_COLUMNS} FROM mail_messages WHERE mailbox_id = ? AND modseq > ? ORDER BY uid`,
        )
        .raw(),
      changedSince: sql.prepare<[string, number], { uid: number; flags: string; modseq: number }>(
        "SELECT uid, flags, modseq FROM mail_messages WHERE mailbox_id = ? AND modseq > ? ORDER BY uid",
      ),
      expungedSince: sql.prepare<[string, number], { uid: number }>(
        "SELECT uid FROM mail_expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid",
      ),
      keywords: sql.prepare<[string], { flag: string }>(
        `SELECT DISTINCT json_each.value AS flag FROM mail_messages INDEXED BY mail_messages_keyworded, json_each(mail_messages.flags)
         WHERE mailbox_id = ? AND ${HAS_KEYWORD} AND json_each.value NOT LIKE '\\%' ORDER BY flag`,
      ),
      // One statement, not three: SELECT asks for all of it, and each
      // statement costs its own read transaction.
      summary: sql.prepare<[string], [uidNext: number, highestModseq: number, firstUnseenUid: number | null]>(
        `SELECT uid_next, highest_modseq,
           (SELECT uid FROM mail_messages m WHERE m.mailbox_id = b.mailbox_id AND seen = 0 ORDER BY uid LIMIT 1)
         FROM mail_mailboxes b WHERE mailbox_id = ?`,
      ).raw(),
    };
    // Keep the UID list and keywords in step with every source of change.
    const invalidate = () => {
      this.uidCache = null;
      this.keywordCache = null;
    };
    this.events.on("new", invalidate);
    this.events.on("expunged", invalidate);
    this.events.on("changed", () => (this.keywordCache = null));
  }

  /** Listeners for "new", "changed" and "expunged", shared by every view of this mailbox. */
  get events(): EventEmitter<MailboxEvents> {
    return this.index.events(this.id);
  }

  private get doc(): MailboxContent {
    const content = this.describe();
    if (!content) throw new Error(`mailbox ${this.id} no longer exists`);
    return content;
  }

  get name(): string {
    return this.doc.name;
  }

  get uidValidity(): number {
    return this.doc.uidValidity;
  }

  get uidNext(): number {
    return this.q.state.get(this.id)?.uid_next ?? 1;
  }

  get highestModseq(): number {
    return this.q.state.get(this.id)?.highest_modseq ?? 1;
  }

  counts(): MailboxCounts {
    return this.q.counts.get(this.id)!;
  }

  /** Every UID, ascending: position i holds sequence number i + 1. */
  uids(): readonly number[] {
    if (!this.uidCache) {
      // Read outside a transaction only: inside one, later writes could still change it.
      const uids = this.q.uids.all(this.id);
      if (this.store.currentTransaction() !== 0) return uids;
      this.uidCache = uids;
    }
    return this.uidCache;
  }

  get(uid: number): Message | undefined {
    const row = this.q.message.get(this.id, uid);
    return row && this.message(row);
  }

  private message(row: MessageColumns, syncHeader?: string): Message {
    return new Message(this.store, this.index, this.id, row, syncHeader);
  }

  bySequence(sequence: number): Message | undefined {
    const uid = this.uids()[sequence - 1];
    return uid === undefined ? undefined : this.get(uid);
  }

  byMessageId(messageId: string): Message[] {
    return this.q.messagesByMessageId.all(this.id, messageId).map((row) => this.message(row));
  }

  /** Messages with UIDs in [first, last], ascending. With `headers`, their
   * sync headers are read along (for a header sync: many syncHeader() calls). */
  range(first: number, last: number, options: MessagesOptions = {}): Message[] {
    const rows = this.q.range.all(this.id, first, last);
    if (!options.headers) return rows.map((row) => this.message(row));
    // A header row exists only beside its message row, and both reads see the
    // same state (nothing runs between them): as many headers as rows means
    // one for each, in the same order.
    const plain = this.q.headers.all(this.id, first, last);
    if (plain.length === rows.length) return rows.map((row, i) => this.message(row, plain[i]));
    const headers = this.q.headerRange.all(this.id, first, last);
    let next = 0;
    return rows.map((row) => {
      // Both ascending by UID; a message whose header document has not arrived has no header row.
      while (next < headers.length && headers[next]![0] < row[0]) next++;
      const header = headers[next]?.[0] === row[0] ? headers[next]![1] : undefined;
      return this.message(row, header);
    });
  }

  /** The messages with these UIDs (ascending) that still exist, ascending.
   * Close UIDs are read as one range; scattered ones (say, the few a
   * CHANGEDSINCE names in a big mailbox) by key, in one statement, so that
   * the rows between them are not read at all. */
  messages(uids: readonly number[], options: MessagesOptions = {}): Message[] {
    if (uids.length === 0) return [];
    const first = uids[0]!;
    const last = uids[uids.length - 1]!;
    if (last - first + 1 > SCATTERED_SPAN_FACTOR * uids.length) {
      return this.q.messagesIn.all(this.id, JSON.stringify(uids)).map((row) => this.message(row));
    }
    const wanted = new Set(uids);
    return this.range(first, last, options).filter((message) => wanted.has(message.uid));
  }

  /** Stores a raw message as a new message (see AddOptions.key for the one
   * exception); parts already stored are shared, not stored again. */
  add(raw: Uint8Array, options: AddOptions = {}): AddResult {
    const split = splitMessage(raw);
    const flags = normalizeFlags(options.flags ?? []);
    const internalDate = (options.internalDate ?? new Date()).getTime();
    return this.store.transaction(() => {
      const metaId = newMetaId(this.id, split.msgHash, options.key);
      const existing = options.key === undefined ? undefined : this.q.byMetaId.get(metaId);
      if (existing) return { uid: existing.uid, existed: true };
      const contents = [...split.leaves].flatMap(([hash, bytes]) => storeLeaf(this.store, hash, bytes));
      const headerId = headerIdFor(split.msgHash);
      if (!this.store.has(headerId)) {
        this.store.put("header", headerId, { size: split.size, messageId: split.messageId, root: split.root });
      }
      const flagsId = flagsIdFor(metaId);
      this.store.put("flags", flagsId, { mailbox: this.id, msgHash: split.msgHash, flags, internalDate });
      this.store.put("meta", metaId, {
        mailbox: this.id,
        msgHash: split.msgHash,
        flags: flagsId,
        header: headerId,
        contents,
      });
      return { uid: this.q.byMetaId.get(metaId)!.uid, existed: false };
    });
  }

  /** Adds several messages in one transaction: all of them, or none when one fails. */
  addAll(messages: readonly [raw: Uint8Array, options: AddOptions][]): AddResult[] {
    return this.store.transaction(() => messages.map(([raw, options]) => this.add(raw, options)));
  }

  /** Copies messages: two small documents each, parts shared; each copy is a
   * new message, also into this same mailbox. Returns the UID mapping (COPYUID). */
  copy(uids: readonly number[], target: Mailbox): CopyResult {
    return this.store.transaction(() => {
      const mapping: CopyResult = [];
      for (const uid of uids) {
        const row = this.q.byUid.get(this.id, uid);
        if (!row) continue;
        const meta = this.store.get(row.meta_id, "meta")!.content!;
        const flags = this.store.get(meta.flags, "flags")?.content;
        const targetMetaId = newMetaId(target.id, row.msg_hash);
        const targetFlagsId = flagsIdFor(targetMetaId);
        this.store.put("flags", targetFlagsId, {
          mailbox: target.id,
          msgHash: row.msg_hash,
          flags: flags?.flags ?? [],
          internalDate: row.internal_date,
        });
        this.store.put("meta", targetMetaId, { ...meta, mailbox: target.id, flags: targetFlagsId });
        mapping.push({ from: uid, to: this.q.byMetaId.get(targetMetaId)!.uid });
      }
      return mapping;
    });
  }

  /** Copy then remove from here, in one transaction. Into this same mailbox,
   * the messages get new UIDs (as Dovecot does: RFC 6851 allows it). */
  move(uids: readonly number[], target: Mailbox): CopyResult {
    return this.store.transaction(() => {
      const mapping = this.copy(uids, target);
      for (const { from } of mapping) this.remove(from);
      return mapping;
    });
  }

  /** Removes messages flagged \Deleted (only those among `uids` when given).
   * Returns the expunged UIDs, ascending. */
  expunge(uids?: readonly number[]): number[] {
    return this.store.transaction(() => {
      const only = uids ? new Set(uids) : null;
      const expunged: number[] = [];
      for (const row of this.q.deletedUids.all(this.id)) {
        if (only && !only.has(row.uid)) continue;
        this.removeMeta(row.meta_id);
        expunged.push(row.uid);
      }
      return expunged;
    });
  }

  /** Changes flags. With `unchangedSince` (CONDSTORE), messages modified after
   * that MODSEQ are left alone and reported in `modified`. */
  updateFlags(uids: readonly number[], mode: FlagMode, flags: string[], unchangedSince?: number): FlagUpdate {
    return this.store.transaction(() => {
      const result: FlagUpdate = { updated: [], modified: [] };
      for (const uid of uids) {
        const row = this.q.byUid.get(this.id, uid);
        if (!row) continue;
        if (unchangedSince !== undefined && row.modseq > unchangedSince) {
          result.modified.push(uid);
          continue;
        }
        const flagsId = flagsIdFor(row.meta_id);
        const current = this.store.get(flagsId, "flags")?.content;
        const base: FlagsContent = current ?? { mailbox: this.id, msgHash: row.msg_hash, flags: [], internalDate: row.internal_date };
        const next = applyFlagChange(base.flags, mode, flags);
        if (sameFlags(base.flags, next)) continue;
        this.store.put("flags", flagsId, { ...base, flags: next, clock: stampChangedFlags(base, next, this.store.clock.tick()) });
        const updated = this.q.byUid.get(this.id, uid)!;
        result.updated.push({ uid, flags: next, modseq: updated.modseq });
      }
      return result;
    });
  }

  /** The messages added or changed after `modseq`, ascending, through the
   * MODSEQ index (CHANGEDSINCE): no other message is read. */
  messagesChangedSince(modseq: number): Message[] {
    return this.q.messagesChangedSince.all(this.id, modseq).map((row) => this.message(row));
  }

  /** Flag changes and expunges after `modseq` (CONDSTORE / QRESYNC). */
  changesSince(modseq: number): Changes {
    return {
      changed: this.q.changedSince.all(this.id, modseq).map((row) => ({
        uid: row.uid,
        flags: JSON.parse(row.flags) as string[],
        modseq: row.modseq,
      })),
      expunged: this.q.expungedSince.all(this.id, modseq).map((row) => row.uid),
    };
  }

  /** The keywords (non-system flags) set on any message here. */
  keywords(): string[] {
    if (!this.keywordCache) {
      // Every SELECT asks, and finding them reads every message's flags:
      // kept until a flag changes (outside a transaction only, as uids()).
      const keywords = this.q.keywords.all(this.id).map((row) => row.flag);
      if (this.store.currentTransaction() !== 0) return keywords;
      this.keywordCache = keywords;
    }
    return [...this.keywordCache];
  }

  /** The next UID, the highest MODSEQ and the first unseen message, read together. */
  summary(): MailboxSummary {
    const [uidNext, highestModseq, firstUnseenUid] = this.q.summary.get(this.id) ?? [1, 1, null];
    return { uidNext, highestModseq, firstUnseenUid: firstUnseenUid ?? undefined };
  }

  /** The UIDs still recent, ascending, without claiming them: what a
   * read-only session (EXAMINE) shows, since it "MUST NOT cause messages to
   * lose the \Recent flag" (RFC 3501 6.3.2). */
  recentUids(): number[] {
    const state = this.q.state.get(this.id);
    return state ? this.q.uidsAfter.all(this.id, state.recent_after) : [];
  }

  /** \Recent belongs to the first session that sees a message: this returns
   * the UIDs still recent, ascending, and clears them for everyone else. */
  claimRecent(): number[] {
    const unclaimed = () => {
      const state = this.q.state.get(this.id);
      return state && state.recent_after < state.uid_next - 1 ? state.recent_after : undefined;
    };
    // Usually nothing is left to claim: seen without a write transaction.
    if (unclaimed() === undefined) return [];
    return this.store.transaction(() => {
      const after = unclaimed();
      if (after === undefined) return [];
      this.q.claimRecent.run(this.id);
      return this.q.uidsAfter.all(this.id, after);
    });
  }

  /** Removes one message by UID, whatever its flags (for move and mailbox deletion). */
  remove(uid: number): void {
    const row = this.q.byUid.get(this.id, uid);
    if (!row) throw new NoSuchMessageError(this.name, uid);
    this.removeMeta(row.meta_id);
  }

  /** UIDs of the messages whose decoded text contains `needle`, ignoring case
   * (IMAP SEARCH BODY, or TEXT for header and body), from the full-text index. */
  searchText(field: SearchField, needle: string): Set<number> {
    return SearchIndex.of(this.store).search(this.id, field, needle);
  }

  private removeMeta(metaId: string): void {
    this.store.transaction(() => {
      this.store.delete(flagsIdFor(metaId));
      this.store.delete(metaId);
    });
  }
}

/** The flag clock with every flag that was set or cleared stamped `now`. */
function stampChangedFlags(base: FlagsContent, next: string[], now: string): Record<string, string> {
  const before = new Set(base.flags.map((flag) => flag.toLowerCase()));
  const after = new Set(next.map((flag) => flag.toLowerCase()));
  const clock = { ...base.clock };
  for (const flag of new Set([...before, ...after])) if (before.has(flag) !== after.has(flag)) clock[flag] = now;
  return clock;
}

function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((flag, i) => flag === b[i]);
}
