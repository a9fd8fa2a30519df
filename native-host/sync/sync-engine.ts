// Two-way sync of the document store with the provider (docs/DESIGN.md, "Sync encryption").
//
// Pull: pages of sealed documents since the last provider generation are
// opened (a tampered, swapped or rolled-back document is refused, reported
// and skipped; local data stays), merged with local edits not yet pushed,
// and applied in one transaction with the new generation, so a crash
// leaves the page either applied or not. Push: every document whose local
// generation differs from the one last synced is sealed with the next
// revision and sent with the revision it replaces; the provider stores it
// or reports a conflict, which the next pull merges. Nothing is lost or
// duplicated when either side stops at any point: a push the provider
// stored but we never heard back about comes back as a conflict with our
// own content, and merges to the same state. A document the provider serves
// at an older revision than one we accepted (a replay, or a provider back
// from a backup) is refused, and our version is pushed over it.
import { createHash } from "node:crypto";
import type { DocumentCipher, WireDoc } from "../../shared/crypto/document-cipher";
import { DocumentIntegrityError } from "../../shared/crypto/document-cipher";
import type { Doc, DocType } from "../../shared/documents";
import type { DocumentStore, LoggedDoc } from "../store/document-store";
import { PUSH_BATCH_BYTES } from "../limits";
import { mergeDocuments } from "./merge";
import { type PushedDoc, PushTooLargeError, type SyncTransport } from "./transport";

/** Document types that stay on this device: mail fetched from the
 * provider's incoming queue and not yet processed, and the SMTP gateway's
 * retry queue (a second device retrying it too would send it twice). */
const LOCAL_ONLY_TYPES = ["incoming", "outgoing"];
const localOnly = LOCAL_ONLY_TYPES.map((type) => `'${type}'`).join(", ");

/** Order in which one page is applied, so derived tables see parts before the
 * messages that point at them, and mailboxes before their messages. */
const APPLY_ORDER: DocType[] = ["mailbox", "content", "header", "flags", "meta"];

export type SyncProgress = { phase: "pull" | "push"; done: number; total: number | null };
export type SyncProblem = { wireId: string; problem: string; message: string };
export type SyncReport = { pulled: number; pushed: number; conflicts: number; refused: SyncProblem[] };

export type SyncOptions = {
  /** Most documents in one pull page or push. */
  batchSize?: number;
  /** Most bytes of sealed documents in one push. */
  batchBytes?: number;
  onProgress?(progress: SyncProgress): void;
};

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS sync_docs (
    local_id TEXT PRIMARY KEY,
    wire_id TEXT NOT NULL UNIQUE,
    remote_rev INTEGER NOT NULL,
    synced_gen INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS sync_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
  -- What we pushed, by hash: when the provider serves it back unchanged,
  -- the pull skips it instead of opening it again.
  CREATE TABLE IF NOT EXISTS sync_pushed (wire_id TEXT PRIMARY KEY, rev INTEGER NOT NULL, data_hash BLOB NOT NULL);
  -- Documents the provider served at an older revision than one we had
  -- accepted (a replay, or a provider restored from a backup): the next
  -- push puts our version back, expecting the provider's revision.
  CREATE TABLE IF NOT EXISTS sync_rolled_back (local_id TEXT PRIMARY KEY, provider_rev INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS sync_problems (
    wire_id TEXT NOT NULL, problem TEXT NOT NULL, message TEXT NOT NULL, at INTEGER NOT NULL
  );
`;

type SealedDoc = { doc: LoggedDoc; wire: PushedDoc };

type SyncedRow = { local_id: string; wire_id: string; remote_rev: number; synced_gen: number };

export class SyncEngine {
  private readonly batchSize: number;
  private pushBudget: number;
  private readonly q;

  constructor(
    private readonly store: DocumentStore,
    private readonly cipher: DocumentCipher,
    private readonly transport: SyncTransport,
    private readonly options: SyncOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 200;
    this.pushBudget = options.batchBytes ?? PUSH_BATCH_BYTES;
    const sql = store.sql;
    sql.exec(SCHEMA);
    this.q = {
      byLocal: sql.prepare<[string], SyncedRow>("SELECT * FROM sync_docs WHERE local_id = ?"),
      byWire: sql.prepare<[string], SyncedRow>("SELECT * FROM sync_docs WHERE wire_id = ?"),
      record: sql.prepare(
        `INSERT INTO sync_docs (local_id, wire_id, remote_rev, synced_gen) VALUES (@local_id, @wire_id, @remote_rev, @synced_gen)
         ON CONFLICT(local_id) DO UPDATE SET remote_rev = excluded.remote_rev, synced_gen = excluded.synced_gen`,
      ),
      state: sql.prepare<[string], { value: number }>("SELECT value FROM sync_state WHERE key = ?"),
      setState: sql.prepare("INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)"),
      // From a generation on, so that one push walks the change log once
      // rather than from its start for every batch.
      dirty: sql.prepare<[number, number], { id: string; gen: number }>(
        `SELECT d.id, d.gen FROM docs d LEFT JOIN sync_docs s ON s.local_id = d.id
         WHERE d.gen > ? AND (s.synced_gen IS NULL OR s.synced_gen != d.gen) AND d.type NOT IN (${localOnly})
         ORDER BY d.gen LIMIT ?`,
      ),
      countDirty: sql.prepare<[], { n: number }>(
        `SELECT count(*) AS n FROM docs d LEFT JOIN sync_docs s ON s.local_id = d.id
         WHERE (s.synced_gen IS NULL OR s.synced_gen != d.gen) AND d.type NOT IN (${localOnly})`,
      ),
      pushed: sql.prepare<[string], { rev: number; data_hash: Buffer }>("SELECT rev, data_hash FROM sync_pushed WHERE wire_id = ?"),
      recordPushed: sql.prepare("INSERT OR REPLACE INTO sync_pushed (wire_id, rev, data_hash) VALUES (?, ?, ?)"),
      rolledBack: sql.prepare<[string], { provider_rev: number }>("SELECT provider_rev FROM sync_rolled_back WHERE local_id = ?"),
      markRolledBack: sql.prepare("INSERT OR REPLACE INTO sync_rolled_back (local_id, provider_rev) VALUES (?, ?)"),
      clearRolledBack: sql.prepare("DELETE FROM sync_rolled_back WHERE local_id = ?"),
      markDirty: sql.prepare("UPDATE sync_docs SET synced_gen = -1 WHERE local_id = ?"),
      problem: sql.prepare("INSERT INTO sync_problems (wire_id, problem, message, at) VALUES (?, ?, ?, ?)"),
      problems: sql.prepare<[], SyncProblem & { at: number }>(
        "SELECT wire_id AS wireId, problem, message, at FROM sync_problems ORDER BY at DESC LIMIT 100",
      ),
    };
  }

  /** Documents the provider served that were refused, newest first. */
  problems(): (SyncProblem & { at: number })[] {
    return this.q.problems.all();
  }

  /** Local changes not yet on the provider. */
  pendingCount(): number {
    return this.q.countDirty.get()!.n;
  }

  /** Pull, then push; repeats (a few times at most) while pushes conflict. */
  async sync(): Promise<SyncReport> {
    const report: SyncReport = { pulled: 0, pushed: 0, conflicts: 0, refused: [] };
    for (let round = 0; round < 4; round++) {
      await this.pull(report);
      const conflicts = await this.push(report);
      if (conflicts === 0) break;
    }
    return report;
  }

  /** Where the next pull starts in the provider's log. */
  get pulledGeneration(): number {
    return this.q.state.get("pulled")?.value ?? 0;
  }

  /** Whether a document written after local generation `gen` still has to
   * be pushed (the loop's own writes, pulled or already pushed, do not). */
  hasChangesAfter(gen: number): boolean {
    return this.q.dirty.all(gen, 1).length > 0;
  }

  private async pull(report: SyncReport): Promise<void> {
    // Progress counts every document served in this pull (refused ones too);
    // the total is what is done plus what the provider says is left.
    let done = 0;
    for (;;) {
      const page = await this.transport.pull(this.pulledGeneration, this.batchSize);
      const opened: Doc[] = [];
      for (const wire of page.docs) {
        const doc = await this.open(wire, report);
        if (doc) opened.push(doc);
      }
      opened.sort((a, b) => rank(a.type) - rank(b.type));
      const reached = page.more ? Math.max(this.pulledGeneration, ...page.docs.map((doc) => doc.gen)) : page.generation;
      const wireIds = new Map(page.docs.map((wire) => [wire.id, wire]));
      await this.applyPage(opened, wireIds, reached);
      report.pulled += opened.length;
      done += page.docs.length;
      const remaining = page.more ? page.remaining : 0;
      this.options.onProgress?.({ phase: "pull", done, total: remaining === undefined ? null : done + remaining });
      if (!page.more) return;
    }
  }

  private async open(wire: WireDoc, report: SyncReport): Promise<Doc | null> {
    const known = this.q.byWire.get(wire.id);
    if (this.isOwnPushEchoed(wire)) return null;
    try {
      return await this.cipher.open(wire, known?.remote_rev ?? 0);
    } catch (error) {
      if (!(error instanceof DocumentIntegrityError)) throw error;
      const problem = { wireId: wire.id, problem: error.problem, message: error.message };
      this.q.problem.run(problem.wireId, problem.problem, problem.message, Date.now());
      if (error.problem === "rollback" && known) {
        // Ours is newer: push it again over the provider's stale revision.
        this.q.markRolledBack.run(known.local_id, wire.rev);
        this.q.markDirty.run(known.local_id);
      }
      report.refused.push(problem);
      return null;
    }
  }

  /** Our own push served back byte for byte: nothing to open or apply.
   * Anything else at that revision (a flipped byte) is opened, and refused. */
  private isOwnPushEchoed(wire: WireDoc): boolean {
    const pushed = this.q.pushed.get(wire.id);
    return pushed !== undefined && pushed.rev === wire.rev && pushed.data_hash.equals(dataHash(wire.data));
  }

  private async applyPage(docs: Doc[], wires: Map<string, WireDoc>, reached: number): Promise<void> {
    const wireIdOf = new Map<string, string>();
    for (const doc of docs) wireIdOf.set(doc.id, await this.cipher.wireId(doc.id));
    this.store.transaction(() => {
      for (const remote of docs) {
        const wireId = wireIdOf.get(remote.id)!;
        const remoteRev = wires.get(wireId)!.rev;
        const local = this.store.getIncludingDeleted(remote.id);
        const synced = this.q.byLocal.get(remote.id);
        const localGen = local ? this.generationOf(remote.id) : 0;
        const dirty = local !== undefined && (!synced || synced.synced_gen !== localGen);
        this.observeClocks(remote);
        const result = dirty ? mergeDocuments(local, remote) : remote;
        const gen = this.write(result, local);
        // Merged content differs from the provider's: it stays dirty and is pushed next.
        const clean = !dirty || sameContent(result, remote);
        this.q.record.run({ local_id: remote.id, wire_id: wireId, remote_rev: remoteRev, synced_gen: clean ? gen : -1 });
        this.q.clearRolledBack.run(remote.id);
      }
      this.q.setState.run("pulled", reached);
    });
  }

  /** Writes a document as given (content or tombstone); returns its generation. */
  private write(doc: Doc, local: Doc | undefined): number {
    if (doc.content === null) {
      if (local && local.content !== null) this.store.delete(doc.id);
    } else if (!local || !sameContent(doc, local)) {
      this.store.put(doc.type, doc.id, doc.content as never);
    }
    return this.generationOf(doc.id);
  }

  private generationOf(id: string): number {
    return this.store.changesOf(id)?.gen ?? 0;
  }

  private observeClocks(doc: Doc): void {
    const content = doc.content as { clock?: string | Record<string, string> } | null;
    if (!content?.clock) return;
    const stamps = typeof content.clock === "string" ? [content.clock] : Object.values(content.clock);
    for (const stamp of stamps) this.store.clock.observe(stamp);
  }

  private async push(report: SyncReport): Promise<number> {
    let conflicts = 0;
    const total = this.pendingCount();
    let done = 0;
    // Documents that conflict stay dirty behind this cursor: the next pull
    // merges them and the next push (from the start) sends them.
    let after = 0;
    let rows: { id: string; gen: number }[] = [];
    // Sealed, waiting for a batch: sealing goes only as far as the next
    // batch needs, so big documents are never all in memory at once.
    const waiting: SealedDoc[] = [];
    for (;;) {
      while (waiting.length < this.batchSize && sealedBytes(waiting) < this.pushBudget) {
        if (rows.length === 0) {
          rows = this.q.dirty.all(after, this.batchSize);
          if (rows.length === 0) break;
          after = rows.at(-1)!.gen;
        }
        waiting.push(await this.sealForPush(rows.shift()!.id));
      }
      if (waiting.length === 0) return conflicts;
      // Batched by count and by bytes, under the provider's body limit; a
      // document is never bigger than a batch (content is chunked).
      const batch = [waiting.shift()!];
      let bytes = sealedBytes(batch);
      while (waiting.length > 0 && batch.length < this.batchSize && bytes + waiting[0]!.wire.data.length <= this.pushBudget) {
        bytes += waiting[0]!.wire.data.length;
        batch.push(waiting.shift()!);
      }
      let result;
      try {
        result = await this.transport.push(batch.map((entry) => entry.wire));
      } catch (error) {
        if (!(error instanceof PushTooLargeError) || batch.length === 1) throw error;
        // A provider with a smaller limit than most: this engine sends it smaller batches from now on.
        this.pushBudget = Math.floor(this.pushBudget / 2);
        waiting.unshift(...batch);
        continue;
      }
      const byId = new Map(result.results.map((entry) => [entry.id, entry]));
      const ownGenerations = new Set<number>();
      this.store.transaction(() => {
        for (const { doc, wire } of batch) {
          const outcome = byId.get(wire.id);
          if (outcome?.status === "stored") {
            this.q.record.run({ local_id: doc.id, wire_id: wire.id, remote_rev: outcome.rev, synced_gen: doc.gen });
            this.q.recordPushed.run(wire.id, outcome.rev, dataHash(wire.data));
            this.q.clearRolledBack.run(doc.id);
            if (outcome.gen !== undefined) ownGenerations.add(outcome.gen);
            report.pushed++;
          } else {
            // Left dirty: the next pull brings the provider's version to merge with.
            // A provider behind what we know went back (without telling the
            // pull): the next push goes over its revision.
            if (outcome && outcome.rev < wire.expectedRev) this.q.markRolledBack.run(doc.id, outcome.rev);
            conflicts++;
            report.conflicts++;
          }
        }
        this.skipOwnGenerations(ownGenerations);
      });
      done += batch.length;
      this.options.onProgress?.({ phase: "push", done, total });
    }
  }

  private async sealForPush(id: string): Promise<SealedDoc> {
    const doc = this.store.changesOf(id)!;
    const knownRev = this.q.byLocal.get(id)?.remote_rev ?? 0;
    // After a rollback the provider holds an older revision than the one
    // we know: expect that one, but keep our revisions going up.
    const expectedRev = this.q.rolledBack.get(id)?.provider_rev ?? knownRev;
    const wire = await this.cipher.seal({ ...doc, rev: knownRev + 1 });
    return { doc, wire: { ...wire, expectedRev } };
  }

  /** Moves the pull past what this device just stored, when nothing from
   * another device lies in between: the next pull then downloads none of it.
   * (When something does, the pull serves our documents back and
   * isOwnPushEchoed skips them without opening them.) */
  private skipOwnGenerations(own: Set<number>): void {
    let reached = this.pulledGeneration;
    while (own.has(reached + 1)) reached++;
    if (reached !== this.pulledGeneration) this.q.setState.run("pulled", reached);
  }
}

function sealedBytes(docs: SealedDoc[]): number {
  return docs.reduce((sum, entry) => sum + entry.wire.data.length, 0);
}

function dataHash(data: string): Buffer {
  return createHash("sha256").update(data).digest();
}

function rank(type: DocType): number {
  const index = APPLY_ORDER.indexOf(type);
  return index < 0 ? APPLY_ORDER.length : index;
}

function sameContent(a: Doc, b: Doc): boolean {
  if (a.content === null || b.content === null) return a.content === b.content;
  if (a.content instanceof Uint8Array && b.content instanceof Uint8Array) return Buffer.from(a.content).equals(Buffer.from(b.content));
  return JSON.stringify(a.content) === JSON.stringify(b.content);
}
