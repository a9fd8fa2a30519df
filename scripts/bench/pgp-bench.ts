// The OpenPGP bench: sign+encrypt throughput of what the SMTP gateway does
// for each recipient with a key (native-host/pgp signAndEncryptMessage: an
// RFC 3156 message signed by the sender, encrypted to the recipient and the
// sender, armored), against `gpg --sign --encrypt --armor` run once per
// message, as a mail client calling GnuPG does, on the same payloads.
//
// Payloads: 10 KB and 1 MB messages (text plus a base64 attachment), made
// from a fixed seed so both phases encrypt the same bytes (checksum
// compared). Keys: Curve25519, made by openpgp.js for both sides (GnuPG gets
// them imported into a throwaway GNUPGHOME), so the algorithms are the same.
// Each side runs in its own child process; one message of each size from
// each side is decrypted and checked.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import * as openpgp from "openpgp";
import { signAndEncryptMessage } from "../../native-host/pgp/build";
import { openMessage } from "../../native-host/pgp/open";
import {
  type Bench,
  type BenchOptions,
  type BenchReport,
  type Throughput,
  Progress,
  formatNumber,
  formatRatio,
  megabytesPerSecond,
  messagesPerSecond,
  runPhaseInChild,
  withTempDir,
} from "./report";
import { gnupgIn, stopGnupgAgent } from "./gnupg";

const SENDER = "alice@example.org";
const RECIPIENT = "bob@example.net";

type PayloadSize = { label: string; bytes: number; messages: (options: BenchOptions) => number };

/** Message counts follow --messages (10,000 by default, 1,000 with --quick). */
const SIZES: readonly PayloadSize[] = [
  { label: "10 KB", bytes: 10_000, messages: ({ messages }) => Math.max(10, Math.min(500, Math.round(messages / 20))) },
  { label: "1 MB", bytes: 1_000_000, messages: ({ messages }) => Math.max(3, Math.min(50, Math.round(messages / 200))) },
];

type SizeResult = { label: string; work: Throughput; checksum: string; verified: boolean };
export type PgpPhaseResult = { side: string; sizes: SizeResult[] };

/** A deterministic message of about `bytes` bytes: headers, a line of text,
 * and an attachment of SHA-256 counter-mode bytes in base64. */
function payload(bytes: number, index: number): Buffer {
  const header =
    `From: ${SENDER}\r\nTo: ${RECIPIENT}\r\nSubject: bench ${index}\r\nMessage-ID: <bench-${bytes}-${index}@example.org>\r\n` +
    `Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n` +
    `--b\r\nContent-Type: text/plain\r\n\r\nBench message ${index}.\r\n--b\r\nContent-Type: application/octet-stream\r\n` +
    `Content-Transfer-Encoding: base64\r\n\r\n`;
  const rawBytes = Math.max(0, Math.floor(((bytes - header.length - 12) * 3) / 4 / 1.027));
  const blocks: Buffer[] = [];
  for (let counter = 0; blocks.length * 32 < rawBytes; counter++) {
    blocks.push(createHash("sha256").update(`${bytes}/${index}/${counter}`).digest());
  }
  const base64 = Buffer.concat(blocks).subarray(0, rawBytes).toString("base64").replace(/.{76}/g, "$&\r\n");
  return Buffer.from(`${header}${base64}\r\n--b--\r\n`, "latin1");
}

async function generateKeys() {
  const make = (email: string) => openpgp.generateKey({ userIDs: [{ email }], type: "ecc", curve: "curve25519Legacy", format: "object" });
  const [sender, recipient] = await Promise.all([make(SENDER), make(RECIPIENT)]);
  return { sender, recipient };
}

/** Measures one side: `encrypt` is timed per message; `check` verifies the
 * first output of each size, untimed. */
async function measure(
  side: string,
  options: BenchOptions,
  encrypt: (message: Buffer) => Promise<Buffer> | Buffer,
  check: (output: Buffer, input: Buffer) => Promise<boolean>,
): Promise<PgpPhaseResult> {
  const sizes: SizeResult[] = [];
  for (const size of SIZES) {
    const count = size.messages(options);
    const messages = Array.from({ length: count }, (_, i) => payload(size.bytes, i));
    const checksum = createHash("sha256");
    for (const message of messages) checksum.update(message);
    const progress = new Progress(`${side}: ${size.label}`, count);
    let seconds = 0;
    let verified = false;
    let totalBytes = 0;
    for (const [i, message] of messages.entries()) {
      // Timed around the await: ours is asynchronous (openpgp.js), gpg's is not.
      const started = performance.now();
      const output = await encrypt(message);
      seconds += (performance.now() - started) / 1000;
      totalBytes += message.length;
      if (i === 0) verified = await check(output, message);
      progress.tick(i + 1);
    }
    sizes.push({ label: size.label, work: { messages: count, bytes: totalBytes, seconds }, checksum: checksum.digest("hex"), verified });
  }
  return { side, sizes };
}

async function measureOurs(options: BenchOptions): Promise<PgpPhaseResult> {
  const { sender, recipient } = await generateKeys();
  return measure(
    "ours (openpgp.js, RFC 3156)",
    options,
    (message) => signAndEncryptMessage(message, sender.privateKey, [recipient.publicKey, sender.publicKey]),
    async (output, input) => {
      const opened = await openMessage(output, { decryptionKeys: [recipient.privateKey], verificationKeys: [sender.publicKey] });
      const body = (bytes: Buffer) => bytes.subarray(bytes.indexOf("\r\n\r\n"));
      return opened.signature?.status === "valid" && body(opened.message).equals(body(input));
    },
  );
}

async function measureGnupg(options: BenchOptions): Promise<PgpPhaseResult> {
  const { sender, recipient } = await generateKeys();
  return withTempDir("bitmask-bench-gnupg-", async (home) => {
    const gpg = gnupgIn(home);
    gpg(["--import"], sender.privateKey.armor());
    gpg(["--import"], recipient.publicKey.armor());
    try {
      return await measure(
        `reference (gpg ${gnupgVersion()}, one run per message)`,
        options,
        (message) => gpg(["--armor", "--sign", "--encrypt", "-u", SENDER, "-r", RECIPIENT, "-r", SENDER], message),
        async (output, input) => {
          const decrypted = await openpgp.decrypt({
            message: await openpgp.readMessage({ armoredMessage: output.toString("latin1") }),
            decryptionKeys: recipient.privateKey,
            verificationKeys: sender.publicKey,
            expectSigned: true,
            format: "binary",
          });
          return Buffer.from(decrypted.data).equals(input);
        },
      );
    } finally {
      stopGnupgAgent(home);
    }
  });
}

function gnupgVersion(): string {
  const run = spawnSync("gpg", ["--version"]);
  return /gpg \(GnuPG\) (\S+)/.exec(run.stdout?.toString() ?? "")?.[1] ?? "?";
}

function report(ours: PgpPhaseResult, reference: PgpPhaseResult): BenchReport {
  const rows: string[][] = [["", ours.side, reference.side, "ours/reference"]];
  for (const [i, size] of ours.sizes.entries()) {
    const theirs = reference.sizes[i]!;
    const rate = (work: Throughput) => messagesPerSecond(work);
    rows.push([
      `${size.label} sign+encrypt msgs/s (${formatNumber(size.work.messages)} msgs)`,
      formatNumber(rate(size.work), 1),
      formatNumber(rate(theirs.work), 1),
      formatRatio(rate(size.work), rate(theirs.work)),
    ]);
    rows.push([
      `${size.label} MB/s`,
      formatNumber(megabytesPerSecond(size.work), 2),
      formatNumber(megabytesPerSecond(theirs.work), 2),
      formatRatio(megabytesPerSecond(size.work), megabytesPerSecond(theirs.work)),
    ]);
  }
  const verified = [...ours.sizes, ...reference.sizes].every((size) => size.verified);
  return {
    name: "pgp",
    title: "pgp: sign+encrypt throughput (Curve25519), our RFC 3156 build vs gpg run once per message",
    summary: [`sample outputs decrypt and verify: ${verified ? "yes (both sides, every size)" : "NO"}`],
    table: rows,
    notes: [
      "A ratio above 1x means ours is faster. Ours includes building the PGP/MIME message around the",
      "OpenPGP data; gpg's figure includes starting the process, as a client calling gpg per message pays.",
      "Each side runs in its own process; times count the sign+encrypt calls only.",
    ],
    data: { ours, reference, verified },
  };
}

export const pgpBench: Bench = {
  name: "pgp",
  description: "sign+encrypt 10 KB and 1 MB messages: openpgp.js (RFC 3156) vs gpg per message",
  phases: {
    ours: (options: BenchOptions) => measureOurs(options),
    reference: (options: BenchOptions) => measureGnupg(options),
  },
  async run(options) {
    const args = ["--messages", String(options.messages)];
    const ours = await runPhaseInChild<PgpPhaseResult>("pgp.ours", args);
    const reference = await runPhaseInChild<PgpPhaseResult>("pgp.reference", args);
    if (ours.sizes.some((size, i) => size.checksum !== reference.sizes[i]?.checksum)) {
      throw new Error("the two phases encrypted different payloads: the comparison would be meaningless");
    }
    if (![...ours.sizes, ...reference.sizes].every((size) => size.verified)) process.exitCode = 1;
    return report(ours, reference);
  },
};
