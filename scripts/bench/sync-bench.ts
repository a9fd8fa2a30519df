// The sync bench: a device's first push of a whole mailbox to the provider,
// and a second device's initial pull of it, against copying the same
// plaintext document rows between two plain SQLite files in the same run.
//
// What runs where:
//   - the parent starts the provider (HTTPS with a self-signed certificate
//     from openssl, as tests/helpers/daemon.ts does) and keeps it up for the
//     whole bench;
//   - "load" (child): a full daemon signs the account up at the provider,
//     runs one round (the account's key is made and published), then goes
//     offline and adds --messages messages (the store bench's generator, 2-200
//     KB mixed) to INBOX, and exports the plaintext rows the next push will
//     send into a plain SQLite file for the reference;
//   - "push" (child): the same daemon, unlocked again, runs one round with
//     the provider: it pushes every document. Then one more round, measured
//     on its own (see the notes: it pulls back what it pushed);
//   - "pull" (child): a second daemon with a fresh data folder logs the
//     account in at the provider (daemon.unlockAccount with the endpoint) and
//     runs its first round: it pulls everything. INBOX is then read back and
//     checked against the corpus;
//   - "reference" (child): copies the exported rows, in pages of the sync
//     engine's batch size, from one plain SQLite file (better-sqlite3-multiple-
//     ciphers without a key) into another with our store's durability pragmas.
// Each child's peak RSS is its own; the provider's is the parent's.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3-multiple-ciphers";
import type { Daemon, UnlockedAccount } from "../../native-host/daemon/daemon";
import type { DocumentStore } from "../../native-host/store/document-store";
import type { ProviderEndpoint } from "../../native-host/sync/provider-client";
import { type TestDaemon, startTestDaemon, startTlsProvider } from "../../tests/helpers/daemon";
import { type CorpusMessage, DEFAULT_SEED, MAX_MESSAGE_BYTES, MIN_MESSAGE_BYTES, generateCorpus } from "./corpus";
import { processMemory, resetPeakRss } from "./imap-client";
import {
  type Bench,
  type BenchOptions,
  type BenchReport,
  type Throughput,
  Stopwatch,
  collectGarbage,
  formatMiB,
  formatNumber,
  formatRatio,
  formatSeconds,
  megabytesPerSecond,
  peakRssBytes,
  runPhaseInChild,
  withTempDir,
} from "./report";

const ADDRESS = "alice@example.org";
const PASSPHRASE = "bench: correct horse battery staple";

/** The parent hands the children the scratch folder and the provider's endpoint. */
const DIR_ENV = "BITMASK_BENCH_SYNC_DIR";
const URL_ENV = "BITMASK_BENCH_SYNC_URL";
const CA_ENV = "BITMASK_BENCH_SYNC_CA";
/** Documents the pull should bring, for its progress lines. */
const EXPECTED_ENV = "BITMASK_BENCH_SYNC_EXPECTED";

/** The sync engine's default page and push batch: the reference copies in pages as large. */
const SYNC_BATCH = 200;
/** Messages generated per call of the corpus generator (each chunk its own seed). */
const CHUNK_MESSAGES = 500;
/** The provider's default quota (1 GiB) is below what 10,000 padded messages take. */
const BENCH_QUOTA_BYTES = 64 * 1024 ** 3;

type Shared = { dir: string; endpoint: ProviderEndpoint };

function shared(): Shared {
  const dir = process.env[DIR_ENV];
  const url = process.env[URL_ENV];
  const ca = process.env[CA_ENV];
  if (!dir || !url || !ca) throw new Error(`the sync phases need ${DIR_ENV}, ${URL_ENV} and ${CA_ENV} from the parent`);
  return { dir, endpoint: { url, ca } };
}

const deviceDir = (dir: string, device: "a" | "b") => path.join(dir, `device-${device}`);
const rowsFile = (dir: string, name: "source" | "copy") => path.join(dir, `rows-${name}.db`);

// ---------------------------------------------------------------------------
// The corpus, streamed

type CorpusSummary = { messages: number; bytes: number; kinds: Record<string, number>; setChecksum: string };

/** SHA-256 over the sorted SHA-256s of the messages: the same for the same
 * messages in any order (a second device's UIDs follow the pull's order). */
class MessageSet {
  private readonly hashes: string[] = [];
  bytes = 0;

  add(raw: Uint8Array): void {
    this.hashes.push(createHash("sha256").update(raw).digest("hex"));
    this.bytes += raw.length;
  }

  get size(): number {
    return this.hashes.length;
  }

  checksum(): string {
    return createHash("sha256").update([...this.hashes].sort().join("\n")).digest("hex");
  }
}

function messageKind(raw: Buffer): string {
  const headerEnd = raw.indexOf("\r\n\r\n");
  const header = raw.toString("latin1", 0, headerEnd < 0 ? raw.length : headerEnd);
  return /^Content-Type:\s*([^;\s]+)/im.exec(header)?.[1]?.toLowerCase() ?? "unknown";
}

/** `count` messages of the store bench's generator, chunk by chunk, so that
 * 10,000 of them (about 430 MB) are never in memory at once. */
function streamCorpus(count: number, onChunk: (messages: CorpusMessage[]) => void): CorpusSummary {
  const set = new MessageSet();
  const kinds: Record<string, number> = {};
  for (let chunk = 0; set.size < count; chunk++) {
    const messages = generateCorpus(Math.min(CHUNK_MESSAGES, count - set.size), DEFAULT_SEED + chunk).messages;
    for (const message of messages) {
      set.add(message.raw);
      const kind = messageKind(message.raw);
      kinds[kind] = (kinds[kind] ?? 0) + 1;
    }
    onChunk(messages);
  }
  return { messages: set.size, bytes: set.bytes, kinds, setChecksum: set.checksum() };
}

// ---------------------------------------------------------------------------
// Daemons and rounds

async function startDevice(dir: string, device: "a" | "b"): Promise<TestDaemon> {
  const dataDir = deviceDir(dir, device);
  mkdirSync(dataDir, { recursive: true });
  // Rounds run on demand only (an hour apart otherwise), as in the tests.
  return startTestDaemon({ dataDir });
}

/** Serves the account without letting the provider loop's first round (which
 * starts as soon as the account is served) run: the measured round is ours. */
async function unlockQuietly(daemon: Daemon, provider?: ProviderEndpoint): Promise<UnlockedAccount> {
  daemon.setOffline(true);
  try {
    return await daemon.unlockAccount(ADDRESS, PASSPHRASE, provider);
  } finally {
    daemon.setOffline(false);
  }
}

type RoundFigures = {
  seconds: number;
  /** The highest `done` the provider loop reported during the round. */
  progressDone: number;
  /** VmHWM during the round (reset just before it), or null where /proc is not there. */
  roundPeakRssBytes: number | null;
  /** VmRSS just before the round. */
  rssBeforeBytes: number | null;
};

/** One round with the provider (sync, key, incoming), timed, with progress on stderr. */
async function timedRound(account: UnlockedAccount, label: string, expected: number): Promise<RoundFigures> {
  const sync = account.sync;
  if (!sync) throw new Error(`${account.address} has no provider`);
  collectGarbage();
  const rssBeforeBytes = processMemory(process.pid)?.rssBytes ?? null;
  const canReset = resetPeakRss(process.pid);
  let progressDone = 0;
  let nextReport = Math.max(1, Math.ceil(expected / 10));
  const started = performance.now();
  const status = await sync.syncNow((done) => {
    progressDone = Math.max(progressDone, done);
    if (done >= nextReport) {
      process.stderr.write(`  ${label}: ${formatNumber(done)} documents (${Math.round((done / Math.max(1, expected)) * 100)}%)\n`);
      while (nextReport <= done) nextReport += Math.max(1, Math.ceil(expected / 10));
    }
  });
  const seconds = (performance.now() - started) / 1000;
  if (status.state !== "idle") {
    throw new Error(`${label}: the round ended ${status.state}: ${JSON.stringify(account.errors.slice(-3))}`);
  }
  const roundPeakRssBytes = canReset ? (processMemory(process.pid)?.peakBytes ?? null) : null;
  return { seconds, progressDone, roundPeakRssBytes, rssBeforeBytes };
}

/** Rows of `docs` and their plaintext bytes, as SQL over the store. */
type RowCount = { docs: number; bytes: number };

/** What the sync engine's next push sends: documents whose generation is
 * not the one last synced, except the local-only types (sync-engine.ts). */
const DIRTY_ROWS = `FROM docs d LEFT JOIN sync_docs s ON s.local_id = d.id
  WHERE (s.synced_gen IS NULL OR s.synced_gen != d.gen) AND d.type NOT IN ('incoming', 'outgoing')`;

function dirtyRows(store: DocumentStore): RowCount {
  return store.sql.prepare<[], RowCount>(`SELECT count(*) AS docs, coalesce(sum(length(d.body)), 0) AS bytes ${DIRTY_ROWS}`).get()!;
}

function syncedRows(store: DocumentStore): RowCount {
  return store.sql
    .prepare<[], RowCount>("SELECT count(*) AS docs, coalesce(sum(length(d.body)), 0) AS bytes FROM sync_docs s JOIN docs d ON d.id = s.local_id")
    .get()!;
}

// ---------------------------------------------------------------------------
// Phases

type LoadResult = {
  corpus: CorpusSummary;
  /** The rows the push will send, exported in plaintext for the reference. */
  rows: RowCount & { byType: Record<string, number> };
  loadSeconds: number;
};

async function loadPhase(options: BenchOptions): Promise<LoadResult> {
  const { dir, endpoint } = shared();
  const device = await startDevice(dir, "a");
  try {
    const account = await device.daemon.createAccount(ADDRESS, PASSPHRASE, endpoint);
    // The loop's first round (secrets blob, the account's key made and
    // published) has started already; wait for it and one more round.
    await timedRound(account, "device A: first round", 1);
    if (!account.keys?.ownFingerprint()) throw new Error("the first round made no key for the account");
    // Offline: the local changes below must not start a round of their own.
    device.daemon.setOffline(true);

    const inbox = account.mail.requireMailbox("INBOX");
    const time = new Stopwatch();
    let loaded = 0;
    const corpus = streamCorpus(options.messages, (messages) => {
      time.measure(() =>
        account.store.transaction(() => {
          for (const message of messages) {
            const { existed } = inbox.add(message.raw, { flags: message.flags, internalDate: message.internalDate });
            if (existed) throw new Error("the corpus holds the same message twice");
          }
        }),
      );
      loaded += messages.length;
      process.stderr.write(`  device A: loaded ${formatNumber(loaded)}/${formatNumber(options.messages)} messages\n`);
    });

    const rows = exportRows(account.store, rowsFile(dir, "source"));
    return { corpus, rows, loadSeconds: time.seconds };
  } finally {
    await device.stop();
  }
}

const ROWS_SCHEMA = `CREATE TABLE IF NOT EXISTS docs (
  id TEXT PRIMARY KEY, type TEXT NOT NULL, rev INTEGER NOT NULL, gen INTEGER NOT NULL UNIQUE,
  deleted INTEGER NOT NULL DEFAULT 0, body BLOB)`;

type DocRow = { id: string; type: string; rev: number; gen: number; deleted: number; body: Buffer | null };

/** A plain SQLite file with the store's pragmas for durability, as the store bench's reference. */
function openPlain(file: string): Database.Database {
  const sql = new Database(file);
  sql.pragma("journal_mode = WAL");
  sql.pragma("synchronous = FULL");
  sql.pragma("temp_store = MEMORY");
  sql.exec(ROWS_SCHEMA);
  return sql;
}

/** Copies the plaintext of every document the next push sends into `file`. */
function exportRows(store: DocumentStore, file: string): LoadResult["rows"] {
  const target = openPlain(file);
  try {
    const insert = target.prepare<[DocRow]>("INSERT INTO docs (id, type, rev, gen, deleted, body) VALUES (@id, @type, @rev, @gen, @deleted, @body)");
    const byType: Record<string, number> = {};
    let docs = 0;
    let bytes = 0;
    target.transaction(() => {
      for (const row of store.sql.prepare<[], DocRow>(`SELECT d.* ${DIRTY_ROWS} ORDER BY d.gen`).iterate()) {
        insert.run(row);
        byType[row.type] = (byType[row.type] ?? 0) + 1;
        docs++;
        bytes += row.body?.length ?? 0;
      }
    })();
    return { docs, bytes, byType };
  } finally {
    target.close();
  }
}

type PushResult = {
  pending: RowCount;
  push: RoundFigures;
  /** Documents still to push after the round: 0. */
  pendingAfter: number;
  /** The round after: nothing changed anywhere. */
  next: RoundFigures & { pulledGenerations: number };
  peakRssBytes: number;
};

const pulledGeneration = (store: DocumentStore) =>
  store.sql.prepare<[], { value: number }>("SELECT value FROM sync_state WHERE key = 'pulled'").get()?.value ?? 0;

async function pushPhase(): Promise<PushResult> {
  const { dir } = shared();
  const device = await startDevice(dir, "a");
  try {
    const account = await unlockQuietly(device.daemon);
    const pending = dirtyRows(account.store);
    const push = await timedRound(account, "device A: push", pending.docs);
    const pendingAfter = dirtyRows(account.store).docs;
    // A second round with nothing new anywhere: what it costs is what every
    // device pays after a big push (see the report's notes).
    const before = pulledGeneration(account.store);
    const next = await timedRound(account, "device A: next round", pending.docs);
    return { pending, push, pendingAfter, next: { ...next, pulledGenerations: pulledGeneration(account.store) - before }, peakRssBytes: peakRssBytes() };
  } finally {
    await device.stop();
  }
}

type PullResult = {
  pull: RoundFigures;
  /** Documents this device holds as synced with the provider after the round. */
  synced: RowCount;
  inbox: { messages: number; bytes: number; setChecksum: string };
  errors: string[];
  unlockSeconds: number;
  peakRssBytes: number;
};

async function pullPhase(): Promise<PullResult> {
  const { dir, endpoint } = shared();
  const expected = Number(process.env[EXPECTED_ENV] ?? 0);
  const device = await startDevice(dir, "b");
  try {
    const unlockStarted = performance.now();
    const account = await unlockQuietly(device.daemon, endpoint);
    const unlockSeconds = (performance.now() - unlockStarted) / 1000;
    const pull = await timedRound(account, "device B: pull", expected);
    const synced = syncedRows(account.store);
    const inbox = account.mail.requireMailbox("INBOX");
    const set = new MessageSet();
    for (const uid of inbox.uids()) {
      const message = inbox.get(uid);
      if (!message) throw new Error(`device B: UID ${uid} is listed but cannot be read`);
      set.add(message.raw());
    }
    return {
      pull,
      synced,
      inbox: { messages: set.size, bytes: set.bytes, setChecksum: set.checksum() },
      errors: account.errors.map((error) => `${error.source}: ${error.message}`),
      unlockSeconds,
      peakRssBytes: peakRssBytes(),
    };
  } finally {
    await device.stop();
  }
}

type ReferenceResult = { work: RowCount & { seconds: number }; peakRssBytes: number };

/** Copies the exported rows to a new plain SQLite file, a page of SYNC_BATCH
 * rows per read and per write transaction, as a pull applies pages. */
async function referencePhase(): Promise<ReferenceResult> {
  const { dir } = shared();
  const source = new Database(rowsFile(dir, "source"), { readonly: true });
  const target = openPlain(rowsFile(dir, "copy"));
  try {
    const page = source.prepare<[number, number], DocRow>("SELECT * FROM docs WHERE gen > ? ORDER BY gen LIMIT ?");
    const insert = target.prepare<[DocRow]>("INSERT INTO docs (id, type, rev, gen, deleted, body) VALUES (@id, @type, @rev, @gen, @deleted, @body)");
    const writePage = target.transaction((rows: DocRow[]) => {
      for (const row of rows) insert.run(row);
    });
    collectGarbage();
    let docs = 0;
    let bytes = 0;
    let since = 0;
    const started = performance.now();
    for (;;) {
      const rows = page.all(since, SYNC_BATCH);
      if (rows.length === 0) break;
      writePage(rows);
      docs += rows.length;
      for (const row of rows) bytes += row.body?.length ?? 0;
      since = rows[rows.length - 1]!.gen;
    }
    const seconds = (performance.now() - started) / 1000;
    return { work: { docs, bytes, seconds }, peakRssBytes: peakRssBytes() };
  } finally {
    source.close();
    target.close();
  }
}

// ---------------------------------------------------------------------------
// The report

type SyncData = {
  load: LoadResult;
  push: PushResult;
  pull: PullResult;
  reference: ReferenceResult;
  providerDiskBytes: number;
  verified: boolean;
  problems: string[];
};

const docsPerSecond = (work: { docs: number; seconds: number }) => work.docs / work.seconds;
const asThroughput = (work: RowCount & { seconds: number }): Throughput => ({ messages: work.docs, bytes: work.bytes, seconds: work.seconds });

function report(data: SyncData, messages: number): BenchReport {
  const { load, push, pull, reference } = data;
  const pushWork = { ...push.pending, seconds: push.push.seconds };
  const pullWork = { ...pull.synced, seconds: pull.pull.seconds };
  const mb = (bytes: number) => `${formatNumber(bytes / 1e6, 1)} MB`;
  const rate = (n: number) => formatNumber(n, n < 100 ? 1 : 0);
  const rateRow = (label: string, ours: RowCount & { seconds: number }) => [
    label,
    rate(docsPerSecond(ours)),
    formatNumber(megabytesPerSecond(asThroughput(ours)), 1),
    formatSeconds(ours.seconds),
    formatRatio(docsPerSecond(ours), docsPerSecond(reference.work)),
    formatRatio(megabytesPerSecond(asThroughput(ours)), megabytesPerSecond(asThroughput(reference.work))),
  ];
  const rss = (bytes: number | null) => (bytes === null ? "n/a" : formatMiB(bytes));
  const kinds = Object.entries(load.corpus.kinds)
    .map(([kind, n]) => `${formatNumber(n)} ${kind}`)
    .join(", ");
  const types = Object.entries(load.rows.byType)
    .map(([type, n]) => `${formatNumber(n)} ${type}`)
    .join(", ");

  return {
    name: "sync",
    title: `sync: push ${formatNumber(messages)} messages to the provider, a second device's initial pull, vs copying the rows between plain SQLite files`,
    summary: [
      `corpus: ${mb(load.corpus.bytes)}, ${MIN_MESSAGE_BYTES / 1024}-${MAX_MESSAGE_BYTES / 1024} KB log-uniform (${kinds})`,
      `documents pushed: ${formatNumber(push.pending.docs)} (${types}), ${mb(push.pending.bytes)} of plaintext rows; ` +
        `provider disk after the run: ${formatMiB(data.providerDiskBytes)}`,
      `second device: ${formatNumber(pull.inbox.messages)} messages in INBOX, ${data.verified ? "equal to the corpus" : "NOT equal to the corpus"}; ` +
        `log-in before the pull (not timed): ${formatSeconds(pull.unlockSeconds)}`,
      `loading device A through the mail API (not timed against anything): ${formatSeconds(load.loadSeconds)}`,
      ...data.problems.map((problem) => `PROBLEM: ${problem}`),
    ],
    table: [
      ["", "docs/s", "MB/s", "time", "docs/s vs reference", "MB/s vs reference"],
      rateRow("push (device A, one round)", pushWork),
      rateRow("initial pull (device B, first round)", pullWork),
      [
        "reference: copy rows, plain SQLite",
        rate(docsPerSecond(reference.work)),
        formatNumber(megabytesPerSecond(asThroughput(reference.work)), 1),
        formatSeconds(reference.work.seconds),
        "1.00x",
        "1.00x",
      ],
      [`device A: the round after the push (${formatNumber(push.next.pulledGenerations)} documents downloaded)`, "", "", formatSeconds(push.next.seconds), "", ""],
    ],
    notes: [
      "Ratios above 1x mean ours is faster. Bytes are the documents' plaintext rows (the store's `body`), the same",
      "rows the reference copies; ours also encrypts (AES-GCM per document), pads, ships them over HTTPS to the",
      "provider (in this run's parent process) and stores them in an encrypted SQLite file.",
      `Peak RSS: push child ${formatMiB(push.peakRssBytes)} (during the push round ${rss(push.push.roundPeakRssBytes)}, ` +
        `from ${rss(push.push.rssBeforeBytes)} before it); pull child ${formatMiB(pull.peakRssBytes)} (during the pull round ` +
        `${rss(pull.pull.roundPeakRssBytes)}, from ${rss(pull.pull.rssBeforeBytes)}); reference child ${formatMiB(reference.peakRssBytes)}.`,
      "The whole-process figures include the passphrase's scrypt at unlock (128 MiB); the round figures are VmHWM",
      "reset just before the round.",
      "The round after the push downloads nothing: the push moved device A's pull past the generations its own",
      "documents took (a PROBLEM line above says otherwise).",
    ],
    data,
  };
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const stat = statSync(path.join(dir, name));
    total += stat.isDirectory() ? folderBytes(path.join(dir, name)) : stat.size;
  }
  return total;
}

export const syncBench: Bench = {
  name: "sync",
  description: "push a mailbox to the provider and pull it on a second device vs copying rows between plain SQLite files",
  phases: {
    load: (options: BenchOptions) => loadPhase(options),
    push: () => pushPhase(),
    pull: () => pullPhase(),
    reference: () => referencePhase(),
  },
  async run(options) {
    return withTempDir("bitmask-bench-sync-", async (dir) => {
      const provider = await startTlsProvider({ dataDir: path.join(dir, "provider"), limits: { quotaBytes: BENCH_QUOTA_BYTES } });
      process.env[DIR_ENV] = dir;
      process.env[URL_ENV] = provider.url;
      process.env[CA_ENV] = provider.ca;
      try {
        const args = ["--messages", String(options.messages)];
        const load = await runPhaseInChild<LoadResult>("sync.load", args);
        process.env[EXPECTED_ENV] = String(load.rows.docs);
        const push = await runPhaseInChild<PushResult>("sync.push", args);
        const pull = await runPhaseInChild<PullResult>("sync.pull", args);
        const reference = await runPhaseInChild<ReferenceResult>("sync.reference", args);
        const providerDiskBytes = folderBytes(provider.dataDir);

        const problems: string[] = [];
        if (push.pending.docs !== load.rows.docs) problems.push(`device A pushed ${push.pending.docs} documents, the load left ${load.rows.docs} to push`);
        if (push.pendingAfter !== 0) problems.push(`${push.pendingAfter} documents were still to push after the push round`);
        if (push.next.pulledGenerations !== 0) {
          problems.push(`the round after the push pulled ${push.next.pulledGenerations} generations: device A's own documents came back`);
        }
        if (reference.work.docs !== load.rows.docs) problems.push(`the reference copied ${reference.work.docs} rows of ${load.rows.docs}`);
        if (pull.synced.docs < push.pending.docs) problems.push(`device B holds ${pull.synced.docs} synced documents, fewer than the ${push.pending.docs} pushed`);
        if (pull.inbox.setChecksum !== load.corpus.setChecksum || pull.inbox.messages !== load.corpus.messages) {
          problems.push(`device B's INBOX (${pull.inbox.messages} messages) is not the corpus (${load.corpus.messages})`);
        }
        for (const error of pull.errors) problems.push(`device B reported ${error}`);
        const verified = problems.length === 0;
        if (!verified) process.exitCode = 1;
        return report({ load, push, pull, reference, providerDiskBytes, verified, problems }, options.messages);
      } finally {
        for (const name of [DIR_ENV, URL_ENV, CA_ENV, EXPECTED_ENV]) delete process.env[name];
        await provider.stop();
      }
    });
  },
};
