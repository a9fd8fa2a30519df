// The shapes passed between the command reader, the parser and the command
// handlers: raw commands as read off the wire, and the parsed token tree.

/** One literal of a command, as received: the bytes are never copied into a string. */
export interface RawLiteral {
  data: Buffer;
  /** literal8 (`~{n}`), from BINARY and UTF8 APPEND: may contain NUL bytes. */
  binary: boolean;
  /** LITERAL+ (`{n+}`): the client sent it without waiting for a continuation. */
  nonSynchronizing: boolean;
}

/**
 * One complete command. `lines[i]` is the text before `literals[i]` (ending in
 * the literal's `{n}` marker), the last line is the text after the last
 * literal; line ends (CRLF or LF) are removed. So a command without literals
 * is one line, and `lines.length === literals.length + 1` always.
 */
export interface RawCommand {
  lines: Buffer[];
  literals: RawLiteral[];
  /** Bytes this command took on the wire, line ends included. */
  byteLength: number;
}

/** A text atom, also `\Seen` flags, `$Keyword`s, LIST patterns with `*` and `%`,
 * and sequence sets such as `1:*,4` (which the caller interprets in context). */
export interface AtomToken {
  type: "atom";
  value: string;
}

/** An atom made only of digits that fits in 63 bits (mod-sequences are 63-bit).
 * `value` is exact when `Number.isSafeInteger(value)`; `text` is always exact. */
export interface NumberToken {
  type: "number";
  value: number;
  text: string;
}

/** A quoted string, unescaped and decoded as UTF-8. */
export interface QuotedToken {
  type: "quoted";
  value: string;
}

/** A literal or literal8, with its bytes as received. */
export interface LiteralToken {
  type: "literal";
  value: Buffer;
  binary: boolean;
}

export interface NilToken {
  type: "nil";
}

export interface ListToken {
  type: "list";
  items: ImapToken[];
}

/** The FETCH items that take a `[section]`. */
export type SectionItem = "BODY" | "BODY.PEEK" | "BINARY" | "BINARY.PEEK" | "BINARY.SIZE";

/** What part of an entity a section names (RFC 3501 section-msgtext / section-text). */
export type SectionText = "HEADER" | "HEADER.FIELDS" | "HEADER.FIELDS.NOT" | "TEXT" | "MIME";

/** `BODY[1.2.HEADER.FIELDS (From To)]<0.100>` and its BODY.PEEK / BINARY relatives. */
export interface SectionToken {
  type: "section";
  item: SectionItem;
  /** MIME part path, e.g. [1, 2]; empty for the whole message. */
  part: number[];
  text?: SectionText;
  /** Header names of HEADER.FIELDS and HEADER.FIELDS.NOT, as the client spelled them. */
  headerFields?: string[];
  /** The `<start.length>` suffix. */
  partial?: { start: number; length: number };
}

export type ImapToken = AtomToken | NumberToken | QuotedToken | LiteralToken | NilToken | ListToken | SectionToken;

export interface ParsedCommand {
  tag: string;
  /** Command name, upper-cased; for `UID FETCH` this is "FETCH" and `uid` is true. */
  name: string;
  uid: boolean;
  args: ImapToken[];
}

export type ParseResult =
  | { ok: true; command: ParsedCommand }
  /** `message` is fit for `tag BAD message` (or an untagged BAD when no tag was readable). */
  | { ok: false; tag?: string; message: string };

/** A syntax error in a command or token; its message is fit for a BAD response. */
export class ParseError extends Error {
  override name = "ParseError";
}

/** A sequence set range [start, end] as written (`4:2` stays [4, 2]); `*` is SEQUENCE_STAR. */
export type SequenceRange = readonly [start: number, end: number];

export type SequenceSet = readonly SequenceRange[];
