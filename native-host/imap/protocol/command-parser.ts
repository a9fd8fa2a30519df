// IMAP command parser: turns a RawCommand from the reader into a tag, a
// command name and a token tree (RFC 3501 section 9 syntax, literal8 from
// RFC 3516, UTF-8 in quoted strings for UTF8=ACCEPT). It knows no command's
// grammar: handlers read their arguments with the tokenAs* helpers below,
// which throw ParseError with a message fit for a BAD response.

import { MAX_LIST_DEPTH, MAX_TOKENS_PER_COMMAND } from "../limits";
import { findLiteralMarker, isTagByte } from "./command-reader";
import { parseSequenceSet } from "./sequence-set";
import {
  ParseError,
  type ImapToken,
  type ParseResult,
  type RawCommand,
  type SectionItem,
  type SectionText,
  type SectionToken,
  type SequenceSet,
} from "./types";

export interface ParserLimits {
  maxListDepth: number;
  maxTokens: number;
}

export const DEFAULT_PARSER_LIMITS: Readonly<ParserLimits> = { maxListDepth: MAX_LIST_DEPTH, maxTokens: MAX_TOKENS_PER_COMMAND };

const NUL = 0x00;
const SPACE = 0x20;
const DQUOTE = 0x22;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const TILDE = 0x7e;
const DEL = 0x7f;

const MAX_UINT32 = 0xffff_ffff;
/** Number tokens hold up to 63 bits: the range of CONDSTORE mod-sequences. */
const MAX_NUMBER_TOKEN = (1n << 63n) - 1n;

const SECTION_ITEMS: ReadonlySet<string> = new Set<SectionItem>(["BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE"]);
const SECTION_TEXTS: ReadonlySet<string> = new Set<SectionText>(["HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME"]);

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Parses one command; never throws for any input the reader can produce. */
export function parseCommand(raw: RawCommand, limits: ParserLimits = DEFAULT_PARSER_LIMITS): ParseResult {
  const parser = new Parser(raw, limits);
  let tag: string | undefined;
  try {
    tag = parser.readTag();
    parser.rejectNulBytes();
    let name = parser.readCommandName();
    const uid = name === "UID";
    if (uid) name = parser.readCommandName();
    return { ok: true, command: { tag, name, uid, args: parser.readArguments() } };
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    return tag === undefined ? { ok: false, message: error.message } : { ok: false, tag, message: error.message };
  }
}

/** Reads tokens left to right across the lines and literals of one command. */
class Parser {
  private lineIndex = 0;
  private position = 0;
  private line: Buffer;
  private tokenCount = 0;

  constructor(
    private readonly raw: RawCommand,
    private readonly limits: ParserLimits,
  ) {
    if (raw.lines.length !== raw.literals.length + 1) throw new Error("RawCommand needs one more line than literals");
    this.line = raw.lines[0]!;
  }

  readTag(): string {
    const start = this.position;
    while (this.position < this.line.length && isTagByte(this.line[this.position]!)) this.position++;
    const next = this.peek();
    if (next === NUL) throw new ParseError("NUL byte outside a literal");
    if (this.position === start) throw new ParseError(next === undefined ? "Empty command line" : "Missing tag");
    if (next !== undefined && next !== SPACE) throw new ParseError(`Invalid character ${describeByte(next)} in tag`);
    return this.line.toString("latin1", start, this.position);
  }

  /** NUL is never valid outside a literal; checked up front so no token type has to. */
  rejectNulBytes(): void {
    if (this.raw.lines.some((line) => line.includes(NUL))) throw new ParseError("NUL byte outside a literal");
  }

  /** A space, then the command name, upper-cased. */
  readCommandName(): string {
    if (this.line[this.position] !== SPACE) throw new ParseError("Missing command name");
    this.position++;
    const start = this.position;
    while (this.position < this.line.length && isTagByte(this.line[this.position]!)) this.position++;
    const name = this.line.toString("latin1", start, this.position);
    if (!/^[A-Za-z][A-Za-z0-9.-]*$/.test(name)) throw new ParseError(name === "" ? "Missing command name" : `Invalid command name "${name}"`);
    this.expectSeparator(false);
    return name.toUpperCase();
  }

  readArguments(): ImapToken[] {
    return this.readTokens(0, false);
  }

  private atEnd(): boolean {
    return this.position >= this.line.length;
  }

  private peek(): number | undefined {
    return this.line[this.position];
  }

  /** Tokens up to the end of the command, or up to and including the `)` closing a list. */
  private readTokens(depth: number, inList: boolean): ImapToken[] {
    const tokens: ImapToken[] = [];
    for (;;) {
      while (this.peek() === SPACE) this.position++;
      if (this.atEnd()) {
        if (inList) throw new ParseError("Unbalanced parentheses: missing ')'");
        return tokens;
      }
      if (this.peek() === CLOSE_PAREN) {
        if (!inList) throw new ParseError("Unbalanced parentheses: unexpected ')'");
        this.position++;
        return tokens;
      }
      tokens.push(this.readToken(depth));
      this.expectSeparator(inList);
    }
  }

  /** After a token comes a space, the end of the command, or a `)` inside a list. */
  private expectSeparator(inList: boolean): void {
    const next = this.peek();
    if (next === undefined || next === SPACE || (next === CLOSE_PAREN && inList)) return;
    if (next === CLOSE_PAREN) throw new ParseError("Unbalanced parentheses: unexpected ')'");
    const context = this.line.toString("latin1", Math.max(0, this.position - 10), this.position);
    throw new ParseError(`Expected a space after "${context}", got ${describeByte(next)}`);
  }

  private readToken(depth: number): ImapToken {
    if (++this.tokenCount > this.limits.maxTokens) throw new ParseError(`Too many arguments (over ${this.limits.maxTokens})`);
    const first = this.peek()!;
    if (first === OPEN_PAREN) {
      if (depth >= this.limits.maxListDepth) throw new ParseError(`Lists nested too deeply (over ${this.limits.maxListDepth})`);
      this.position++;
      return { type: "list", items: this.readTokens(depth + 1, true) };
    }
    if (first === DQUOTE) return { type: "quoted", value: this.readQuoted() };
    if (first === OPEN_BRACE || (first === TILDE && this.line[this.position + 1] === OPEN_BRACE)) return this.readLiteral();
    return this.readAtom(depth);
  }

  private readQuoted(): string {
    const start = this.position + 1; // after the opening quote
    const bytes: number[] = [];
    let index = start;
    for (;;) {
      const byte = this.line[index];
      if (byte === undefined) throw new ParseError("Unterminated quoted string");
      if (byte === DQUOTE) break;
      if (byte === BACKSLASH) {
        const escaped = this.line[index + 1];
        if (escaped !== DQUOTE && escaped !== BACKSLASH) throw new ParseError('Invalid escape in quoted string: only \\" and \\\\ are allowed');
        bytes.push(escaped);
        index += 2;
      } else {
        bytes.push(byte);
        index++;
      }
    }
    this.position = index + 1;
    try {
      return utf8.decode(Uint8Array.from(bytes));
    } catch {
      throw new ParseError("Quoted string is not valid UTF-8");
    }
  }

  /** `{n}` / `~{n}` (with or without `+`) must end the line; the literal's bytes follow it. */
  private readLiteral(): ImapToken {
    const marker = findLiteralMarker(this.line);
    const literal = this.raw.literals[this.lineIndex];
    if (!marker || marker.start !== this.position || !literal) throw new ParseError("Invalid literal: expected {size} or ~{size} at the end of a line");
    if (literal.data.length !== marker.size || literal.binary !== marker.binary) throw new ParseError("Literal does not match its announced size");
    this.lineIndex++;
    this.line = this.raw.lines[this.lineIndex]!;
    this.position = 0;
    return { type: "literal", value: literal.data, binary: literal.binary };
  }

  /** An atom, number or NIL; or a FETCH section item when an atom such as BODY.PEEK meets `[`. */
  private readAtom(depth: number): ImapToken {
    const start = this.position;
    for (;;) {
      const byte = this.peek();
      if (byte === undefined || byte === SPACE || byte === OPEN_PAREN || byte === CLOSE_PAREN || byte === DQUOTE || byte === OPEN_BRACE) break;
      if (byte < SPACE || byte === DEL) throw new ParseError(`Control character ${describeByte(byte)} in command`);
      if (byte > DEL) throw new ParseError("8-bit characters must be sent in a quoted string or literal");
      if (byte === OPEN_BRACKET) {
        const item = this.line.toString("latin1", start, this.position).toUpperCase();
        if (SECTION_ITEMS.has(item)) return this.readSection(item as SectionItem, depth);
      }
      this.position++;
    }
    const text = this.line.toString("latin1", start, this.position);
    if (/^[0-9]+$/.test(text) && BigInt(text) <= MAX_NUMBER_TOKEN) return { type: "number", value: Number(text), text };
    if (text.toUpperCase() === "NIL") return { type: "nil" };
    return { type: "atom", value: text };
  }

  /** `[part.part.TEXT (fields)]<start.length>` after a section item (RFC 3501 section, RFC 3516 section-binary). */
  private readSection(item: SectionItem, depth: number): SectionToken {
    this.position++; // [
    const section: SectionToken = { type: "section", item, part: [] };
    const specStart = this.position;
    while (this.position < this.line.length && /[A-Za-z0-9.]/.test(String.fromCharCode(this.peek()!))) this.position++;
    const spec = this.line.toString("latin1", specStart, this.position);
    if (spec !== "") {
      const components = spec.split(".");
      if (components.includes("")) throw new ParseError(`Invalid section "${spec}"`);
      while (components.length > 0 && /^[1-9][0-9]*$/.test(components[0]!)) {
        const number = Number(components.shift());
        if (number > MAX_UINT32) throw new ParseError(`Invalid section part number in "${spec}"`);
        section.part.push(number);
      }
      const text = components.join(".").toUpperCase();
      if (text !== "") {
        if (!SECTION_TEXTS.has(text)) throw new ParseError(`Invalid section "${spec}"`);
        if (item.startsWith("BINARY")) throw new ParseError(`${item} takes only a part number, not "${spec}"`);
        if (text === "MIME" && section.part.length === 0) throw new ParseError("MIME section needs a part number");
        section.text = text as SectionText;
      }
    }
    if (section.text === "HEADER.FIELDS" || section.text === "HEADER.FIELDS.NOT") section.headerFields = this.readHeaderFieldList(depth);
    if (this.peek() !== CLOSE_BRACKET) throw new ParseError(`Missing ']' in ${item} section`);
    this.position++;
    if (this.peek() === 0x3c /* < */) section.partial = this.readPartial(item);
    return section;
  }

  private readHeaderFieldList(depth: number): string[] {
    if (this.peek() !== SPACE) throw new ParseError("HEADER.FIELDS needs a space and a list of header names");
    this.position++;
    if (this.peek() !== OPEN_PAREN) throw new ParseError("HEADER.FIELDS needs a parenthesised list of header names");
    const list = this.readToken(depth);
    const items = list.type === "list" ? list.items : [];
    if (items.length === 0) throw new ParseError("HEADER.FIELDS needs at least one header name");
    return items.map((token) => tokenAsString(token, "a header name"));
  }

  private readPartial(item: SectionItem): { start: number; length: number } {
    const match = /^<([0-9]+)\.([0-9]+)>/.exec(this.line.toString("latin1", this.position, Math.min(this.line.length, this.position + 24)));
    if (!match) throw new ParseError(`Invalid partial range after ${item}[...]: expected <start.length>`);
    if (item === "BINARY.SIZE") throw new ParseError("BINARY.SIZE takes no partial range");
    const start = Number(match[1]);
    const length = Number(match[2]);
    if (start > MAX_UINT32 || length > MAX_UINT32 || length === 0) throw new ParseError(`Invalid partial range ${match[0]}`);
    this.position += match[0].length;
    return { start, length };
  }
}

function describeByte(byte: number): string {
  return byte >= 0x21 && byte < DEL ? `"${String.fromCharCode(byte)}"` : `byte 0x${byte.toString(16).padStart(2, "0")}`;
}

function describeToken(token: ImapToken): string {
  return token.type === "nil" ? "NIL" : token.type === "quoted" ? "a quoted string" : `${/^[aeiou]/.test(token.type) ? "an" : "a"} ${token.type}`;
}

function required(token: ImapToken | undefined, what: string): ImapToken {
  if (token === undefined) throw new ParseError(`Missing argument: expected ${what}`);
  return token;
}

/** An astring (atom, number, quoted string or literal; the atom NIL is the text "NIL"). */
export function tokenAsString(token: ImapToken | undefined, what = "a string"): string {
  const value = required(token, what);
  switch (value.type) {
    case "atom":
    case "quoted":
      return value.value;
    case "number":
      return value.text;
    case "literal":
      return value.value.toString("utf8");
    case "nil":
      return "NIL";
    default:
      throw new ParseError(`Expected ${what}, got ${describeToken(value)}`);
  }
}

/** A bare atom, e.g. a search key or FETCH item name, as written (callers upper-case it). */
export function tokenAsAtom(token: ImapToken | undefined, what = "an atom"): string {
  const value = required(token, what);
  if (value.type === "atom") return value.value;
  if (value.type === "number") return value.text;
  if (value.type === "nil") return "NIL";
  throw new ParseError(`Expected ${what}, got ${describeToken(value)}`);
}

/** A number in 0..max (default: the 32-bit range of UIDs, sizes and counts). */
export function tokenAsNumber(token: ImapToken | undefined, what = "a number", max = MAX_UINT32): number {
  const value = required(token, what);
  if (value.type !== "number") throw new ParseError(`Expected ${what}, got ${describeToken(value)}`);
  if (value.value > max || !Number.isSafeInteger(value.value)) throw new ParseError(`${what} out of range: ${value.text}`);
  return value.value;
}

export function tokenAsList(token: ImapToken | undefined, what = "a parenthesised list"): ImapToken[] {
  const value = required(token, what);
  if (value.type !== "list") throw new ParseError(`Expected ${what}, got ${describeToken(value)}`);
  return value.items;
}

/** A sequence set such as `1:*,4` (an atom, or a number for a single message). */
export function tokenAsSequenceSet(token: ImapToken | undefined, what = "a sequence set"): SequenceSet {
  const value = required(token, what);
  if (value.type === "atom") return parseSequenceSet(value.value);
  if (value.type === "number") return parseSequenceSet(value.text);
  throw new ParseError(`Expected ${what}, got ${describeToken(value)}`);
}
