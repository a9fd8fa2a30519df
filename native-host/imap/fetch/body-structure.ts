// FETCH BODY and BODYSTRUCTURE (RFC 3501 7.4.2) from the stored MIME tree.
//
// Sizes and line counts come from the tree alone (header strings, multipart
// framing strings and the size and LF count recorded for each leaf), so no
// leaf body is loaded. The Content-* fields are read as Dovecot reads them,
// including its lenient handling of broken values, so that responses can be
// compared byte for byte with a reference server; where the RFCs give no
// rule we follow it too (see envelope.ts).
import type { MimeBody, MimeNode } from "../../../shared/documents";
import { parseExactHeaderFields, type HeaderField } from "../../mail/mime-header";
import type { ImapData } from "../response/encode";
import { adjoined, envelopeFromHeader, imapNString, imapString, unfolded } from "./envelope";
import { HeaderValueCursor } from "./header-value-cursor";

type Parameter = { name: string; value: string };

/** What a part's Content-* fields say; null where a field is absent or unreadable. */
type ContentFields = {
  /** Null without a Content-Type field: RFC 2045 5.2's text/plain. */
  type: string | null;
  subtype: string | null;
  params: Parameter[];
  encoding: string | null;
  id: string | null;
  description: string | null;
  md5: string | null;
  disposition: { type: string; params: Parameter[] } | null;
  language: string[] | null;
  location: string | null;
};

const noContentFields = (): ContentFields => ({
  type: null,
  subtype: null,
  params: [],
  encoding: null,
  id: null,
  description: null,
  md5: null,
  disposition: null,
  language: null,
  location: null,
});

// ---- Reading structured MIME values (RFC 2045 5.1, 6.1; RFC 2183; RFC 3282)

/** token characters: atext of RFC 5322 without "/", "?" and "=", plus ".";
 * 8-bit bytes are accepted as in real mail. */
function isTokenChar(code: number): boolean {
  if (code >= 0x80) return true;
  if ((code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) return true;
  return "!#$%&'*+-^_`{|}~.".includes(String.fromCharCode(code));
}

/** MIME parameter values over the shared header-value cursor. */
class ValueReader extends HeaderValueCursor {
  /** A MIME token, possibly empty, then CFWS. */
  token(): { step: number; text: string } {
    return this.run(isTokenChar);
  }

  /** ";" attribute "=" value. */
  parameter(): { step: number; name: string; value: string } {
    if (this.atEnd) return { step: 0, name: "", value: "" };
    if (this.peek() !== ";") return { step: -1, name: "", value: "" };
    this.position++;
    if (this.skipCfws() <= 0) return { step: -1, name: "", value: "" };
    const name = this.token();
    if (name.step <= 0 || this.peek() !== "=") return { step: -1, name: "", value: "" };
    this.position++;
    let value: { step: number; text: string } = { step: this.skipCfws(), text: "" };
    if (value.step <= 0) {
      // "name=" at the end: an empty value
    } else if (this.peek() === '"') {
      value = this.quotedString();
    } else if (this.peek() === "=") {
      // Unquoted encoded words (name==?utf-8?b?...?=) run to the next separator.
      const start = this.position;
      while (!this.atEnd && !";\t\r\n ".includes(this.peek())) this.position++;
      value = { step: value.step, text: this.text.slice(start, this.position) };
    } else {
      value = this.token();
    }
    return { step: value.step < 0 ? -1 : 1, name: name.text, value: value.text };
  }
}

type Piece = { name: string; index: number; extended: boolean; value: string };

/** The parameters after a media type or disposition, with RFC 2231
 * continuations joined ("name*0", "name*1*" -> "name*" with the charset
 * prefix kept, values still percent-encoded). Unreadable parameters are
 * skipped. */
function readParameters(reader: ValueReader): Parameter[] {
  const plain: Parameter[] = [];
  const pieces: Piece[] = [];
  for (;;) {
    const parameter = reader.parameter();
    if (parameter.step === 0) break;
    if (parameter.step < 0) {
      if (reader.atEnd) break;
      reader.position++; // skip a character and try again
      continue;
    }
    const piece = rfc2231Piece(parameter.name, parameter.value);
    if (piece) pieces.push(piece);
    else plain.push({ name: parameter.name, value: parameter.value });
  }
  return [...plain, ...joinContinuations(pieces)];
}

/** "name*" (extended), "name*N" (continuation) or "name*N*" (both). */
function rfc2231Piece(name: string, value: string): Piece | null {
  const star = name.indexOf("*");
  if (star < 0) return null;
  const rest = name.slice(star + 1);
  if (rest === "") return { name: name.slice(0, star), index: 0, extended: true, value };
  const match = /^(\d*)(\*?)$/.exec(rest);
  if (!match) return null;
  return { name: name.slice(0, star), index: Number(match[1] || 0), extended: match[2] === "*", value };
}

function joinContinuations(pieces: Piece[]): Parameter[] {
  const sorted = [...pieces].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.index - b.index));
  const joined: Parameter[] = [];
  for (let start = 0; start < sorted.length; ) {
    let end = start;
    while (end < sorted.length && sorted[end]!.name.toLowerCase() === sorted[start]!.name.toLowerCase()) end++;
    const group = sorted.slice(start, end);
    start = end;
    const complete = group.every((piece, i) => piece.index === i);
    const anyExtended = group.some((piece) => piece.extended);
    if (!complete) {
      // Missing pieces: keep them as they came rather than guess.
      for (const piece of group) {
        joined.push({ name: `${piece.name}*${piece.index}${piece.extended ? "*" : ""}`, value: piece.value });
      }
      continue;
    }
    let value = !group[0]!.extended && anyExtended ? "''" : "";
    for (const piece of group) value += !piece.extended && anyExtended ? piece.value.replace(/%/g, "%25") : piece.value;
    joined.push({ name: group[0]!.name + (anyExtended ? "*" : ""), value });
  }
  return joined;
}

/** type "/" subtype, then nothing or parameters. Anything else leaves an
 * empty type and subtype (not text/plain: the part does declare a type, it
 * is just unreadable), which is what Dovecot reports. */
function readContentType(value: string, content: ContentFields): void {
  const reader = new ValueReader(value);
  content.type = "";
  content.subtype = "";
  if (reader.skipCfws() <= 0) return;
  const type = reader.token();
  if (type.step <= 0 || type.text === "" || reader.peek() !== "/") return;
  reader.position++;
  if (reader.skipCfws() <= 0) return;
  const subtype = reader.token();
  if (subtype.step < 0 || subtype.text === "" || !(reader.atEnd || reader.peek() === ";")) return;
  content.type = type.text;
  content.subtype = subtype.text;
  content.params = readParameters(reader);
}

function readEncoding(value: string): string | null {
  const reader = new ValueReader(value);
  reader.skipCfws();
  const token = reader.token();
  return token.step >= 0 && reader.skipCfws() === 0 && token.text !== "" ? token.text : null;
}

function readDisposition(value: string): ContentFields["disposition"] {
  const reader = new ValueReader(value);
  reader.skipCfws();
  const token = reader.token();
  if (token.step < 0) return null;
  return { type: token.text, params: readParameters(reader) };
}

function readLanguage(value: string): string[] | null {
  const reader = new ValueReader(value);
  const tags: string[] = [];
  reader.skipCfws();
  for (;;) {
    const tag = reader.atom();
    if (tag.step < 0) break;
    tags.push(tag.text);
    if (reader.atEnd || reader.peek() !== ",") break;
    reader.position++;
    reader.skipCfws();
  }
  return tags.length > 0 ? tags : null;
}

/** The Content-* fields of a part; the first of each counts. A part that
 * is not MIME (no MIME-Version nor Content-Type field, and not inside a
 * multipart) has none: RFC 2045 4 gives them meaning only in MIME entities. */
function readContentFields(fields: HeaderField[], isMime: boolean): ContentFields {
  const content = noContentFields();
  if (!isMime) return content;
  let sawType = false;
  for (const { name, value } of fields) {
    switch (name.toLowerCase()) {
      case "content-type":
        if (!sawType) readContentType(value, content);
        sawType = true;
        break;
      case "content-transfer-encoding":
        content.encoding ??= readEncoding(value);
        break;
      case "content-id":
        content.id ??= value;
        break;
      case "content-description":
        content.description ??= value;
        break;
      case "content-md5":
        content.md5 ??= value;
        break;
      case "content-location":
        content.location ??= value;
        break;
      case "content-language":
        content.language ??= readLanguage(value);
        break;
      case "content-disposition":
        // A later field may still supply the parameters a first one lacked (Dovecot).
        if (content.disposition === null || content.disposition.params.length === 0) {
          content.disposition = readDisposition(value) ?? content.disposition;
        }
        break;
    }
  }
  return content;
}

function declaresMime(fields: HeaderField[]): boolean {
  return fields.some(({ name }) => {
    const lower = name.toLowerCase();
    return lower === "mime-version" || lower === "content-type";
  });
}

// ---- Sizes and lines from the tree

function countLineFeeds(text: string): number {
  let count = 0;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) count++;
  return count;
}

function bodyExtent(body: MimeBody): { size: number; lines: number } {
  switch (body.kind) {
    case "leaf":
      return { size: body.size, lines: body.lines };
    case "message":
      return nodeExtent(body.node);
    case "multipart": {
      const framing = [body.preamble, ...body.parts.map((part) => part.delimiter), body.close ?? "", body.epilogue];
      let size = 0;
      let lines = 0;
      for (const text of framing) {
        size += text.length;
        lines += countLineFeeds(text);
      }
      for (const part of body.parts) {
        const extent = nodeExtent(part.node);
        size += extent.size;
        lines += extent.lines;
      }
      return { size, lines };
    }
  }
}

function nodeExtent(node: MimeNode): { size: number; lines: number } {
  const body = bodyExtent(node.body);
  return { size: node.header.length + body.size, lines: countLineFeeds(node.header) + body.lines };
}

// ---- Writing

const EMPTY_ENVELOPE: ImapData = [null, null, null, null, null, null, null, null, null, null];

/** RFC 3501 requires at least one body in a multipart and a body inside a
 * message/rfc822; where the message has none, an empty text/plain stands in. */
function emptyBody(extensible: boolean): ImapData[] {
  const body: ImapData[] = ["text", "plain", ["charset", "us-ascii"], null, null, "7bit", 0, 0];
  return extensible ? [...body, null, null, null, null] : body;
}

function parameterList(params: Parameter[], defaultCharset: boolean): ImapData {
  const list: ImapData[] = params.flatMap(({ name, value }) => [imapString(name), imapString(value)]);
  if (defaultCharset && !params.some(({ name }) => name.toLowerCase() === "charset")) list.push("charset", "us-ascii");
  return list.length > 0 ? list : null;
}

const unfoldedOrNull = (value: string | null) => imapNString(value === null ? null : unfolded(value));

/** disposition, language and location: the extension data both body kinds end with. */
function commonExtension(content: ContentFields): ImapData[] {
  const disposition = content.disposition;
  return [
    disposition === null ? null : [imapString(disposition.type), parameterList(disposition.params, false)],
    content.language === null ? null : content.language.map(imapString),
    unfoldedOrNull(content.location),
  ];
}

/** The type BODYSTRUCTURE gives an entity by its Content-Type, lower-cased
 * ("multipart/mixed"; "" when it names none). `isMessage`: the entity is a
 * message (the top, or inside a message/rfc822 part), whose Content-*
 * fields count only with MIME-Version. */
export function describedType(node: MimeNode, isMessage: boolean): string {
  const fields = parseExactHeaderFields(node.header);
  const content = readContentFields(fields, !isMessage || declaresMime(fields));
  return content.type === null ? "" : `${content.type}/${content.subtype ?? ""}`.toLowerCase();
}

/** Whether BODYSTRUCTURE describes a body part the splitter embedded as a
 * message (body kind "message") as one, with its own envelope and parts:
 * message/rfc822 and a digest's untyped parts are; message/global is a
 * plain part (as in Dovecot), so HEADER, TEXT and sub-parts are not its. */
export function embedsMessage(node: MimeNode): boolean {
  return node.body.kind === "message" && describedType(node, false) !== "message/global";
}

/** `inDigest`: a part of a multipart/digest, whose default type is
 * message/rfc822 rather than text/plain (RFC 2046 5.1.5). */
function partStructure(node: MimeNode, isMime: boolean, extensible: boolean, inDigest = false): ImapData[] {
  const fields = parseExactHeaderFields(node.header);
  const content = readContentFields(fields, isMime || declaresMime(fields));
  const type = content.type?.toLowerCase();
  const subtype = content.subtype?.toLowerCase();

  if (type === "multipart") {
    const parts = node.body.kind === "multipart" ? node.body.parts : [];
    const children =
      parts.length > 0
        ? parts.map((part) => partStructure(part.node, true, extensible, subtype === "digest"))
        : [emptyBody(extensible)];
    const structure: ImapData[] = [adjoined(children), imapString(content.subtype ?? "")];
    if (extensible) structure.push(parameterList(content.params, false), ...commonExtension(content));
    return structure;
  }

  const untyped = content.type === null;
  const isMessage = (untyped && inDigest) || (type === "message" && subtype === "rfc822");
  const isText = (untyped && !inDigest) || type === "text";
  const structure: ImapData[] = isMessage
    ? ["message", "rfc822"]
    : content.type === null
      ? ["text", "plain"]
      : [imapString(content.type), imapString(content.subtype ?? "")];
  const extent = bodyExtent(node.body);
  structure.push(
    parameterList(content.params, isText),
    unfoldedOrNull(content.id),
    unfoldedOrNull(content.description),
    content.encoding === null ? "7bit" : imapString(content.encoding),
    extent.size,
  );
  if (isText) structure.push(extent.lines);
  if (isMessage) {
    // The splitter embeds only what RFC 2046 5.2.1 allows (7bit, 8bit or
    // binary, not empty); any other message/rfc822 body stays one opaque
    // leaf, described as a message with no fields and an empty body.
    const embedded = node.body.kind === "message" ? node.body.node : null;
    structure.push(
      embedded ? envelopeFromHeader(embedded.header) : EMPTY_ENVELOPE,
      embedded ? partStructure(embedded, false, extensible) : emptyBody(extensible),
      extent.lines,
    );
  }
  if (extensible) structure.push(unfoldedOrNull(content.md5), ...commonExtension(content));
  return structure;
}

/** A single-part message of plain US-ASCII text with nothing else said
 * about it: Dovecot answers BODY for it in canonical lower case
 * ("Text/Plain; charset=US-ASCII" becomes "text" "plain" ("charset"
 * "us-ascii")). Media types and charsets are case-insensitive (RFC 2045
 * 5.1), so this only keeps the answers byte-identical. */
function isPlainAsciiText(content: ContentFields): boolean {
  const [first, ...more] = content.params;
  return (
    (content.type === null || (content.type.toLowerCase() === "text" && content.subtype?.toLowerCase() === "plain")) &&
    (first === undefined ||
      (more.length === 0 && first.name.toLowerCase() === "charset" && first.value.toLowerCase() === "us-ascii")) &&
    (content.encoding === null || content.encoding.toLowerCase() === "7bit") &&
    content.id === null &&
    content.description === null &&
    content.md5 === null &&
    content.disposition === null &&
    content.language === null &&
    content.location === null
  );
}

/** BODYSTRUCTURE when extensible, BODY otherwise. */
export function bodyStructure(root: MimeNode, extensible: boolean): ImapData {
  if (!extensible && root.body.kind === "leaf") {
    const fields = parseExactHeaderFields(root.header);
    if (isPlainAsciiText(readContentFields(fields, declaresMime(fields)))) {
      const { size, lines } = bodyExtent(root.body);
      return ["text", "plain", ["charset", "us-ascii"], null, null, "7bit", size, lines];
    }
  }
  return partStructure(root, false, extensible);
}
