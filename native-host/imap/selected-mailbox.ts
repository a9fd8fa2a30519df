// One session's view of its selected mailbox. Sequence numbers belong to the
// session: a message another session (or sync, or incoming mail) adds or
// removes changes this view only when the session is allowed to hear about it
// (RFC 3501 7.4.1), so the client's numbering never shifts under its feet.
import type { FlagChange } from "../mail/mail-index";
import type { Mailbox } from "../mail/mailbox";
import { SEQUENCE_STAR, normalizeSequenceSet } from "./protocol/sequence-set";
import type { SequenceSet } from "./protocol/types";
import { formatSequenceSet } from "./protocol/sequence-set";
import { SYSTEM_FLAG_LIST, encodeFlags } from "./response/flags";

export type UntaggedWriter = (line: string) => void;

export class SelectedMailbox {
  /** Never changed in place, only replaced: it starts as the mailbox's own
   * cached list, shared rather than copied (a copy of a big mailbox's list
   * was most of what a SELECT cost). */
  private uids: readonly number[];
  private readonly recent = new Set<number>();
  private readonly pendingNew = new Set<number>();
  private readonly pendingExpunged = new Set<number>();
  private readonly pendingFlags = new Map<number, FlagChange>();
  private readonly unsubscribe: () => void;
  /** The keywords (lower-cased) the client was last told in FLAGS. */
  private announcedKeywords = new Set<string>();

  constructor(
    readonly mailbox: Mailbox,
    readonly readOnly: boolean,
    private readonly modes: { condstore: () => boolean; qresync: () => boolean },
  ) {
    this.uids = mailbox.uids();
    for (const uid of readOnly ? mailbox.recentUids() : mailbox.claimRecent()) this.recent.add(uid);
    const onNew = (uids: number[]) => uids.forEach((uid) => this.pendingNew.add(uid));
    const onChanged = (changes: FlagChange[]) => changes.forEach((change) => this.pendingFlags.set(change.uid, change));
    const onExpunged = (uids: number[]) =>
      uids.forEach((uid) => {
        if (this.pendingNew.delete(uid)) return;
        this.pendingExpunged.add(uid);
        this.pendingFlags.delete(uid);
      });
    mailbox.events.on("new", onNew);
    mailbox.events.on("changed", onChanged);
    mailbox.events.on("expunged", onExpunged);
    this.unsubscribe = () => {
      mailbox.events.off("new", onNew);
      mailbox.events.off("changed", onChanged);
      mailbox.events.off("expunged", onExpunged);
    };
  }

  close(): void {
    this.unsubscribe();
  }

  /** FLAGS and PERMANENTFLAGS for the keywords in use now, which the client
   * is then known to have been told. */
  flagsResponses(): string[] {
    const keywords = this.mailbox.keywords();
    this.announcedKeywords = new Set(keywords.map((keyword) => keyword.toLowerCase()));
    const permanent = this.readOnly ? "" : [SYSTEM_FLAG_LIST, ...keywords, "\\*"].join(" ");
    return [`FLAGS (${[SYSTEM_FLAG_LIST, ...keywords].join(" ")})`, `OK [PERMANENTFLAGS (${permanent})] flags permitted`];
  }

  /** FLAGS and PERMANENTFLAGS again when a keyword the client was not told
   * of is in use (set by another session, sync or this one), before any
   * FETCH shows it: FLAGS "MUST be recorded by the client" as "the flags
   * that are applicable for this mailbox" (RFC 3501 7.2.6). */
  announceNewKeywords(write: UntaggedWriter): void {
    if (this.mailbox.keywords().some((keyword) => !this.announcedKeywords.has(keyword.toLowerCase()))) {
      for (const line of this.flagsResponses()) write(line);
    }
  }

  get exists(): number {
    return this.uids.length;
  }

  get recentCount(): number {
    return this.recent.size;
  }

  isRecent(uid: number): boolean {
    return this.recent.has(uid);
  }

  /** UIDs in the session's view, ascending (position = sequence number - 1). */
  get viewUids(): readonly number[] {
    return this.uids;
  }

  sequenceOf(uid: number): number | undefined {
    let low = 0;
    let high = this.uids.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const value = this.uids[middle]!;
      if (value === uid) return middle + 1;
      if (value < uid) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }

  /** The UIDs a sequence set names, ascending: by sequence number, or by UID
   * (where `*` is the highest UID and numbers not in the view are skipped). */
  resolve(set: SequenceSet, byUid: boolean): number[] {
    // Normalised ranges are ascending and disjoint, so what they cut out of
    // the ascending view is ascending and unique without sorting.
    if (byUid) {
      const max = this.uids[this.uids.length - 1] ?? 0;
      const out: number[] = [];
      for (const [start, end] of normalizeSequenceSet(set, max)) {
        for (let i = this.indexOfFirstAtLeast(start); i < this.uids.length && this.uids[i]! <= end; i++) out.push(this.uids[i]!);
      }
      return out;
    }
    // A number past the last message is a client error (BAD); "*" on an
    // empty mailbox simply names nothing.
    for (const [start, end] of set) {
      for (const n of [start, end]) {
        if (n !== SEQUENCE_STAR && (n < 1 || n > this.uids.length)) {
          throw new RangeError(`message sequence number ${n} out of range (the mailbox has ${this.uids.length})`);
        }
      }
    }
    const out: number[] = [];
    for (const [start, end] of normalizeSequenceSet(set, this.uids.length)) {
      for (let seq = start; seq <= end; seq++) out.push(this.uids[seq - 1]!);
    }
    return out;
  }

  /** resolve(set, true) as a test of one UID: for a FETCH that answers a
   * few messages out of a set naming thousands. */
  uidSetIncludes(set: SequenceSet): (uid: number) => boolean {
    const ranges = normalizeSequenceSet(set, this.uids[this.uids.length - 1] ?? 0);
    return (uid) => ranges.some(([start, end]) => uid >= start && uid <= end) && this.sequenceOf(uid) !== undefined;
  }

  /** Position in the view of the first UID >= uid (the view's length if none). */
  private indexOfFirstAtLeast(uid: number): number {
    let low = 0;
    let high = this.uids.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.uids[middle]! < uid) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** The client has been told these messages' flags as they stood at these
   * MODSEQs: pending notices of changes up to then would only repeat them. A
   * later change (made while a long FETCH let others run) is still told. */
  acknowledgeFlags(told: Iterable<{ uid: number; modseq: number }>): void {
    for (const { uid, modseq } of told) {
      const pending = this.pendingFlags.get(uid);
      if (pending && pending.modseq <= modseq) this.pendingFlags.delete(uid);
    }
  }

  /** Writes what changed since the last flush: EXPUNGE (or VANISHED) when
   * allowed, then EXISTS and RECENT, then flag changes as unsolicited FETCH. */
  flush(write: UntaggedWriter, expungeAllowed: boolean): void {
    if (expungeAllowed && this.pendingExpunged.size > 0) {
      const gone = [...this.pendingExpunged].filter((uid) => this.sequenceOf(uid) !== undefined).sort((a, b) => a - b);
      this.pendingExpunged.clear();
      if (gone.length > 0) {
        if (this.modes.qresync()) write(`VANISHED ${formatSequenceSet(gone)}`);
        else for (const uid of [...gone].reverse()) write(`${this.sequenceOf(uid)} EXPUNGE`);
        const goneSet = new Set(gone);
        this.uids = this.uids.filter((uid) => !goneSet.has(uid));
        gone.forEach((uid) => this.recent.delete(uid));
      }
    }
    if (this.pendingNew.size > 0) {
      const known = this.uids[this.uids.length - 1] ?? 0;
      const added = [...this.pendingNew].filter((uid) => uid > known).sort((a, b) => a - b);
      this.pendingNew.clear();
      if (added.length > 0) {
        this.uids = this.uids.concat(added);
        for (const uid of this.readOnly ? this.mailbox.recentUids() : this.mailbox.claimRecent()) this.recent.add(uid);
        write(`${this.uids.length} EXISTS`);
        write(`${this.recent.size} RECENT`);
      }
    }
    if (this.pendingFlags.size > 0) {
      this.announceNewKeywords(write);
      const changes = [...this.pendingFlags.values()].sort((a, b) => a.uid - b.uid);
      this.pendingFlags.clear();
      for (const change of changes) {
        const seq = this.sequenceOf(change.uid);
        if (seq === undefined || this.pendingExpunged.has(change.uid)) continue;
        write(this.flagsFetchLine(seq, change));
      }
    }
  }

  flagsFetchLine(seq: number, change: FlagChange): string {
    const modseq = this.modes.condstore() ? ` MODSEQ (${change.modseq})` : "";
    return `${seq} FETCH (UID ${change.uid} FLAGS ${encodeFlags(change.flags, this.isRecent(change.uid))}${modseq})`;
  }
}
