// A MIME entity as RFC 3156 building and parsing need it: header fields kept
// as their raw lines (so the ones we move between the outer message and the
// protected inner part keep their exact folding and encoding), and the body
// as bytes. Strings are binary strings (one char per byte, latin1), so 8-bit
// header bytes pass through untouched.
import { randomBytes } from "node:crypto";
import { type ContentType, parseContentType } from "../mail/mime-header";

export type RawField = {
  /** The field name as written. */
  name: string;
  /** The whole field: "Name: value" with its continuation lines and final CRLF. */
  raw: string;
};

export type Entity = { fields: RawField[]; body: Buffer };

const CRLF = "\r\n";

/** Every line break as CRLF: the canonical form RFC 3156 signs, and SMTP's. */
export function toCrlf(bytes: Uint8Array): Buffer {
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Fast path: nothing to change (the usual case for mail that came over SMTP).
  let bareBreaks = 0;
  for (let at = input.indexOf(0x0a); at >= 0; at = input.indexOf(0x0a, at + 1)) if (input[at - 1] !== 0x0d) bareBreaks++;
  for (let at = input.indexOf(0x0d); at >= 0; at = input.indexOf(0x0d, at + 1)) if (input[at + 1] !== 0x0a) bareBreaks++;
  if (bareBreaks === 0) return input;
  const output = Buffer.allocUnsafe(input.length + bareBreaks);
  let length = 0;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i]!;
    if (byte === 0x0d) {
      output[length++] = 0x0d;
      output[length++] = 0x0a;
      if (input[i + 1] === 0x0a) i++;
    } else if (byte === 0x0a) {
      output[length++] = 0x0d;
      output[length++] = 0x0a;
    } else output[length++] = byte;
  }
  return output.subarray(0, length);
}

/** A header field's first line: a name of printable ASCII without colon, then a colon. */
const FIELD_START = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/;
/** RFC 5322's longest line: a field name cannot be longer. */
const MAX_LINE_BYTES = 998;

/** Splits a CRLF entity where its header block ends: at the blank line, or
 * (when the blank line is missing) at the first line that is neither a
 * field nor a continuation, which then starts the body, as Postfix and
 * other MTAs read it. A message is never cut to its header. */
export function parseEntity(bytes: Buffer): Entity {
  let lineStart = 0;
  for (;;) {
    const lineEnd = bytes.indexOf(CRLF, lineStart, "latin1");
    const end = lineEnd < 0 ? bytes.length : lineEnd;
    const header = () => parseFields(bytes.toString("latin1", 0, lineStart));
    // The blank line (or the end): the header block is over, the body follows it.
    if (end === lineStart) return { fields: header(), body: bytes.subarray(Math.min(bytes.length, end + 2)) };
    const line = bytes.toString("latin1", lineStart, Math.min(end, lineStart + MAX_LINE_BYTES + 1));
    const continues = lineStart > 0 && (line[0] === " " || line[0] === "\t");
    if (!continues && !FIELD_START.test(line)) return { fields: header(), body: bytes.subarray(lineStart) };
    if (lineEnd < 0) return { fields: parseFields(bytes.toString("latin1")), body: bytes.subarray(bytes.length) };
    lineStart = lineEnd + 2;
  }
}

/** Splits a header block (CRLF lines, without the blank line) into raw fields.
 * A line that is neither a field nor a continuation is dropped, as MUAs do. */
export function parseFields(block: string): RawField[] {
  const fields: RawField[] = [];
  for (const line of block.split(CRLF)) {
    if (line === "") continue;
    const last = fields[fields.length - 1];
    if ((line[0] === " " || line[0] === "\t") && last) {
      last.raw += line + CRLF;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon).trim(), raw: line + CRLF });
  }
  return fields;
}

export function formatEntity(entity: Entity): Buffer {
  return Buffer.concat([Buffer.from(entity.fields.map((field) => field.raw).join("") + CRLF, "latin1"), entity.body]);
}

/** A new field; `value` must already be a valid header value (ASCII or RFC 2047). */
export function newField(name: string, value: string): RawField {
  return { name, raw: `${name}: ${value}${CRLF}` };
}

/** The unfolded value of a field, trimmed. */
export function fieldValue(field: RawField): string {
  return field.raw
    .slice(field.raw.indexOf(":") + 1)
    .replace(/\r\n(?=[ \t])/g, "")
    .replace(/\r\n$/, "")
    .trim();
}

export function isNamed(field: RawField, name: string): boolean {
  return field.name.toLowerCase() === name.toLowerCase();
}

export function findField(fields: readonly RawField[], name: string): RawField | undefined {
  return fields.find((field) => isNamed(field, name));
}

export function withoutFields(fields: readonly RawField[], ...names: string[]): RawField[] {
  return fields.filter((field) => !names.some((name) => isNamed(field, name)));
}

/** Content-* fields describe the body they sit above, so they move with it. */
export function isContentField(field: RawField): boolean {
  return field.name.toLowerCase().startsWith("content-");
}

export function contentTypeOf(fields: readonly RawField[]): ContentType {
  const field = findField(fields, "Content-Type");
  return parseContentType(field ? fieldValue(field) : undefined);
}

/** A boundary that cannot occur in the parts: 144 random bits. */
export function newBoundary(): string {
  return `=-bitmask-${randomBytes(18).toString("base64url")}`;
}

/** A multipart body from finished parts (each an entity's bytes), RFC 2046. */
export function multipartBody(boundary: string, preamble: string, parts: readonly Buffer[]): Buffer {
  const chunks: Buffer[] = [Buffer.from(`${preamble}${CRLF}`, "latin1")];
  for (const part of parts) chunks.push(Buffer.from(`--${boundary}${CRLF}`, "latin1"), part, Buffer.from(CRLF, "latin1"));
  chunks.push(Buffer.from(`--${boundary}--${CRLF}`, "latin1"));
  return Buffer.concat(chunks);
}

/** Base64 in 76-character lines (RFC 2045 6.8), CRLF after each. */
export function base64Lines(bytes: Uint8Array): Buffer {
  const encoded = Buffer.from(bytes).toString("base64");
  const lines: string[] = [];
  for (let at = 0; at < encoded.length; at += 76) lines.push(encoded.slice(at, at + 76));
  return Buffer.from(lines.map((line) => line + CRLF).join(""), "latin1");
}
