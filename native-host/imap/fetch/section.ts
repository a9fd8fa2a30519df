// BODY[section] (RFC 3501 6.4.5): finding a part by its number and cutting
// out its header, a subset of header fields, its text, or its MIME header.
import type { MimeNode } from "../../../shared/documents";
import type { Message } from "../../mail/message";
import type { SectionToken } from "../protocol/types";

/** Where a part path leads: an entity, and whether it is reached as a message
 * (the top level, or the inside of a message/rfc822 part) or as a body part. */
type Located = { node: MimeNode; asMessage: boolean };

export function locatePart(root: MimeNode, path: readonly number[]): Located | null {
  let current: Located = { node: root, asMessage: true };
  for (const n of path) {
    let { node } = current;
    // A message/rfc822 body part: its sub-parts are those of the message inside.
    if (!current.asMessage && node.body.kind === "message") node = node.body.node;
    if (node.body.kind === "multipart") {
      const part = node.body.parts[n - 1];
      if (!part) return null;
      current = { node: part.node, asMessage: false };
    } else if (n === 1 && (current.asMessage || node !== current.node)) {
      // A non-multipart message has one part, its body (RFC 3501 6.4.5).
      current = { node, asMessage: false };
    } else {
      return null;
    }
  }
  return current;
}

/** The message an entity holds for HEADER and TEXT: itself at the top, the
 * embedded message of a message/rfc822 part, or null for any other part. */
function messageOf(located: Located): MimeNode | null {
  if (located.asMessage) return located.node;
  return located.node.body.kind === "message" ? located.node.body.node : null;
}

/** The raw header fields of a block, each with its continuation lines. */
export function headerFieldBlocks(header: string): { name: string; raw: string }[] {
  const fields: { name: string; raw: string }[] = [];
  const lines = header.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  for (const line of lines) {
    if (line === "\r\n" || line === "\n") break;
    if ((line[0] === " " || line[0] === "\t") && fields.length > 0) {
      fields[fields.length - 1]!.raw += line;
      continue;
    }
    const colon = line.indexOf(":");
    fields.push({ name: colon > 0 ? line.slice(0, colon).trim().toLowerCase() : "", raw: line });
  }
  return fields;
}

/** HEADER.FIELDS (or .NOT): the fields of a header block named (or not) in
 * `names`, as headerFieldBlocks cuts them, each ending in a line break, then
 * a blank line. One pass over the lines, as every header sync runs it on
 * every message. */
export function selectFields(header: string, names: readonly string[], exclude: boolean): Buffer {
  const wanted = new Set(names.map((name) => name.toLowerCase()));
  let text = "";
  let inField = false;
  let keeping = false;
  for (let start = 0; start < header.length; ) {
    const newline = header.indexOf("\n", start);
    const end = newline < 0 ? header.length : newline + 1;
    const first = header.charCodeAt(start);
    if (end - start === 1 && first === 0x0a) break;
    if (end - start === 2 && first === 0x0d && header.charCodeAt(start + 1) === 0x0a) break;
    if (!(inField && (first === 0x20 || first === 0x09))) {
      // A new field (a continuation line with no field before it starts one too).
      inField = true;
      const colon = header.indexOf(":", start);
      const name = colon > start && colon < end ? header.slice(start, colon).trim().toLowerCase() : "";
      keeping = name !== "" && wanted.has(name) !== exclude;
    }
    if (keeping) text += header.slice(start, end);
    start = end;
  }
  if (keeping && !text.endsWith("\n")) text += "\r\n";
  return Buffer.from(text + "\r\n", "latin1");
}

/** The bytes a section names, or null when the part does not exist. */
export function sectionBytes(message: Message, section: SectionToken): Buffer | null {
  if (section.part.length === 0 && section.text?.startsWith("HEADER")) {
    // The top-level header (the header sync of every client): from the
    // message's header bytes, without reading its MIME tree.
    const header = message.headerBytes();
    if (section.text === "HEADER") return header;
    return selectFields(header.toString("latin1"), section.headerFields ?? [], section.text === "HEADER.FIELDS.NOT");
  }
  const located = locatePart(message.mime(), section.part);
  if (!located) return null;
  switch (section.text) {
    case undefined:
      return located.asMessage ? message.raw(located.node) : message.body(located.node);
    case "MIME":
      return located.asMessage ? null : Buffer.from(located.node.header, "latin1");
    case "HEADER":
    case "HEADER.FIELDS":
    case "HEADER.FIELDS.NOT": {
      const inner = messageOf(located);
      if (!inner) return null;
      if (section.text === "HEADER") return Buffer.from(inner.header, "latin1");
      return selectFields(inner.header, section.headerFields ?? [], section.text === "HEADER.FIELDS.NOT");
    }
    case "TEXT": {
      const inner = messageOf(located);
      return inner ? message.body(inner) : null;
    }
  }
}

/** How the section is named in the response: as asked, without PEEK and partial length. */
export function sectionLabel(section: SectionToken): string {
  const parts = section.part.join(".");
  let text = section.text ?? "";
  if (section.headerFields) text += ` (${section.headerFields.join(" ")})`;
  const inside = parts && text ? `${parts}.${text}` : parts || text;
  const origin = section.partial ? `<${section.partial.start}>` : "";
  return `BODY[${inside}]${origin}`;
}

export function applyPartial(bytes: Buffer, section: SectionToken): Buffer {
  if (!section.partial) return bytes;
  const { start, length } = section.partial;
  return bytes.subarray(Math.min(start, bytes.length), Math.min(start + length, bytes.length));
}
