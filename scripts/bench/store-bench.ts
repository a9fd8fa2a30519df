// The store bench: append a corpus of messages to INBOX one transaction each
// (as IMAP APPEND and incoming mail do), read every one back byte-exact, and
// compare with plain unencrypted SQLite storing the same bytes in one table.
//
// Each side runs in its own child process, so its peak RSS is its own. Both
// generate the same corpus first (same seed, checksum compared), and both run
// the same write/read loop below, so only the store differs.
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3-multiple-ciphers";
import { Account } from "../../native-host/mail/account";
import { DocumentStore } from "../../native-host/store/document-store";
import { type Corpus, type CorpusMessage, MAX_MESSAGE_BYTES, MIN_MESSAGE_BYTES, generateCorpus } from "./corpus";
import {
  type Bench,
  type BenchOptions,
  type BenchReport,
  type Throughput,
  Progress,
  Stopwatch,
  collectGarbage,
  formatMiB,
  formatNumber,
  formatRatio,
  formatSeconds,
  megabytesPerSecond,
  messagesPerSecond,
  peakRssBytes,
  runPhaseInChild,
  withTempDir,
} from "./report";

/** A store as the bench loop sees it: append one message, list, read one. */
type OpenStore = {
  append(message: CorpusMessage): void;
  ids(): readonly number[];
  read(id: number): Uint8Array;
  close(): void;
};

type StoreUnderTest = {
  label: string;
  /** Opens (creating on first call) the store inside `dir`. */
  open(dir: string): Promise<OpenStore>;
};

export type StorePhaseResult = {
  store: string;
  corpus: { messages: number; bytes: number; checksum: string; kinds: Corpus["kinds"] };
  write: Throughput;
  read: Throughput;
  /** Checksum of everything read back equals the corpus checksum. */
  verified: boolean;
  /** Size of the store's files after closing (WAL checkpointed). */
  diskBytes: number;
  /** Process peak RSS once the corpus is in memory, before the store opens. */
  rssAfterCorpusBytes: number;
  /** Process peak RSS at the end of the phase. */
  peakRssBytes: number;
};

/** Ours: the encrypted document store and mail model, through the mail API,
 * on a fresh random storage secret (the same one when reopened). */
function ourStore(): StoreUnderTest {
  const storageSecret = new Uint8Array(randomBytes(64));
  return {
    label: "ours (encrypted store)",
    async open(dir) {
      const store = await DocumentStore.open(path.join(dir, "store.db"), storageSecret);
      const inbox = Account.open(store).requireMailbox("INBOX");
      return {
        append(message) {
          const { existed } = inbox.add(message.raw, { flags: message.flags, internalDate: message.internalDate });
          if (existed) throw new Error("the corpus holds the same message twice: the bench would measure nothing");
        },
        ids: () => inbox.uids(),
        read(uid) {
          const message = inbox.get(uid);
          if (!message) throw new Error(`UID ${uid} is listed but cannot be read`);
          return message.raw();
        },
        close: () => store.close(),
      };
    },
  };
}

/** The reference: plain SQLite (no key, so no encryption), one table of
 * blobs, with the durability pragmas our store uses. */
const plainSqlite: StoreUnderTest = {
  label: "reference (plain SQLite)",
  async open(dir) {
    const sql = new Database(path.join(dir, "reference.db"));
    sql.pragma("journal_mode = WAL");
    sql.pragma("synchronous = FULL");
    sql.pragma("temp_store = MEMORY");
    sql.exec("CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
    const insert = sql.prepare<[Buffer]>("INSERT INTO messages (body) VALUES (?)");
    const appendInTransaction = sql.transaction((body: Buffer) => insert.run(body));
    const listIds = sql.prepare<[], { id: number }>("SELECT id FROM messages ORDER BY id");
    const selectBody = sql.prepare<[number], { body: Buffer }>("SELECT body FROM messages WHERE id = ?");
    return {
      append: (message) => void appendInTransaction(message.raw),
      ids: () => listIds.all().map((row) => row.id),
      read(id) {
        const row = selectBody.get(id);
        if (!row) throw new Error(`row ${id} is listed but cannot be read`);
        return row.body;
      },
      close: () => sql.close(),
    };
  },
};

function folderBytes(dir: string): number {
  return readdirSync(dir).reduce((total, name) => total + statSync(path.join(dir, name)).size, 0);
}

/** The measured work, the same for both stores. Opening and closing are not
 * timed; reading starts on a freshly opened store, as a later session would. */
async function measureStore(subject: StoreUnderTest, count: number): Promise<StorePhaseResult> {
  const corpus = generateCorpus(count);
  collectGarbage();
  const rssAfterCorpusBytes = peakRssBytes();

  return withTempDir("bitmask-bench-store-", async (dir) => {
    const writer = await subject.open(dir);
    const writeTime = new Stopwatch();
    const writeProgress = new Progress(`${subject.label}: write`, count);
    corpus.messages.forEach((message, i) => {
      writeTime.measure(() => writer.append(message));
      writeProgress.tick(i + 1);
    });
    writer.close();
    const diskBytes = folderBytes(dir);

    collectGarbage();
    const reader = await subject.open(dir);
    const ids = reader.ids();
    if (ids.length !== count) throw new Error(`${subject.label} holds ${ids.length} messages, not ${count}`);
    const readTime = new Stopwatch();
    const readProgress = new Progress(`${subject.label}: read`, count);
    const readChecksum = createHash("sha256");
    let bytesRead = 0;
    ids.forEach((id, i) => {
      const raw = readTime.measure(() => reader.read(id));
      readChecksum.update(raw);
      bytesRead += raw.length;
      readProgress.tick(i + 1);
    });
    reader.close();

    return {
      store: subject.label,
      corpus: { messages: count, bytes: corpus.totalBytes, checksum: corpus.checksum, kinds: corpus.kinds },
      write: { messages: count, bytes: corpus.totalBytes, seconds: writeTime.seconds },
      read: { messages: ids.length, bytes: bytesRead, seconds: readTime.seconds },
      verified: readChecksum.digest("hex") === corpus.checksum,
      diskBytes,
      rssAfterCorpusBytes,
      peakRssBytes: peakRssBytes(),
    };
  });
}

function report(ours: StorePhaseResult, reference: StorePhaseResult): BenchReport {
  const { corpus } = ours;
  const mb = (bytes: number) => `${formatNumber(bytes / 1e6, 1)} MB`;
  const rssGrowth = (phase: StorePhaseResult) => phase.peakRssBytes - phase.rssAfterCorpusBytes;
  const row = (label: string, value: (phase: StorePhaseResult) => number, format: (n: number) => string) => [
    label,
    format(value(ours)),
    format(value(reference)),
    formatRatio(value(ours), value(reference)),
  ];
  const rate = (n: number) => formatNumber(n, n < 100 ? 1 : 0);
  const kinds = Object.entries(corpus.kinds)
    .map(([kind, n]) => `${formatNumber(n)} ${kind}`)
    .join(", ");
  const verified = ours.verified && reference.verified;

  return {
    name: "store",
    title: `store: append ${formatNumber(corpus.messages)} messages to INBOX (one transaction each), read all back`,
    summary: [
      `corpus: ${mb(corpus.bytes)}, ${MIN_MESSAGE_BYTES / 1024}-${MAX_MESSAGE_BYTES / 1024} KB log-uniform (${kinds})`,
      `read-back checksum: ${verified ? "equal to the corpus (both stores)" : "MISMATCH"}`,
    ],
    table: [
      ["", ours.store, reference.store, "ours/reference"],
      row("write messages/s", (p) => messagesPerSecond(p.write), rate),
      row("write MB/s", (p) => megabytesPerSecond(p.write), (n) => formatNumber(n, 1)),
      row("write time", (p) => p.write.seconds, formatSeconds),
      row("read messages/s", (p) => messagesPerSecond(p.read), rate),
      row("read MB/s", (p) => megabytesPerSecond(p.read), (n) => formatNumber(n, 1)),
      row("read time", (p) => p.read.seconds, formatSeconds),
      row("peak RSS (process)", (p) => p.peakRssBytes, formatMiB),
      row("  of which above corpus", rssGrowth, formatMiB),
      row("size on disk", (p) => p.diskBytes, formatMiB),
    ],
    notes: [
      "Rates: a ratio above 1x means ours is faster. Times, RSS, size: above 1x means ours takes more.",
      "Each store runs in its own process; peak RSS is that process's maxRSS and includes the corpus",
      `held in memory (ours: ${formatMiB(ours.rssAfterCorpusBytes)} peak once generated), hence the "above corpus" row.`,
      "Times count the store calls only (not corpus generation, opening, or checksum verification).",
    ],
    data: { corpus, ours, reference, verified },
  };
}

export const storeBench: Bench = {
  name: "store",
  description: "append and read back messages: our encrypted store vs plain SQLite",
  phases: {
    ours: (options: BenchOptions) => measureStore(ourStore(), options.messages),
    reference: (options: BenchOptions) => measureStore(plainSqlite, options.messages),
  },
  async run(options) {
    const args = ["--messages", String(options.messages)];
    const ours = await runPhaseInChild<StorePhaseResult>("store.ours", args);
    const reference = await runPhaseInChild<StorePhaseResult>("store.reference", args);
    if (ours.corpus.checksum !== reference.corpus.checksum) {
      throw new Error("the two phases generated different corpora: the comparison would be meaningless");
    }
    const result = report(ours, reference);
    if (!ours.verified || !reference.verified) process.exitCode = 1;
    return result;
  },
};
