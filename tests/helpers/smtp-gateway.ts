// A real SMTP gateway on 127.0.0.1, port 0, over a temp encrypted account,
// relaying over TLS to a recording sink (smtp-sink.ts); and the two SMTP
// clients the tests drive it with, nodemailer and swaks, behind one shape so
// that every rule is exercised by both.
import { writeFileSync } from "node:fs";
import path from "node:path";
import nodemailer from "nodemailer";
import type { PrivateKey, PublicKey } from "openpgp";
import { tokenAuthenticator } from "../../native-host/auth/authenticator";
import { MailTokens } from "../../native-host/auth/mail-token";
import { AccountKeyManager } from "../../native-host/keys/keymanager";
import type { OwnKey } from "../../native-host/keys/keymanager-api";
import { openMessage } from "../../native-host/pgp/open";
import { type Bounce, deliverBounce } from "../../native-host/smtp/bounce";
import { type Sender, type SmtpEvent, SmtpGateway } from "../../native-host/smtp/gateway";
import { Outbox } from "../../native-host/smtp/outbox";
import { OutgoingQueue, type QueueClock } from "../../native-host/smtp/outgoing-queue";
import { SmtpSubmissionRelay } from "../../native-host/smtp/relay";
import { generateKeyPair } from "./pgp-keys";
import { SmtpSink, selfSignedCertificate } from "./smtp-sink";
import { openTempAccount, tempDir } from "./temp-store";
import { runTool } from "./tools";

export const SENDER = "alice@example.org";
const RELAY_CREDENTIAL = { user: SENDER, pass: "provider-session-token" };

let certificate: Promise<{ key: string; cert: string }> | null = null;

/** A clock the test moves by hand; timers fire only through advance(). */
export class ManualClock implements QueueClock {
  private nowMs = Date.UTC(2026, 10, 23, 10, 0, 0);
  private timers: { at: number; callback: () => void }[] = [];

  now(): number {
    return this.nowMs;
  }

  setTimer(delayMs: number, callback: () => void): () => void {
    const timer = { at: this.nowMs + delayMs, callback };
    this.timers.push(timer);
    return () => (this.timers = this.timers.filter((t) => t !== timer));
  }

  /** Moves time on, firing the timers that came due. */
  advance(ms: number): void {
    this.nowMs += ms;
    const due = this.timers.filter((timer) => timer.at <= this.nowMs);
    this.timers = this.timers.filter((timer) => timer.at > this.nowMs);
    for (const timer of due) timer.callback();
  }
}

export type GatewayOptions = {
  relayTls?: "implicit" | "starttls";
  clock?: QueueClock;
};

export async function startGateway(options: GatewayOptions = {}) {
  const temp = await openTempAccount();
  const tokens = new MailTokens(temp.store);
  const token = tokens.current();
  const keymanager = new AccountKeyManager({ store: temp.store, address: SENDER });
  const own = await keymanager.ensureOwnKey();
  const tls = options.relayTls ?? "implicit";
  certificate ??= selfSignedCertificate();
  const sink = new SmtpSink({ tls, certificate: await certificate, credential: RELAY_CREDENTIAL });
  await sink.start();
  const relayCredential = { ...RELAY_CREDENTIAL };
  const relay = new SmtpSubmissionRelay({ host: "127.0.0.1", port: sink.port, tls, ca: sink.ca, credential: () => relayCredential });
  const bounces: Bounce[] = [];
  const bounce = (failed: Bounce) => {
    bounces.push(failed);
    deliverBounce(temp.account, failed);
  };
  const queueErrors: unknown[] = [];
  const queue = new OutgoingQueue({ store: temp.store, relay, bounce, clock: options.clock, onError: (e) => queueErrors.push(e) });
  queue.start();
  let alwaysEncrypt = false;
  const sender: Sender = { address: SENDER, keys: keymanager, alwaysEncrypt: () => alwaysEncrypt, outbox: new Outbox(relay, queue, bounce) };
  const events: SmtpEvent[] = [];
  const gateway = new SmtpGateway({ authenticate: tokenAuthenticator(SENDER, tokens, sender), onEvent: (event) => events.push(event) });
  const port = await gateway.listen(0);
  /** Makes the keymanager know `key` as the contact's key, verified by fingerprint. */
  const learnContact = async (address: string, key: PublicKey) => {
    await keymanager.importKey(key.armor(), { address, validation: "Fingerprint" });
  };
  return {
    ...temp,
    port,
    token,
    own,
    learnContact,
    /** A fresh key pair for a contact, whose public key the keymanager knows. */
    async addContact(address: string): Promise<OwnKey> {
      const contact = await generateKeyPair(address);
      await learnContact(address, contact.publicKey);
      return contact;
    },
    /** Whether the keymanager recorded encrypting to the contact's key. */
    usedForEncryption(address: string): boolean {
      return keymanager.listKeys().some((key) => key.address === address && key.usedForEncryption);
    },
    sink,
    queue,
    queueErrors,
    bounces,
    events,
    relayCredential,
    setAlwaysEncrypt(value: boolean) {
      alwaysEncrypt = value;
    },
    async stop() {
      await gateway.close();
      await queue.stop();
      await sink.stop();
      temp.close();
    },
  };
}

export type Gateway = Awaited<ReturnType<typeof startGateway>>;

// ---------------------------------------------------------------------------
// Clients

export type Submission = { port: number; user: string; pass: string; from: string; to: string[]; message: Buffer };

/** What the client reported: whether the message was accepted, and every
 * server reply it showed, for matching against expected codes and texts. */
export type ClientResult = { accepted: boolean; replies: string };

export type SmtpClient = { name: string; tool?: string; send(submission: Submission): Promise<ClientResult> };

type NodemailerFailure = Error & { response?: string; rejectedErrors?: { response?: string }[] };

export const nodemailerClient: SmtpClient = {
  name: "nodemailer",
  async send({ port, user, pass, from, to, message }) {
    const transport = nodemailer.createTransport({ host: "127.0.0.1", port, secure: false, ignoreTLS: true, auth: { user, pass } });
    try {
      const info = await transport.sendMail({ envelope: { from, to }, raw: message });
      const rejected = (info as { rejectedErrors?: { response?: string }[] }).rejectedErrors ?? [];
      return { accepted: true, replies: [info.response, ...rejected.map((e) => e.response)].join("\n") };
    } catch (error) {
      const failure = error as NodemailerFailure;
      const rejected = failure.rejectedErrors?.map((e) => e.response) ?? [];
      return { accepted: false, replies: [failure.response ?? failure.message, ...rejected].join("\n") };
    } finally {
      transport.close();
    }
  },
};

export const swaksClient: SmtpClient = {
  name: "swaks",
  tool: "swaks",
  async send({ port, user, pass, from, to, message }) {
    const { dir, cleanup } = tempDir("bitmask-swaks-");
    try {
      const file = path.join(dir, "message.eml");
      // --no-data-fixup sends the file as it is: dot-stuffing and the final
      // dot are ours to add (and it keeps swaks from rewriting the message).
      const stuffed = message.toString("latin1").replace(/^\./gm, "..");
      writeFileSync(file, Buffer.from(`${stuffed}${stuffed.endsWith("\r\n") ? "" : "\r\n"}.\r\n`, "latin1"));
      const args = ["--server", `127.0.0.1:${port}`, "--auth", "PLAIN", "--auth-user", user, "--auth-password", pass];
      args.push("--from", from, "--to", to.join(","), "--data", `@${file}`, "--no-data-fixup", "--suppress-data", "--timeout", "120");
      const run = await runTool("swaks", args, { timeoutMs: 180_000 });
      // swaks prints "<~ 250 ..." / "<** 550 ..." for server replies, "***" for its own errors.
      const replies = run.stdout
        .split("\n")
        .filter((line) => /^\s*(<-|<~|<\*\*|\*\*\*)/.test(line))
        .map((line) => line.replace(/^\s*(<-|<~|<\*\*|\*\*\*)\s*/, ""))
        .join("\n");
      return { accepted: run.code === 0, replies };
    } finally {
      cleanup();
    }
  },
};

// ---------------------------------------------------------------------------
// Reading what the relay received

export function headerOf(raw: Buffer): string {
  const end = raw.indexOf("\r\n\r\n");
  return raw.toString("latin1", 0, end < 0 ? raw.length : end + 2);
}

/** Decrypts and verifies a copy as its recipient would. */
export async function openAs(raw: Buffer, recipient: { privateKey: PrivateKey }, sender: OwnKey) {
  return openMessage(raw, { decryptionKeys: [recipient.privateKey], verificationKeys: [sender.publicKey] });
}
