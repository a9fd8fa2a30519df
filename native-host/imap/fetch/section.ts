// BODY[section] (RFC 3501 6.4.5): finding a part by its number and cutting
// out its header, a subset of header fields, its text, or its MIME header.
import type { MimeNode } from "../../../shared/documents";
import type { Message } from "../../mail/message";
import { isTraceField } from "../../mail/sync-header";
import { describedType, embedsMessage } from "./body-structure";
import type { SectionToken } from "../protocol/types";

/** Where a part path leads: an entity, whether it is reached as a message
 * (the top level, or the inside of a message/rfc822 part) or as a body part,
 * and whether that body part is one of a multipart's. */
type Located = { node: MimeNode; asMessage: boolean; inMultipart: boolean };

/** The entity a part path names, or null when there is none; decided as
 * Dovecot does where RFC 3501 6.4.5 is silent, and so as not to contradict
 * BODYSTRUCTURE (tests/integration/dovecot-reference.test.ts compares). */
export function locatePart(root: MimeNode, path: readonly number[]): Located | null {
  let current: Located = { node: root, asMessage: true, inMultipart: false };
  for (const n of path) {
    let { node } = current;
    let isMessage = current.asMessage;
    // A message/rfc822 body part: its sub-parts are those of the message inside.
    if (!current.asMessage && embedsMessage(node) && node.body.kind === "message") {
      node = node.body.node;
      isMessage = true;
    }
    if (node.body.kind === "multipart") {
      const part = node.body.parts[n - 1];
      if (!part) return null;
      current = { node: part.node, asMessage: false, inMultipart: true };
      continue;
    }
    const type = describedType(node, isMessage);
    if (n !== 1 || type.startsWith("multipart/") || (type === "message/rfc822" && node.body.kind !== "message")) {
      // A multipart whose delimiter never appears has, in BODYSTRUCTURE, one
      // empty text/plain part; a message/rfc822 kept opaque (encoded, or
      // empty) an empty message: nothing to return for them or under them.
      return null;
    }
    // A non-multipart message has one part, its body (RFC 3501 6.4.5); a
    // non-multipart part of a multipart is its own part 1 (as in Dovecot);
    // the part 1 of a single-part message has none.
    if (!isMessage && !current.inMultipart) return null;
    current = { node, asMessage: false, inMultipart: false };
  }
  return current;
}

/** The message an entity holds for HEADER and TEXT: itself at the top, the
 * embedded message of a message/rfc822 part, or null for any other part. */
function messageOf(located: Located): MimeNode | null {
  if (located.asMessage) return located.node;
  return embedsMessage(located.node) && located.node.body.kind === "message" ? located.node.body.node : null;
}

/** Header field names to keep or drop, compiled once per list (a FETCH asks
 * with the same list for every message): a field is matched without making
 * a string of its name, as a header sync matches every field of every message. */
class FieldNames {
  private readonly byLength = new Map<number, string[]>();
  /** Whether a trace field is named, which the sync header leaves out. */
  readonly namesTraceField: boolean;

  constructor(names: readonly string[]) {
    this.namesTraceField = names.some(isTraceField);
    for (const name of names) {
      const lower = name.toLowerCase();
      const same = this.byLength.get(lower.length) ?? [];
      if (!same.includes(lower)) same.push(lower);
      this.byLength.set(lower.length, same);
    }
  }

  /** Whether the field named text[start, end) (trimmed as String.trim()
   * would) is kept: it is named in the list, ignoring case, or with `exclude`
   * it is not. A field with a blank name is never kept. */
  keeps(text: string, start: number, end: number, exclude: boolean): boolean {
    while (start < end && isTrimmed(text.charCodeAt(start))) start++;
    while (end > start && isTrimmed(text.charCodeAt(end - 1))) end--;
    if (start === end) return false;
    const named = (this.byLength.get(end - start) ?? []).some((name) => {
      for (let i = 0; i < name.length; i++) if (lowerCode(text.charCodeAt(start + i)) !== name.charCodeAt(i)) return false;
      return true;
    });
    return named !== exclude;
  }
}

/** String.trim()'s white space, within latin1. */
const isTrimmed = (code: number) => code === 0x20 || (code >= 0x09 && code <= 0x0d) || code === 0xa0;
/** toLowerCase() of one latin1 character: A-Z and À-Þ but ×. */
const lowerCode = (code: number) =>
  (code >= 0x41 && code <= 0x5a) || (code >= 0xc0 && code <= 0xde && code !== 0xd7) ? code + 0x20 : code;

const compiledNames = new WeakMap<readonly string[], FieldNames>();
function fieldNames(names: readonly string[]): FieldNames {
  let compiled = compiledNames.get(names);
  if (!compiled) {
    compiled = new FieldNames(names);
    compiledNames.set(names, compiled);
  }
  return compiled;
}

/** HEADER.FIELDS (or .NOT): the fields of a header block (latin1 text) named
 * (or not) in `names`, each with its continuation lines and ending in a
 * line break, then a blank line. One pass over the lines, as every header sync
 * runs it on every message; runs of kept lines are cut out whole. */
export function selectFields(header: string, names: readonly string[], exclude: boolean): string {
  const wanted = fieldNames(names);
  let text = "";
  let inField = false;
  let keeping = false;
  let keptFrom = 0;
  let start = 0;
  while (start < header.length) {
    const newline = header.indexOf("\n", start);
    const end = newline < 0 ? header.length : newline + 1;
    const first = header.charCodeAt(start);
    if (end - start === 1 && first === 0x0a) break;
    if (end - start === 2 && first === 0x0d && header.charCodeAt(start + 1) === 0x0a) break;
    if (!(inField && (first === 0x20 || first === 0x09))) {
      // A new field (a continuation line with no field before it starts one too).
      inField = true;
      const colon = header.indexOf(":", start);
      const keep = colon > start && colon < end && wanted.keeps(header, start, colon, exclude);
      if (keep !== keeping) {
        if (keeping) text += header.slice(keptFrom, start);
        else keptFrom = start;
        keeping = keep;
      }
    }
    start = end;
  }
  if (keeping) {
    text += header.slice(keptFrom, start);
    if (!text.endsWith("\n")) text += "\r\n";
  }
  return text + "\r\n";
}

/** Whether a section is the header sync of every client: top-level fields
 * by name, none of them a trace field, so the message's sync header (a
 * fraction of its whole header, read without its MIME tree) has them all. */
export function usesSyncHeader(section: SectionToken): boolean {
  return section.part.length === 0 && section.text === "HEADER.FIELDS" && !fieldNames(section.headerFields ?? []).namesTraceField;
}

/** What a section holds: bytes, or binary text (one char per byte, latin1). */
export type SectionData = Buffer | string;

/** The bytes a section names, or null when the part does not exist. */
export function sectionBytes(message: Message, section: SectionToken): SectionData | null {
  if (usesSyncHeader(section)) return selectFields(message.syncHeader(), section.headerFields ?? [], false);
  if (section.part.length === 0 && section.text?.startsWith("HEADER")) {
    const header = message.headerText();
    if (section.text === "HEADER") return header;
    return selectFields(header, section.headerFields ?? [], section.text === "HEADER.FIELDS.NOT");
  }
  const located = locatePart(message.mime(), section.part);
  if (!located) return null;
  switch (section.text) {
    case undefined:
      return located.asMessage ? message.raw(located.node) : message.body(located.node);
    case "MIME":
      return located.asMessage ? null : located.node.header;
    case "HEADER":
    case "HEADER.FIELDS":
    case "HEADER.FIELDS.NOT": {
      const inner = messageOf(located);
      if (!inner) return null;
      if (section.text === "HEADER") return inner.header;
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

export function applyPartial<Data extends SectionData>(data: Data, section: SectionToken): Data {
  if (!section.partial) return data;
  const { start, length } = section.partial;
  const from = Math.min(start, data.length);
  const to = Math.min(start + length, data.length);
  return (typeof data === "string" ? data.slice(from, to) : data.subarray(from, to)) as Data;
}
