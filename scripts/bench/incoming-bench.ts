// The incoming bench: mail the provider's MX encrypted to the account's key,
// processed into INBOX by native-host/incoming/incoming-processor.ts (stash,
// then processAll, a page at a time as the provider loop does), against
// `gpg --decrypt` run once per message on the same ciphertexts.
//
// The parent makes the account's store and key (the keymanager's own key,
// Curve25519 as every account gets) and encrypts the messages once, with
// encryptMail from provider/keys/public-key.ts, the function the MX path
// (provider/mx/local-delivery.ts) uses; so both phases decrypt the very same
// armored messages. Messages: the store bench's generator (2-200 KB mixed),
// plain MIME as mail from outside arrives. Each side runs in its own child:
// "ours" opens the store and processes; "reference" imports the private key
// into a throwaway GNUPGHOME and runs gpg per message. Both check every
// output against the corpus (untimed).
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { IncomingProcessor, type IncomingEnvelope } from "../../native-host/incoming/incoming-processor";
import { AccountKeyManager } from "../../native-host/keys/keymanager";
import { INCOMING_PAGE_SIZE } from "../../native-host/limits";
import { Account } from "../../native-host/mail/account";
import { DocumentStore } from "../../native-host/store/document-store";
import { encryptMail } from "../../provider/keys/public-key";
import { DEFAULT_SEED, MAX_MESSAGE_BYTES, MIN_MESSAGE_BYTES, generateCorpus } from "./corpus";
import { gnupgIn, stopGnupgAgent } from "./gnupg";
import {
  type Bench,
  type BenchOptions,
  type BenchReport,
  type Throughput,
  Progress,
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

const ADDRESS = "alice@example.org";
const DIR_ENV = "BITMASK_BENCH_INCOMING_DIR";
const SECRET_ENV = "BITMASK_BENCH_INCOMING_SECRET";

/** 200 messages by default (--messages 10,000), 50 with --quick (1,000). */
export function incomingMessageCount({ messages }: BenchOptions): number {
  return Math.max(10, Math.min(200, Math.round(messages / 20)));
}

type Prepared = { envelopes: IncomingEnvelope[]; plaintextSha256: string[]; plaintextBytes: number; armoredBytes: number };

const files = (dir: string) => ({
  store: path.join(dir, "store.db"),
  envelopes: path.join(dir, "envelopes.json"),
  privateKey: path.join(dir, "private-key.asc"),
});

function shared(): { dir: string; secret: Uint8Array } {
  const dir = process.env[DIR_ENV];
  const secret = process.env[SECRET_ENV];
  if (!dir || !secret) throw new Error(`the incoming phases need ${DIR_ENV} and ${SECRET_ENV} from the parent`);
  return { dir, secret: new Uint8Array(Buffer.from(secret, "hex")) };
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

function keyManager(store: DocumentStore): AccountKeyManager {
  // As the daemon makes it for an account, without a provider to talk to.
  return new AccountKeyManager({ store, address: ADDRESS, directory: null, session: () => null });
}

type PrepareSummary = { messages: number; plaintextBytes: number; armoredBytes: number; checksum: string; fingerprint: string };

/** The account's store with its own key, and the messages encrypted to it. */
async function prepare(options: BenchOptions): Promise<PrepareSummary> {
  const { dir, secret } = shared();
  const paths = files(dir);
  const store = await DocumentStore.open(paths.store, secret);
  try {
    Account.open(store).requireMailbox("INBOX");
    const own = await keyManager(store).ensureOwnKey();
    writeFileSync(paths.privateKey, own.privateKey.armor());
    const count = incomingMessageCount(options);
    const corpus = generateCorpus(count, DEFAULT_SEED);
    const envelopes: IncomingEnvelope[] = [];
    let armoredBytes = 0;
    const progress = new Progress("encrypting to the account's key (MX path)", count);
    for (const [i, message] of corpus.messages.entries()) {
      const armored = await encryptMail(message.raw, own.armoredPublicKey);
      armoredBytes += armored.length;
      envelopes.push({ providerId: `bench-${i}`, armored, receivedAt: message.internalDate.getTime() });
      progress.tick(i + 1);
    }
    const prepared: Prepared = {
      envelopes,
      plaintextSha256: corpus.messages.map((message) => sha256(message.raw)),
      plaintextBytes: corpus.totalBytes,
      armoredBytes,
    };
    writeFileSync(paths.envelopes, JSON.stringify(prepared));
    return { messages: count, plaintextBytes: corpus.totalBytes, armoredBytes, checksum: corpus.checksum, fingerprint: own.fingerprint };
  } finally {
    store.close();
  }
}

function readPrepared(dir: string): Prepared {
  return JSON.parse(readFileSync(files(dir).envelopes, "utf8")) as Prepared;
}

export type IncomingPhaseResult = {
  side: string;
  work: Throughput;
  /** Outputs equal to the corpus messages (ours: once the X-Leap-* lines it adds are taken off). */
  verified: number;
  failed: number;
  peakRssBytes: number;
};

/** Takes off the X-Leap-* lines stamp() puts at the top of a stored message. */
function unstamped(raw: Uint8Array): Buffer {
  let text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  while (/^X-Leap-[A-Za-z]+:/.test(text.toString("latin1", 0, 32))) text = text.subarray(text.indexOf("\r\n") + 2);
  return text;
}

async function measureOurs(): Promise<IncomingPhaseResult> {
  const { dir, secret } = shared();
  const prepared = readPrepared(dir);
  const store = await DocumentStore.open(files(dir).store, secret);
  try {
    const account = Account.open(store);
    const processor = new IncomingProcessor(store, account, keyManager(store));
    const count = prepared.envelopes.length;
    const progress = new Progress("ours: incoming", count);
    collectGarbage();
    let seconds = 0;
    let failed = 0;
    for (let start = 0; start < count; start += INCOMING_PAGE_SIZE) {
      const page = prepared.envelopes.slice(start, start + INCOMING_PAGE_SIZE);
      // A page as the provider loop handles one: stashed in one transaction, then processed.
      const started = performance.now();
      processor.stash(page);
      const report = await processor.processAll();
      seconds += (performance.now() - started) / 1000;
      failed += report.failed;
      progress.tick(start + page.length);
    }
    const inbox = account.requireMailbox("INBOX");
    const expected = new Set(prepared.plaintextSha256);
    let verified = 0;
    for (const uid of inbox.uids()) {
      const message = inbox.get(uid);
      if (message && expected.delete(sha256(unstamped(message.raw())))) verified++;
    }
    return {
      side: "ours (IncomingProcessor: stash + processAll)",
      work: { messages: count, bytes: prepared.plaintextBytes, seconds },
      verified,
      failed,
      peakRssBytes: peakRssBytes(),
    };
  } finally {
    store.close();
  }
}

async function measureGnupg(): Promise<IncomingPhaseResult> {
  const { dir } = shared();
  const prepared = readPrepared(dir);
  return withTempDir("bitmask-bench-gnupg-", async (home) => {
    const gpg = gnupgIn(home);
    try {
      gpg(["--import"], readFileSync(files(dir).privateKey));
      // gpg-agent starts at the first use of the private key: a mail client's
      // agent is already running, so that start is left out of the timing.
      gpg(["--quiet", "--decrypt"], prepared.envelopes[0]!.armored);
      const count = prepared.envelopes.length;
      const progress = new Progress("reference: gpg --decrypt", count);
      let seconds = 0;
      let verified = 0;
      for (const [i, envelope] of prepared.envelopes.entries()) {
        const started = performance.now();
        const output = gpg(["--quiet", "--decrypt"], envelope.armored);
        seconds += (performance.now() - started) / 1000;
        if (sha256(output) === prepared.plaintextSha256[i]) verified++;
        progress.tick(i + 1);
      }
      return {
        side: `reference (gpg ${gnupgVersion()} --decrypt, one run per message)`,
        work: { messages: count, bytes: prepared.plaintextBytes, seconds },
        verified,
        failed: count - verified,
        peakRssBytes: peakRssBytes(),
      };
    } finally {
      stopGnupgAgent(home);
    }
  });
}

function gnupgVersion(): string {
  const run = spawnSync("gpg", ["--version"]);
  return /gpg \(GnuPG\) (\S+)/.exec(run.stdout?.toString() ?? "")?.[1] ?? "?";
}

function report(summary: PrepareSummary, ours: IncomingPhaseResult, reference: IncomingPhaseResult): BenchReport {
  const verified = ours.verified === summary.messages && reference.verified === summary.messages && ours.failed === 0;
  const mb = (bytes: number) => `${formatNumber(bytes / 1e6, 1)} MB`;
  return {
    name: "incoming",
    title: `incoming: ${formatNumber(summary.messages)} messages encrypted by the MX path, processed into INBOX vs gpg --decrypt per message`,
    summary: [
      `messages: ${mb(summary.plaintextBytes)} of MIME (${MIN_MESSAGE_BYTES / 1024}-${MAX_MESSAGE_BYTES / 1024} KB log-uniform), ` +
        `${mb(summary.armoredBytes)} armored; key: the account's own (Curve25519), ${summary.fingerprint}`,
      `every output equal to its message: ${verified ? "yes (both sides)" : `NO (ours ${ours.verified}, failed ${ours.failed}; gpg ${reference.verified})`}`,
    ],
    table: [
      ["", ours.side, reference.side, "ours/reference"],
      [
        "messages/s",
        formatNumber(messagesPerSecond(ours.work), 1),
        formatNumber(messagesPerSecond(reference.work), 1),
        formatRatio(messagesPerSecond(ours.work), messagesPerSecond(reference.work)),
      ],
      [
        "MB/s (plaintext)",
        formatNumber(megabytesPerSecond(ours.work), 2),
        formatNumber(megabytesPerSecond(reference.work), 2),
        formatRatio(megabytesPerSecond(ours.work), megabytesPerSecond(reference.work)),
      ],
      ["time", formatSeconds(ours.work.seconds), formatSeconds(reference.work.seconds), formatRatio(ours.work.seconds, reference.work.seconds)],
      ["peak RSS (process)", formatMiB(ours.peakRssBytes), "n/a (gpg processes)", ""],
    ],
    notes: [
      "Rates: a ratio above 1x means ours is faster. Ours covers the whole processing of a message: decrypting",
      `the MX layer, opening PGP/MIME, learning keys, stamping, storing in INBOX (pages of ${INCOMING_PAGE_SIZE}, as the`,
      "provider loop fetches them). gpg's covers decryption alone, with the start of a process per message",
      "(its agent already running). Each side runs in its own process.",
    ],
    data: { summary, ours, reference, verified },
  };
}

export const incomingBench: Bench = {
  name: "incoming",
  description: "process mail the MX encrypted to the account's key into INBOX vs gpg --decrypt per message",
  phases: {
    ours: () => measureOurs(),
    reference: () => measureGnupg(),
  },
  async run(options) {
    return withTempDir("bitmask-bench-incoming-", async (dir) => {
      process.env[DIR_ENV] = dir;
      process.env[SECRET_ENV] = randomBytes(64).toString("hex");
      try {
        const summary = await prepare(options);
        collectGarbage();
        const args = ["--messages", String(options.messages)];
        const ours = await runPhaseInChild<IncomingPhaseResult>("incoming.ours", args);
        const reference = await runPhaseInChild<IncomingPhaseResult>("incoming.reference", args);
        const result = report(summary, ours, reference);
        if (!(result.data as { verified: boolean }).verified) process.exitCode = 1;
        return result;
      } finally {
        delete process.env[DIR_ENV];
        delete process.env[SECRET_ENV];
      }
    });
  },
};
