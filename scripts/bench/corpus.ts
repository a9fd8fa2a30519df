// A deterministic corpus of realistic MIME messages for the benches.
//
// The same seed and count give the same bytes in every process, so "ours" and
// the reference, each run in its own child process, store exactly the same
// messages (the checksum proves it). Sizes are log-uniform over 2-200 KB; the
// mix is plain text, multipart/alternative (text + HTML) and multipart/mixed
// with base64 attachments, some of which recur across messages as logos,
// signatures and forwarded documents do in real mailboxes. Top-level headers
// carry the relays' trace and signature fields, as delivered mail does.
import { createCipheriv, createHash } from "node:crypto";

export const DEFAULT_SEED = 20_260_101;
export const MIN_MESSAGE_BYTES = 2 * 1024;
export const MAX_MESSAGE_BYTES = 200 * 1024;

export type CorpusMessage = { raw: Buffer; flags: string[]; internalDate: Date };

export type Corpus = {
  messages: CorpusMessage[];
  totalBytes: number;
  /** SHA-256 over every message in order, hex. */
  checksum: string;
  kinds: Record<MessageKind, number>;
};

type MessageKind = "text/plain" | "multipart/alternative" | "multipart/mixed";

/** Mulberry32: a small, fast, seeded PRNG (good enough to pick sizes and words). */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Log-uniform in [min, max]: as many messages of 2-20 KB as of 20-200 KB. */
  logUniform(min: number, max: number): number {
    return Math.round(Math.exp(Math.log(min) + this.next() * (Math.log(max) - Math.log(min))));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

/** Deterministic incompressible bytes (AES-256-CTR keystream), standing in for
 * the photos, PDFs and archives that make up attachments. */
function binaryBytes(seed: number, stream: number, length: number): Buffer {
  const key = createHash("sha256").update(`bench-attachments-${seed}`).digest();
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(stream, 0);
  return createCipheriv("aes-256-ctr", key, iv).update(Buffer.alloc(length));
}

const WORDS = (
  "the of and to in is that for it as was with be by on not he this are or his from at which but have an they " +
  "you were her she there been one all we their has would when if so no will can more other about up out them " +
  "meeting project report attached please review thanks regards schedule budget update draft invoice quarter " +
  "deadline team client proposal agenda minutes follow question answer tomorrow friday monday office release " +
  "server backup password account contract figures summary version changes comments feedback approval weekend"
).split(" ");

/** A pool of wrapped text lines (CRLF, under 78 characters) to cut bodies from:
 * generating every body word by word would dominate the bench's start-up. */
function makeTextLines(random: SeededRandom, count: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    let line = "";
    while (line.length < 60) line += (line ? " " : "") + random.pick(WORDS);
    if (i % 7 === 0) line = line[0]!.toUpperCase() + line.slice(1) + ".";
    lines.push(`${line}\r\n`);
  }
  return lines;
}

function base64Lines(bytes: Buffer): string {
  return bytes.toString("base64").replace(/.{76}/g, "$&\r\n") + "\r\n";
}

/** Length in bytes of `bytes` once base64-encoded in 76-character CRLF lines. */
function base64Size(length: number): number {
  const chars = Math.ceil(length / 3) * 4;
  return chars + Math.ceil(chars / 76) * 2;
}

const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX_DIGITS = "0123456789abcdef";

type GeneratedMessage = { raw: Buffer; kind: MessageKind; date: Date };

type Attachment = { name: string; contentType: string; bytes: Buffer };

class MessageGenerator {
  private readonly random: SeededRandom;
  private readonly textLines: string[];
  /** Attachments that recur: logos, signatures, a policy PDF forwarded around. */
  private readonly recurring: Attachment[];
  private attachmentStream = 0;

  constructor(private readonly seed: number) {
    this.random = new SeededRandom(seed);
    this.textLines = makeTextLines(this.random, 8192);
    const recurringSpecs: [string, string, number][] = [
      ["logo.png", "image/png", 6_000],
      ["signature.gif", "image/gif", 3_000],
      ["letterhead.jpg", "image/jpeg", 24_000],
      ["privacy-policy.pdf", "application/pdf", 48_000],
      ["team-photo.jpg", "image/jpeg", 90_000],
      ["price-list.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 18_000],
    ];
    this.recurring = recurringSpecs.map(([name, contentType, size]) => ({
      name,
      contentType,
      bytes: this.binary(size),
    }));
  }

  private binary(length: number): Buffer {
    return binaryBytes(this.seed, this.attachmentStream++, length);
  }

  /** About `bytes` of wrapped text, starting at a random line of the pool. */
  private text(bytes: number): string {
    const parts: string[] = [];
    let line = this.random.int(0, this.textLines.length - 1);
    for (let size = 0; size < bytes; line = (line + 1) % this.textLines.length) {
      const next = this.textLines[line]!;
      parts.push(next);
      size += next.length;
    }
    return parts.join("");
  }

  private html(text: string): string {
    const paragraphs = text.split("\r\n").filter(Boolean);
    const body: string[] = [];
    for (let i = 0; i < paragraphs.length; i += 4) {
      body.push(`<p style="margin:0 0 1em 0">${paragraphs.slice(i, i + 4).join("<br>\r\n")}</p>\r\n`);
    }
    return `<!DOCTYPE html>\r\n<html><head><meta charset="utf-8"></head><body>\r\n${body.join("")}</body></html>\r\n`;
  }

  /** `length` characters of base64, as in signatures, folded as signers fold them. */
  private signature(length: number): string {
    let out = "";
    for (let i = 0; i < length; i++) {
      if (i > 0 && i % 72 === 0) out += "\r\n\t ";
      out += BASE64_ALPHABET[Math.floor(this.random.next() * 64)];
    }
    return out;
  }

  private hex(length: number): string {
    let out = "";
    for (let i = 0; i < length; i++) out += HEX_DIGITS[Math.floor(this.random.next() * 16)];
    return out;
  }

  /** The trace and authentication fields that relays and list servers add:
   * in real mail they are most of the top-level header (2-6 KB), and no
   * client asks for them when it syncs. */
  private traceHeaders(index: number, date: Date, sender: number, listMail: boolean): string {
    const when = date.toUTCString().replace("GMT", "+0000");
    const epoch = Math.floor(date.getTime() / 1000);
    const domain = listMail ? "lists.example.net" : "example.net";
    const fields: string[] = [`Return-Path: <sender${sender}@${domain}>\r\n`, "Delivered-To: alice@example.org\r\n"];
    for (let hop = this.random.int(2, 7); hop > 0; hop--) {
      fields.push(
        `Received: from mail-${this.hex(6)}.${domain} (mail-${this.hex(6)}.${domain} [198.51.100.${hop * 17}])\r\n` +
          `\tby mx${hop}.example.org (Postfix) with ESMTPS id ${this.hex(10).toUpperCase()}\r\n` +
          `\tfor <alice@example.org>; ${when}\r\n`,
      );
    }
    if (this.random.next() < 0.5) {
      fields.push(`X-Received: by 2002:a05:6a20:${this.hex(4)}:b0:${this.hex(3)}:${this.hex(4)} with SMTP id ${this.hex(12)}.${index}.${epoch};\r\n        ${when}\r\n`);
    }
    const results =
      `mx.example.org;\r\n       dkim=pass header.i=@${domain} header.s=20230601 header.b=${this.signature(8)};\r\n` +
      `       spf=pass (example.org: domain of sender${sender}@${domain} designates 198.51.100.7 as permitted sender) smtp.mailfrom=sender${sender}@${domain};\r\n` +
      `       dmarc=pass (p=NONE sp=QUARANTINE dis=NONE) header.from=${domain}`;
    if (this.random.next() < 0.4) {
      fields.push(
        `ARC-Seal: i=1; a=rsa-sha256; t=${epoch}; cv=none;\r\n        d=example.org; s=arc-20240605;\r\n        b=${this.signature(344)}\r\n`,
        `ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=arc-20240605;\r\n` +
          `        h=to:subject:message-id:date:from:mime-version:dkim-signature;\r\n        bh=${this.signature(44)};\r\n` +
          `        fh=${this.signature(44)};\r\n        b=${this.signature(344)}\r\n`,
        `ARC-Authentication-Results: i=1; ${results}\r\n`,
      );
    }
    if (this.random.next() < 0.8) fields.push(`Authentication-Results: ${results}\r\n`);
    if (this.random.next() < 0.6) {
      fields.push(
        `Received-SPF: pass (example.org: domain of sender${sender}@${domain} designates 198.51.100.7 as permitted sender)\r\n` +
          `\tclient-ip=198.51.100.7;\r\n`,
      );
    }
    if (this.random.next() < 0.75) {
      fields.push(
        `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=${domain}; s=20230601; t=${epoch}; x=${epoch + 604800}; darn=example.org;\r\n` +
          `        h=to:subject:message-id:date:from:mime-version:from:to:cc:subject:date:message-id:reply-to;\r\n` +
          `        bh=${this.signature(44)};\r\n        b=${this.signature(344)}\r\n`,
      );
    }
    if (this.random.next() < 0.25) {
      fields.push(
        `X-Google-DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=1e100.net; s=20230601; t=${epoch};\r\n` +
          `        h=to:subject:message-id:date:from:mime-version;\r\n        bh=${this.signature(44)};\r\n        b=${this.signature(344)}\r\n`,
        `X-Gm-Message-State: ${this.signature(100)}\r\n`,
        `X-Google-Smtp-Source: ${this.signature(90)}\r\n`,
      );
    }
    if (listMail) {
      fields.push(
        `List-Id: Team discussion <team.lists.example.net>\r\n`,
        `List-Unsubscribe: <mailto:team-request@lists.example.net?subject=unsubscribe>,\r\n <https://lists.example.net/mailman/options/team>\r\n`,
        `List-Archive: <https://lists.example.net/pipermail/team/>\r\n`,
        `List-Post: <mailto:team@lists.example.net>\r\n`,
        `Precedence: list\r\n`,
      );
    }
    return fields.join("");
  }

  private headers(index: number, date: Date, contentType: string): string {
    const sender = this.random.int(1, 400);
    const listMail = this.random.next() < 0.3;
    const fields = [this.traceHeaders(index, date, sender, listMail)];
    fields.push(`From: Sender ${sender} <sender${sender}@example.net>\r\n`, `To: Alice <alice@example.org>\r\n`);
    if (this.random.next() < 0.3) {
      const copied = Array.from({ length: this.random.int(1, 4) }, () => `colleague${this.random.int(1, 90)}@example.org`);
      fields.push(`Cc: ${copied.join(",\r\n ")}\r\n`);
    }
    fields.push(
      `Subject: ${this.text(40).split("\r\n")[0]} (${index})\r\n`,
      `Date: ${date.toUTCString().replace("GMT", "+0000")}\r\n`,
      `Message-ID: <bench-${this.seed}-${index}@example.net>\r\n`,
    );
    if (index > 0 && this.random.next() < 0.4) {
      // A reply: the thread's earlier messages, oldest first.
      const picks = Array.from({ length: this.random.int(1, Math.min(12, index)) }, () => this.random.int(0, index - 1));
      const thread = [...new Set(picks)].sort((a, b) => a - b);
      const ids = thread.map((earlier) => `<bench-${this.seed}-${earlier}@example.net>`);
      fields.push(`In-Reply-To: ${ids[ids.length - 1]}\r\n`, `References: ${ids.join("\r\n ")}\r\n`);
    }
    fields.push(`MIME-Version: 1.0\r\n`, `Content-Type: ${contentType}\r\n`);
    return fields.join("");
  }

  /** Message number `index`, between MIN and MAX_MESSAGE_BYTES long. */
  message(index: number): GeneratedMessage {
    let target = this.random.logUniform(MIN_MESSAGE_BYTES, MAX_MESSAGE_BYTES);
    for (;;) {
      const message = this.messageNear(index, target);
      const size = message.raw.length;
      if (size >= MIN_MESSAGE_BYTES && size <= MAX_MESSAGE_BYTES) return message;
      // Headers and MIME overhead made it miss the range: aim inside it again.
      target = Math.round(target * ((size < MIN_MESSAGE_BYTES ? MIN_MESSAGE_BYTES * 1.05 : MAX_MESSAGE_BYTES * 0.97) / size));
    }
  }

  /** Message number `index`, about `target` bytes long. */
  private messageNear(index: number, target: number): GeneratedMessage {
    const date = new Date(Date.UTC(2025, 0, 1) + index * 3_600_000 + this.random.int(0, 3_599_999));
    const boundary = `=_bench_${index}_${this.random.int(0, 1e9).toString(36)}`;
    const roll = this.random.next();
    // Big messages are mostly attachments; small ones mostly text.
    const kind: MessageKind =
      roll < 0.4 && target < 60_000
        ? "text/plain"
        : roll < 0.65 && target < 120_000
          ? "multipart/alternative"
          : "multipart/mixed";

    if (kind === "text/plain") {
      const header = this.headers(index, date, "text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit");
      return { raw: Buffer.from(`${header}\r\n${this.text(target - header.length - 2)}`), kind, date };
    }

    if (kind === "multipart/alternative") {
      const header = this.headers(index, date, `multipart/alternative; boundary="${boundary}"`);
      // The HTML copy is a little larger than the text it marks up.
      const text = this.text(Math.max(200, (target - header.length - 400) * 0.45));
      const raw =
        `${header}\r\nThis is a multi-part message in MIME format.\r\n` +
        `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}` +
        `--${boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${this.html(text)}` +
        `--${boundary}--\r\n`;
      return { raw: Buffer.from(raw), kind, date };
    }

    const header = this.headers(index, date, `multipart/mixed; boundary="${boundary}"`);
    const text = this.text(this.random.int(300, Math.min(4_000, target / 4)));
    const attachments: Attachment[] = [];
    let budget = target - header.length - text.length - 300;
    if (this.random.next() < 0.35) {
      const candidates = this.recurring.filter((a) => base64Size(a.bytes.length) + 200 < budget);
      if (candidates.length > 0) {
        const repeated = this.random.pick(candidates);
        attachments.push(repeated);
        budget -= base64Size(repeated.bytes.length) + 200;
      }
    }
    const fresh = Math.floor(((budget - 200) * 3) / 4 / 1.027); // undo base64 and its line breaks
    if (fresh > 512 || attachments.length === 0) {
      const [name, contentType] = this.random.pick([
        ["scan.pdf", "application/pdf"],
        ["photo.jpg", "image/jpeg"],
        ["archive.zip", "application/zip"],
        ["report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
      ] as const);
      attachments.push({ name: `${index}-${name}`, contentType, bytes: this.binary(Math.max(64, fresh)) });
    }
    const parts = [`--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}`];
    for (const attachment of attachments) {
      parts.push(
        `--${boundary}\r\nContent-Type: ${attachment.contentType}; name="${attachment.name}"\r\n` +
          `Content-Disposition: attachment; filename="${attachment.name}"\r\n` +
          `Content-Transfer-Encoding: base64\r\n\r\n${base64Lines(attachment.bytes)}`,
      );
    }
    const raw = `${header}\r\nThis is a multi-part message in MIME format.\r\n${parts.join("")}--${boundary}--\r\n`;
    return { raw: Buffer.from(raw), kind, date };
  }
}

/** Generates `count` messages in memory, the same for the same seed. */
export function generateCorpus(count: number, seed = DEFAULT_SEED): Corpus {
  const generator = new MessageGenerator(seed);
  const flagRandom = new SeededRandom(seed ^ 0x5eed);
  const hash = createHash("sha256");
  const kinds: Record<MessageKind, number> = { "text/plain": 0, "multipart/alternative": 0, "multipart/mixed": 0 };
  const messages: CorpusMessage[] = [];
  let totalBytes = 0;
  for (let index = 0; index < count; index++) {
    const { raw, kind, date } = generator.message(index);
    const flags = flagRandom.next() < 0.7 ? ["\\Seen"] : [];
    messages.push({ raw, flags, internalDate: date });
    kinds[kind]++;
    totalBytes += raw.length;
    hash.update(raw);
  }
  return { messages, totalBytes, checksum: hash.digest("hex"), kinds };
}
