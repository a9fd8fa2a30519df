// The text of a message as SEARCH sees it: header fields unfolded with
// RFC 2047 encoded words decoded, and the body's text decoded from its
// transfer encoding and charset. One function produces it, for the full-text
// index and for the linear scan that checks the index, so both always agree.
import type { MimeNode } from "../../shared/documents";
import { type HeaderField, headerValue, parseContentType, parseExactHeaderFields, parseHeaderFields } from "./mime-header";

export type SearchableText = {
  /** The top-level header: one "Name: decoded value" line per field. */
  header: string;
  /** The text parts, including the header and text of attached messages. */
  body: string;
  /** False when a stored part was missing (not yet synced): the text is partial. */
  complete: boolean;
};

export type SearchField = "body" | "text";

/** A leaf body by hash, still transfer-encoded; undefined when not stored. */
export type LeafReader = (hash: string) => Uint8Array | undefined;

export function searchableText(root: MimeNode, leaf: LeafReader): SearchableText {
  const body: string[] = [];
  const complete = collectBodyText(root, leaf, body);
  return { header: headerText(root.header), body: body.join("\n"), complete };
}

/** IMAP SEARCH compares strings without regard to case. This folds both sides
 * (upper then lower case approximates Unicode full case folding: "ß" matches
 * "SS", final sigma matches sigma) and maps NUL, which SQLite's string
 * functions stop at, to U+FFFD. */
export function foldCase(text: string): string {
  return text.toUpperCase().toLowerCase().replace(/\0/g, "\uFFFD");
}

/** A header block's fields as IMAP reads them (parseExactHeaderFields, as
 * for ENVELOPE), each value unfolded: its line breaks removed (RFC 5322 2.2.3). */
export function unfoldedHeaderFields(header: string): HeaderField[] {
  return parseExactHeaderFields(header).map((field) => ({ name: field.name, value: field.value.replace(/[\r\n]/g, "") }));
}

function headerText(header: string): string {
  return unfoldedHeaderFields(header)
    .map((field) => `${field.name}: ${decodeHeaderValue(field.value)}`)
    .join("\n");
}

/** Appends the text of an entity's body; returns false if a part was missing. */
function collectBodyText(node: MimeNode, leaf: LeafReader, out: string[]): boolean {
  const body = node.body;
  if (body.kind === "multipart") {
    let complete = true;
    for (const part of body.parts) complete = collectBodyText(part.node, leaf, out) && complete;
    return complete;
  }
  if (body.kind === "message") {
    out.push(headerText(body.node.header));
    return collectBodyText(body.node, leaf, out);
  }
  const fields = parseHeaderFields(node.header);
  const contentType = parseContentType(headerValue(fields, "content-type"));
  // Binary attachments carry no text worth searching (and would bloat the index).
  if (contentType.type !== "text") return true;
  const bytes = leaf(body.hash);
  if (!bytes) return false;
  out.push(decodeCharset(transferDecode(bytes, fields), contentType.params.charset));
  return true;
}

/** A leaf's body without its Content-Transfer-Encoding (base64, quoted-printable). */
export function transferDecode(bytes: Uint8Array, fields: HeaderField[]): Uint8Array {
  const encoding = headerValue(fields, "content-transfer-encoding")?.trim().toLowerCase();
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (encoding === "base64") return Buffer.from(buffer.toString("latin1"), "base64");
  if (encoding === "quoted-printable") return decodeQuotedPrintable(buffer, false);
  return buffer;
}

const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;

/** RFC 2045 6.7 quoted-printable, or RFC 2047's "Q" encoding (underscore is a
 * space there). Malformed escapes are kept as written, as MUAs show them. */
function decodeQuotedPrintable(input: Buffer, qEncoding: boolean): Buffer {
  const out = Buffer.alloc(input.length);
  let length = 0;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i]!;
    if (qEncoding && byte === 0x5f) {
      out[length++] = 0x20;
      continue;
    }
    if (byte !== 0x3d /* = */) {
      out[length++] = byte;
      continue;
    }
    const pair = input.toString("latin1", i + 1, i + 3);
    if (HEX_PAIR.test(pair)) {
      out[length++] = parseInt(pair, 16);
      i += 2;
      continue;
    }
    // A soft line break: "=", optional trailing blanks, then the line end.
    const softBreak = /^[ \t]*\r?\n/.exec(input.toString("latin1", i + 1, i + 80));
    if (softBreak) {
      i += softBreak[0].length;
      continue;
    }
    out[length++] = byte;
  }
  return out.subarray(0, length);
}

const decoders = new Map<string, TextDecoder | null>();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** windows-1252's characters for bytes 0x80-0x9F (the rest is Latin-1). Node's
 * TextDecoder("windows-1252") decodes these as C1 controls, like Latin-1. */
const WINDOWS_1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

function decodeWindows1252(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString("latin1")
    .replace(/[\x80-\x9f]/g, (char) => String.fromCharCode(WINDOWS_1252_HIGH[char.charCodeAt(0) - 0x80]!));
}

function decoderFor(charset: string): TextDecoder | null {
  let decoder = decoders.get(charset);
  if (decoder === undefined) {
    try {
      decoder = new TextDecoder(charset);
    } catch {
      decoder = null; // a charset TextDecoder does not know (utf-7, x-unknown...)
    }
    decoders.set(charset, decoder);
  }
  return decoder;
}

/** Decodes text in its declared charset. Without one, with US-ASCII (often
 * wrong in practice) or with an unknown one: UTF-8 when the bytes are valid
 * UTF-8, else windows-1252, which decodes every byte. */
export function decodeCharset(bytes: Uint8Array, charset: string | undefined): string {
  const label = charset?.trim().toLowerCase().replace(/\*.*$/, "") ?? "";
  const declared = label === "" || label === "us-ascii" || label === "ascii" ? null : decoderFor(label);
  // WHATWG maps Latin-1 labels to windows-1252 too.
  if (declared?.encoding === "windows-1252") return decodeWindows1252(bytes);
  if (declared) return declared.decode(bytes);
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return decodeWindows1252(bytes);
  }
}

const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

/** Decodes a header value given as a binary string: RFC 2047 encoded words
 * (adjacent ones joined before decoding, since senders split multi-byte
 * characters across them; the blanks between them dropped, RFC 2047 6.2) and
 * raw 8-bit text (UTF-8 when valid, else windows-1252). */
export function decodeHeaderValue(value: string): string {
  const out: string[] = [];
  // Adjacent encoded words in one charset, decoded together once the run ends.
  let run: { charset: string; bytes: Buffer[] } | null = null;
  let position = 0;
  for (const match of value.matchAll(ENCODED_WORD)) {
    const between = value.slice(position, match.index);
    const charset = match[1]!.toLowerCase().replace(/\*.*$/, "");
    const text = Buffer.from(match[3]!, "latin1");
    const bytes = match[2]!.toUpperCase() === "B" ? Buffer.from(text.toString("latin1"), "base64") : decodeQuotedPrintable(text, true);
    const adjacent = run !== null && /^[ \t\r\n]*$/.test(between);
    if (run && adjacent && run.charset === charset) {
      run.bytes.push(bytes);
    } else {
      if (run) out.push(decodeCharset(Buffer.concat(run.bytes), run.charset));
      if (!adjacent) out.push(decodeCharset(Buffer.from(between, "latin1"), undefined));
      run = { charset, bytes: [bytes] };
    }
    position = match.index + match[0].length;
  }
  if (run) out.push(decodeCharset(Buffer.concat(run.bytes), run.charset));
  out.push(decodeCharset(Buffer.from(value.slice(position), "latin1"), undefined));
  return out.join("");
}
