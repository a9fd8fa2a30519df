// Incoming mail (docs/DESIGN.md, Incoming mail): each message the provider's MX
// encrypted to the account's key is decrypted, its PGP/MIME layer opened and
// verified, keys are learned from it, the X-Leap-* headers are stamped, and
// the result is stored in INBOX in the same transaction that deletes the
// incoming document. A crash leaves one or the other, never both or neither.
// A message that cannot be decrypted is never dropped: it goes to INBOX as a
// notice with the ciphertext attached, and is listed in the error log.
import { randomBytes } from "node:crypto";
import * as openpgp from "openpgp";
import type { Account } from "../mail/account";
import { headerValue, parseHeaderFields } from "../mail/mime-header";
import type { KeyManager } from "../keys/keymanager-api";
import { INCOMING_PAGE_SIZE } from "../limits";
import { fieldValue, findField, formatEntity, multipartBody, newBoundary, newField, parseEntity, toCrlf } from "../pgp/mime-entity";
import { type OpenedMessage, openMessage } from "../pgp/open";
import type { DocumentStore } from "../store/document-store";
import { stripForeignAuthenticationResults } from "./authentication-results";
import { attachedKeys, senderAddress } from "./message-keys";

export type IncomingEnvelope = { providerId: string; armored: string; receivedAt: number };
export type IncomingError = { providerId: string; receivedAt: number; error: string; at: number };
export type IncomingReport = { stored: number; failed: number };

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS incoming_errors (
    provider_id TEXT NOT NULL, received_at INTEGER NOT NULL, error TEXT NOT NULL, at INTEGER NOT NULL
  );
`;

export const incomingIdFor = (providerId: string) => `I-${providerId}`;

export class IncomingProcessor {
  private readonly q;

  constructor(
    private readonly store: DocumentStore,
    private readonly account: Account,
    private readonly keys: KeyManager,
  ) {
    store.sql.exec(SCHEMA);
    this.q = {
      addError: store.sql.prepare("INSERT INTO incoming_errors (provider_id, received_at, error, at) VALUES (?, ?, ?, ?)"),
      errors: store.sql.prepare<[], IncomingError>(
        "SELECT provider_id AS providerId, received_at AS receivedAt, error, at FROM incoming_errors ORDER BY at DESC LIMIT 200",
      ),
    };
  }

  /** Keeps fetched envelopes locally (one transaction); the provider's copies
   * may be deleted once this returns. Fetching the same envelope again is
   * harmless, also after it was processed: its tombstone remembers it (a
   * crash before the provider's copy was deleted brings it back). */
  stash(envelopes: IncomingEnvelope[]): void {
    this.store.transaction(() => {
      for (const envelope of envelopes) {
        const id = incomingIdFor(envelope.providerId);
        if (!this.store.getIncludingDeleted(id)) this.store.put("incoming", id, envelope);
      }
    });
  }

  /** Messages that could not be decrypted or read, newest first. */
  errors(): IncomingError[] {
    return this.q.errors.all();
  }

  /** Processes every stashed envelope. */
  async processAll(): Promise<IncomingReport> {
    const report: IncomingReport = { stored: 0, failed: 0 };
    const docs = this.store.allOfType("incoming");
    // A few messages per transaction: one commit (a sync to disk) per
    // message was most of the cost, and memory stays bounded.
    for (let start = 0; start < docs.length; start += INCOMING_PAGE_SIZE) {
      const batch = docs.slice(start, start + INCOMING_PAGE_SIZE);
      const outcomes: { doc: (typeof batch)[number]; envelope: IncomingEnvelope; message: Buffer; error?: string }[] = [];
      for (const doc of batch) outcomes.push({ doc, envelope: doc.content!, ...(await this.prepare(doc.content!)) });
      const inbox = this.account.requireMailbox("INBOX");
      this.store.transaction(() => {
        for (const { doc, envelope, message, error } of outcomes) {
          // Keyed by the provider's id: a device that took the same envelope too makes the same message, not a second one.
          inbox.add(message, { flags: [], internalDate: new Date(envelope.receivedAt), key: `incoming-${envelope.providerId}` });
          this.store.delete(doc.id);
          if (error) this.q.addError.run(envelope.providerId, envelope.receivedAt, error, Date.now());
        }
      });
      for (const { error } of outcomes) {
        if (error) report.failed++;
        else report.stored++;
      }
    }
    return report;
  }

  /** The bytes to store for one envelope: the opened message, or a notice. */
  private async prepare(envelope: IncomingEnvelope): Promise<{ message: Buffer; error?: string }> {
    let raw: Uint8Array;
    try {
      const message = await openpgp.readMessage({ armoredMessage: envelope.armored });
      const { data } = await openpgp.decrypt({ message, decryptionKeys: await this.keys.decryptionKeys(), format: "binary" });
      const { address } = await this.keys.ownKey();
      raw = stripForeignAuthenticationResults(data, address.slice(address.lastIndexOf("@") + 1));
    } catch (error) {
      const reason = `the provider's envelope could not be decrypted: ${(error as Error).message}`;
      return { message: undecryptableNotice(envelope, reason), error: reason };
    }
    try {
      return { message: stamp(raw, await this.open(raw)) };
    } catch (error) {
      const reason = `the OpenPGP message inside could not be read: ${(error as Error).message}`;
      // The provider's layer is off: the message is kept as it arrived,
      // attached to a notice that says why it could not be opened.
      return { message: unopenedNotice(raw, reason), error: reason };
    }
  }

  /** Learns the sender's keys (Autocrypt header, attached keys), then
   * decrypts and verifies; verifies again if a key learned inside helps. */
  private async open(raw: Uint8Array): Promise<OpenedMessage> {
    const fields = parseHeaderFields(topHeader(raw));
    const from = senderAddress(headerValue(fields, "from"));
    const date = new Date(headerValue(fields, "date") ?? Date.now());
    const when = Number.isNaN(date.getTime()) ? new Date() : date;
    if (from) {
      const autocrypt = headerValue(fields, "autocrypt");
      if (autocrypt) await this.keys.learnAutocrypt(from, autocrypt, when);
      else await this.keys.learnNoAutocrypt(from, when);
    }
    const openWithKnownKeys = async () =>
      openMessage(raw, {
        decryptionKeys: await this.keys.decryptionKeys(),
        verificationKeys: from ? (await this.keys.publicKeysFor(from)).map((info) => info.key) : [],
      });
    let opened = await openWithKnownKeys();
    if (from) {
      let learned = false;
      for (const armored of attachedKeys(opened.message)) learned = (await this.keys.learnAttachedKey(from, armored)) === null || learned;
      if (learned && opened.signature?.status === "unknown-key") opened = await openWithKnownKeys();
      if (opened.signature?.status === "valid") await this.keys.recordKeyUse(from, opened.signature.fingerprint, "signing");
    }
    return opened;
  }
}

function topHeader(raw: Uint8Array): string {
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("latin1");
  const end = text.search(/\r?\n\r?\n/);
  return end < 0 ? text : text.slice(0, end);
}

/** LEAP's header values (docs/LEAP.md section 3). */
function signatureHeader(opened: OpenedMessage | null): string {
  const signature = opened?.signature;
  if (signature?.status === "valid") return `valid; pubkey="${signature.fingerprint}"`;
  if (signature?.status === "invalid") return "invalid";
  return "could not verify";
}

/** Puts X-Leap-Encryption / X-Leap-Signature at the top, after removing any
 * the sender wrote (they would otherwise claim a status we never checked). */
export function stamp(raw: Uint8Array, opened: OpenedMessage | null, failure?: string): Buffer {
  const message = opened?.message ?? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const text = message.toString("latin1");
  const headerEnd = text.search(/\r?\n\r?\n/);
  const header = headerEnd < 0 ? text : text.slice(0, headerEnd + 1);
  const rest = headerEnd < 0 ? "" : text.slice(headerEnd + 1);
  const kept = header.replace(/^X-Leap-(Encryption|Signature|Error):.*\r?\n(?:[ \t].*\r?\n)*/gim, "");
  const lines = [
    ...(opened?.encrypted ? ["X-Leap-Encryption: decrypted"] : []),
    `X-Leap-Signature: ${signatureHeader(opened)}`,
    ...(failure ? [`X-Leap-Error: ${failure.replace(/[\r\n]+/g, " ")}`] : []),
  ];
  return Buffer.from(lines.map((line) => line + "\r\n").join("") + kept + rest, "latin1");
}

/** What the user sees in INBOX for a message whose PGP/MIME or inline PGP
 * could not be decrypted or read: a notice from the original sender (so it
 * sorts and threads as the message would), with the original attached as
 * it arrived, still encrypted, so a key restored later or another program
 * can open it. */
function unopenedNotice(raw: Uint8Array, reason: string): Buffer {
  const original = toCrlf(raw);
  const { fields } = parseEntity(original);
  const copied = ["From", "To", "Cc", "Date", "Message-ID", "In-Reply-To", "References"].flatMap((name) => {
    const field = findField(fields, name);
    return field ? [field] : [];
  });
  const subject = findField(fields, "Subject");
  const boundary = newBoundary();
  const notice = Buffer.from(
    [
      "Content-Type: text/plain; charset=utf-8",
      "",
      "Bitmask could not decrypt or read this message.",
      `Reason: ${reason}`,
      "The message is attached as it arrived.",
      "",
    ].join("\r\n"),
    "utf8",
  );
  // message/rfc822 takes no base64 (RFC 2046 5.2.1): 8-bit bytes are declared.
  const encoding = original.some((byte) => byte >= 0x80) ? "Content-Transfer-Encoding: 8bit\r\n" : "";
  const attachedHeader = `Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename="original.eml"\r\n${encoding}\r\n`;
  const attached = Buffer.concat([Buffer.from(attachedHeader, "latin1"), original]);
  const header = [
    ...copied,
    newField("Subject", subject ? `[not decrypted] ${fieldValue(subject)}` : "[not decrypted]"),
    newField("MIME-Version", "1.0"),
    newField("X-Leap-Signature", "could not verify"),
    newField("X-Leap-Error", reason.replace(/[\r\n]+/g, " ")),
    newField("Content-Type", `multipart/mixed; boundary="${boundary}"`),
  ];
  return formatEntity({ fields: header, body: multipartBody(boundary, "This message could not be decrypted.", [notice, attached]) });
}

/** What the user sees in INBOX for mail that could not be decrypted at all:
 * a short explanation, with the encrypted original attached so nothing is lost. */
function undecryptableNotice(envelope: IncomingEnvelope, reason: string): Buffer {
  const boundary = `bitmask-${randomBytes(8).toString("hex")}`;
  const date = new Date(envelope.receivedAt).toUTCString().replace("GMT", "+0000");
  return Buffer.from(
    [
      "From: Bitmask Mail <bitmask@localhost>",
      "Subject: A message could not be decrypted",
      `Date: ${date}`,
      `Message-ID: <undecryptable-${envelope.providerId}@bitmask.localhost>`,
      "MIME-Version: 1.0",
      `X-Leap-Error: ${reason.replace(/[\r\n]+/g, " ")}`,
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      "",
      `--${boundary}`,
      "Content-Type: text/plain; charset=utf-8",
      "",
      `A message arrived on ${date} that Bitmask could not decrypt.`,
      `Reason: ${reason}`,
      "The encrypted original is attached; it may open with a key you restore later.",
      `--${boundary}`,
      'Content-Type: application/pgp-encrypted; name="original.asc"',
      'Content-Disposition: attachment; filename="original.asc"',
      "",
      envelope.armored.replace(/\r?\n/g, "\r\n"),
      `--${boundary}--`,
      "",
    ].join("\r\n"),
    "utf8",
  );
}
