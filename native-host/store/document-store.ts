// The local encrypted store: SQLCipher (whole file, WAL and journal encrypted)
// holding documents with revisions, tombstones and a change log by generation.
// Derived tables (UIDs, flags, indexes) live in the same database and are
// updated by apply hooks inside the same transaction as the documents.
import Database from "better-sqlite3-multiple-ciphers";
import { toHex } from "../../shared/bytes";
import { deriveLocalStoreKey } from "../../shared/crypto/subkeys";
import { type ContentOf, type Doc, type DocType, decodeContent, encodeContent, isDocType } from "../../shared/documents";
import { STORE_BUSY_TIMEOUT_MS, STORE_PAGE_CACHE_BYTES } from "../limits";
import { HybridClock } from "./hybrid-clock";

export type SqlDatabase = Database.Database;

/** A document as it stands in the change log. */
export type LoggedDoc = Doc & { gen: number };

/** What a hook sees for every document written, inside the transaction. */
export type DocChange = { doc: Doc; previous: Doc | undefined };
export type ApplyHook = (change: DocChange) => void;

export class StoreLockedError extends Error {
  constructor(file: string) {
    super(`the store ${file} could not be opened with this key (wrong secret or not a store)`);
    this.name = "StoreLockedError";
  }
}

export class StoreBusyError extends Error {
  constructor(file: string) {
    super(`the store ${file} is in use by another process (is another Bitmask daemon running?)`);
    this.name = "StoreBusyError";
  }
}

type DocRow = { id: string; type: string; rev: number; gen: number; deleted: number; body: Buffer | null };

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS docs (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    rev INTEGER NOT NULL,
    gen INTEGER NOT NULL UNIQUE,
    deleted INTEGER NOT NULL DEFAULT 0,
    body BLOB
  );
  -- allOfType (the mailbox list, read by every SELECT) must not scan every
  -- message document: mailboxes are a handful among hundreds of thousands.
  CREATE INDEX IF NOT EXISTS docs_by_type ON docs(type, id);
  CREATE TABLE IF NOT EXISTS store_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
  INSERT OR IGNORE INTO store_state (key, value) VALUES ('generation', 0);
`;

export class DocumentStore {
  private readonly hooks: ApplyHook[] = [];
  private pendingAfterCommit: (() => void)[] | null = null;
  private transactions = 0;
  private readonly statements;
  /** This device's hybrid clock, for stamping edits that sync may have to merge. */
  readonly clock: HybridClock;

  private constructor(
    readonly file: string,
    /** For the derived tables of mail/ and auth/ only: other stages use their APIs. */
    readonly sql: SqlDatabase,
  ) {
    sql.exec(SCHEMA);
    this.clock = new HybridClock(sql);
    this.statements = {
      get: sql.prepare<[string], DocRow>("SELECT * FROM docs WHERE id = ?"),
      upsert: sql.prepare(
        `INSERT INTO docs (id, type, rev, gen, deleted, body) VALUES (@id, @type, @rev, @gen, @deleted, @body)
         ON CONFLICT(id) DO UPDATE SET type = excluded.type, rev = excluded.rev, gen = excluded.gen,
           deleted = excluded.deleted, body = excluded.body`,
      ),
      nextGeneration: sql.prepare<[], { value: number }>(
        "UPDATE store_state SET value = value + 1 WHERE key = 'generation' RETURNING value",
      ),
      generation: sql.prepare<[], { value: number }>("SELECT value FROM store_state WHERE key = 'generation'"),
      since: sql.prepare<[number, number], DocRow>("SELECT * FROM docs WHERE gen > ? ORDER BY gen LIMIT ?"),
      ofType: sql.prepare<[string], DocRow>("SELECT * FROM docs WHERE type = ? AND deleted = 0 ORDER BY id"),
    };
  }

  /** Opens (or creates) the store file with the raw key derived from the storage secret. */
  static async open(file: string, storageSecret: Uint8Array): Promise<DocumentStore> {
    const key = await deriveLocalStoreKey(storageSecret);
    const sql = new Database(file, { timeout: STORE_BUSY_TIMEOUT_MS });
    try {
      sql.pragma("cipher = 'sqlcipher'");
      sql.pragma("legacy = 4");
      sql.pragma(`key = "x'${toHex(key)}'"`);
      // One daemon owns a store: the lock is taken at the first read and kept
      // until close, so a second process cannot interleave its writes (two
      // daemons would both take the same incoming mail), and no statement
      // pays for taking and dropping file locks (three system calls each).
      // Set before the first read, WAL then keeps its index in memory.
      sql.pragma("locking_mode = EXCLUSIVE");
      sql.prepare("SELECT count(*) FROM sqlite_master").get();
    } catch (error) {
      sql.close();
      if ((error as { code?: string }).code === "SQLITE_BUSY") throw new StoreBusyError(file);
      throw new StoreLockedError(file);
    }
    sql.pragma("journal_mode = WAL");
    // FULL: a message acknowledged to a client survives power loss, not only a crash.
    sql.pragma("synchronous = FULL");
    // Never spill plaintext to temp files outside the encrypted database.
    sql.pragma("temp_store = MEMORY");
    sql.pragma(`cache_size = -${STORE_PAGE_CACHE_BYTES / 1024}`);
    return new DocumentStore(file, sql);
  }

  close(): void {
    if (this.sql.open) this.sql.close();
  }

  /** Registers a hook that keeps derived tables in step with documents. */
  onApply(hook: ApplyHook): void {
    this.hooks.push(hook);
  }

  /** Runs fn in one transaction (nested calls join the outer one); callbacks
   * queued with afterCommit run once the outermost transaction commits. */
  transaction<T>(fn: () => T): T {
    if (this.pendingAfterCommit) return this.sql.transaction(fn)();
    const pending: (() => void)[] = [];
    this.pendingAfterCommit = pending;
    this.transactions++;
    let result: T;
    try {
      result = this.sql.transaction(fn)();
    } finally {
      this.pendingAfterCommit = null;
    }
    for (const callback of pending) callback();
    return result;
  }

  /** Identifies the outermost transaction under way (0 outside one), so that
   * state gathered for afterCommit is never carried into the next one. */
  currentTransaction(): number {
    return this.pendingAfterCommit ? this.transactions : 0;
  }

  /** Queues work (such as notifying listeners) for after the commit; outside a
   * transaction it runs at once. */
  afterCommit(callback: () => void): void {
    if (this.pendingAfterCommit) this.pendingAfterCommit.push(callback);
    else callback();
  }

  get<T extends DocType>(id: string, type?: T): Doc<T> | undefined {
    const doc = this.getIncludingDeleted(id, type);
    return doc && doc.content !== null ? doc : undefined;
  }

  /** Also returns tombstones (content null): what sync needs to see. */
  getIncludingDeleted<T extends DocType>(id: string, type?: T): Doc<T> | undefined {
    const row = this.statements.get.get(id);
    if (!row) return undefined;
    if (type && row.type !== type) throw new Error(`document ${id} is a ${row.type}, not a ${type}`);
    return toDoc(row) as Doc<T>;
  }

  /** A document (tombstones too) with its generation in the change log. */
  changesOf(id: string): LoggedDoc | undefined {
    const row = this.statements.get.get(id);
    return row && { ...toDoc(row), gen: row.gen };
  }

  has(id: string): boolean {
    const row = this.statements.get.get(id);
    return row !== undefined && row.deleted === 0;
  }

  /** All live documents of one type. */
  allOfType<T extends DocType>(type: T): Doc<T>[] {
    return this.statements.ofType.all(type).map((row) => toDoc(row) as Doc<T>);
  }

  put<T extends DocType>(type: T, id: string, content: ContentOf<T>): Doc<T> {
    return this.write({ id, type, rev: 0, content }) as Doc<T>;
  }

  delete(id: string): void {
    const previous = this.getIncludingDeleted(id);
    if (!previous || previous.content === null) return;
    this.write({ id, type: previous.type, rev: 0, content: null });
  }

  generation(): number {
    return this.statements.generation.get()!.value;
  }

  /** The change log: the newest state of every document changed after `gen`. */
  changesSince(gen: number, limit = 1000): LoggedDoc[] {
    return this.statements.since.all(gen, limit).map((row) => ({ ...toDoc(row), gen: row.gen }));
  }

  private write(doc: Doc): Doc {
    return this.transaction(() => {
      const previous = this.getIncludingDeleted(doc.id);
      const written: Doc = { ...doc, rev: (previous?.rev ?? 0) + 1 };
      const body = written.content === null ? null : encodeContent(written.type, written.content);
      const gen = this.statements.nextGeneration.get()!.value;
      this.statements.upsert.run({ id: doc.id, type: doc.type, rev: written.rev, gen, deleted: body ? 0 : 1, body });
      const change = { doc: written, previous: previous?.content === null ? undefined : previous };
      for (const hook of this.hooks) hook(change);
      return written;
    });
  }
}

function toDoc(row: DocRow): Doc {
  if (!isDocType(row.type)) throw new Error(`document ${row.id} has an unknown type ${row.type}`);
  return {
    id: row.id,
    rev: row.rev,
    type: row.type,
    content: row.deleted || !row.body ? null : decodeContent(row.type, row.body, false),
  };
}
