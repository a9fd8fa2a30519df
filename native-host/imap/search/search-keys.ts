// SEARCH criteria (RFC 3501 6.4.4) as a key tree, with CONDSTORE's MODSEQ key
// (RFC 7162 3.1.5) and ESEARCH's RETURN options (RFC 4731). SORT and THREAD
// read their criteria with the same parser, after their own arguments.
import { CommandFailure } from "../command";
import { MAX_SEARCH_DEPTH } from "../limits";
import { tokenAsAtom, tokenAsList, tokenAsNumber, tokenAsString } from "../protocol/command-parser";
import { parseSequenceSet } from "../protocol/sequence-set";
import { type ImapToken, ParseError, type SequenceSet } from "../protocol/types";
import { parseImapDate } from "../response/date";

export type DateComparison = "before" | "on" | "since";

export type SearchKey =
  | { type: "all" }
  | { type: "flag"; flag: string; present: boolean }
  | { type: "recent" }
  /** FROM, TO, CC, BCC, SUBJECT and HEADER: a substring of the field's value ("" = the field exists). */
  | { type: "header"; field: string; value: string }
  | { type: "text"; field: "body" | "text"; value: string }
  /** INTERNALDATE (BEFORE, ON, SINCE) or the Date: header (SENTBEFORE, SENTON, SENTSINCE), by day. */
  | { type: "date"; source: "internal" | "sent"; comparison: DateComparison; day: Date }
  | { type: "size"; comparison: "larger" | "smaller"; size: number }
  | { type: "sequence"; set: SequenceSet; uid: boolean }
  /** RFC 7162: the entry name and type are read but not used, since one
   * mod-sequence covers all of a message's metadata here (3.1.5 allows it). */
  | { type: "modseq"; modseq: number }
  | { type: "not"; key: SearchKey }
  | { type: "or"; left: SearchKey; right: SearchKey }
  | { type: "and"; keys: SearchKey[] };

export type ReturnOption = "MIN" | "MAX" | "ALL" | "COUNT";

export type SearchProgram = {
  key: SearchKey;
  /** Present when the client asked for ESEARCH (RFC 4731); `RETURN ()` means ALL. */
  returnOptions?: ReadonlySet<ReturnOption>;
};

export const SUPPORTED_CHARSETS = ["UTF-8", "US-ASCII"];

const FLAG_KEYS: Record<string, { flag: string; present: boolean }> = {
  ANSWERED: { flag: "\\Answered", present: true },
  DELETED: { flag: "\\Deleted", present: true },
  DRAFT: { flag: "\\Draft", present: true },
  FLAGGED: { flag: "\\Flagged", present: true },
  SEEN: { flag: "\\Seen", present: true },
  UNANSWERED: { flag: "\\Answered", present: false },
  UNDELETED: { flag: "\\Deleted", present: false },
  UNDRAFT: { flag: "\\Draft", present: false },
  UNFLAGGED: { flag: "\\Flagged", present: false },
  UNSEEN: { flag: "\\Seen", present: false },
};

const HEADER_KEYS: Record<string, string> = { BCC: "Bcc", CC: "Cc", FROM: "From", SUBJECT: "Subject", TO: "To" };

const DATE_KEYS: Record<string, { source: "internal" | "sent"; comparison: DateComparison }> = {
  BEFORE: { source: "internal", comparison: "before" },
  ON: { source: "internal", comparison: "on" },
  SINCE: { source: "internal", comparison: "since" },
  SENTBEFORE: { source: "sent", comparison: "before" },
  SENTON: { source: "sent", comparison: "on" },
  SENTSINCE: { source: "sent", comparison: "since" },
};

const RETURN_OPTIONS: ReadonlySet<string> = new Set<ReturnOption>(["MIN", "MAX", "ALL", "COUNT"]);
const MODSEQ_ENTRY_TYPES: ReadonlySet<string> = new Set(["PRIV", "SHARED", "ALL"]);
/** RFC 7162 mod-sequence-valzer: 0 .. 2^63-1, kept within safe integers here. */
const MAX_MODSEQ = Number.MAX_SAFE_INTEGER;

/** `CHARSET name`, when present at `tokens[0]`: refuses charsets other than
 * UTF-8 and US-ASCII (NO [BADCHARSET]). Returns how many tokens it used. */
function readCharset(tokens: readonly ImapToken[], required: boolean): number {
  if (!required && (tokens[0]?.type !== "atom" || tokens[0].value.toUpperCase() !== "CHARSET")) return 0;
  const offset = required ? 0 : 1;
  const charset = tokenAsString(tokens[offset], "a charset").toUpperCase();
  if (!SUPPORTED_CHARSETS.includes(charset)) {
    throw new CommandFailure(`charset ${charset} is not supported`, `BADCHARSET (${SUPPORTED_CHARSETS.join(" ")})`);
  }
  return offset + 1;
}

/** SEARCH arguments: [RETURN (options)] [CHARSET name] criteria. */
export function parseSearchProgram(tokens: readonly ImapToken[]): SearchProgram {
  let position = 0;
  let returnOptions: Set<ReturnOption> | undefined;
  if (tokens[0]?.type === "atom" && tokens[0].value.toUpperCase() === "RETURN") {
    returnOptions = new Set();
    for (const option of tokenAsList(tokens[1], "RETURN options")) {
      const name = tokenAsAtom(option, "a RETURN option").toUpperCase();
      if (!RETURN_OPTIONS.has(name)) throw new ParseError(`unknown RETURN option ${name}`);
      returnOptions.add(name as ReturnOption);
    }
    if (returnOptions.size === 0) returnOptions.add("ALL");
    position = 2;
  }
  position += readCharset(tokens.slice(position), false);
  const key = parseSearchCriteria(tokens.slice(position));
  return returnOptions ? { key, returnOptions } : { key };
}

/** SORT and THREAD arguments after their own: charset (required) then criteria. */
export function parseCharsetAndCriteria(tokens: readonly ImapToken[]): SearchKey {
  return parseSearchCriteria(tokens.slice(readCharset(tokens, true)));
}

/** One or more search keys, all of which must match; `depth`: how deep
 * in NOT, OR and parentheses they sit. */
export function parseSearchCriteria(tokens: readonly ImapToken[], depth = 0): SearchKey {
  if (tokens.length === 0) throw new ParseError("missing search criteria");
  const reader = new KeyReader(tokens, depth);
  const keys: SearchKey[] = [];
  while (!reader.atEnd) keys.push(reader.key());
  return keys.length === 1 ? keys[0]! : { type: "and", keys };
}

/** Whether the criteria use the MODSEQ key, which turns on CONDSTORE and adds
 * the highest mod-sequence to the SEARCH response (RFC 7162 3.1.5). */
export function usesModseq(key: SearchKey): boolean {
  switch (key.type) {
    case "modseq":
      return true;
    case "not":
      return usesModseq(key.key);
    case "or":
      return usesModseq(key.left) || usesModseq(key.right);
    case "and":
      return key.keys.some(usesModseq);
    default:
      return false;
  }
}

class KeyReader {
  private position = 0;

  constructor(
    private readonly tokens: readonly ImapToken[],
    private depth: number,
  ) {}

  /** A key inside NOT, OR or parentheses: the evaluator recurses once per
   * level, so the nesting is limited here, with a clear BAD. */
  private nested<T>(read: () => T): T {
    if (++this.depth > MAX_SEARCH_DEPTH) throw new ParseError(`search keys nested deeper than ${MAX_SEARCH_DEPTH} levels`);
    try {
      return read();
    } finally {
      this.depth--;
    }
  }

  get atEnd(): boolean {
    return this.position >= this.tokens.length;
  }

  private next(what: string): ImapToken {
    const token = this.tokens[this.position++];
    if (!token) throw new ParseError(`missing ${what}`);
    return token;
  }

  private string(what: string): string {
    return tokenAsString(this.next(what), what);
  }

  private date(what: string): Date {
    const text = this.string(what);
    const day = parseImapDate(text);
    if (!day) throw new ParseError(`invalid date "${text}" (expected e.g. 1-Feb-1994)`);
    return day;
  }

  key(): SearchKey {
    const token = this.next("search key");
    if (token.type === "list") return this.nested(() => parseSearchCriteria(token.items, this.depth));
    if (token.type === "number") return { type: "sequence", set: parseSequenceSet(token.text), uid: false };
    const name = tokenAsAtom(token, "a search key").toUpperCase();
    const flag = FLAG_KEYS[name];
    if (flag) return { type: "flag", ...flag };
    const header = HEADER_KEYS[name];
    if (header) return { type: "header", field: header, value: this.string(`${name} string`) };
    const date = DATE_KEYS[name];
    if (date) return { type: "date", ...date, day: this.date(`${name} date`) };
    switch (name) {
      case "ALL":
        return { type: "all" };
      case "NEW":
        return { type: "and", keys: [{ type: "recent" }, { type: "flag", flag: "\\Seen", present: false }] };
      case "OLD":
        return { type: "not", key: { type: "recent" } };
      case "RECENT":
        return { type: "recent" };
      case "KEYWORD":
      case "UNKEYWORD":
        return { type: "flag", flag: tokenAsAtom(this.next("keyword"), "a keyword"), present: name === "KEYWORD" };
      case "HEADER":
        return { type: "header", field: this.string("header field name"), value: this.string("header string") };
      case "BODY":
        return { type: "text", field: "body", value: this.string("BODY string") };
      case "TEXT":
        return { type: "text", field: "text", value: this.string("TEXT string") };
      case "LARGER":
      case "SMALLER":
        return { type: "size", comparison: name === "LARGER" ? "larger" : "smaller", size: tokenAsNumber(this.next("size"), "a size") };
      case "UID":
        return { type: "sequence", set: parseSequenceSet(tokenAsAtom(this.next("UID set"), "a UID set")), uid: true };
      case "NOT":
        return this.nested(() => ({ type: "not", key: this.key() }));
      case "OR":
        return this.nested(() => ({ type: "or", left: this.key(), right: this.key() }));
      case "MODSEQ":
        return this.modseq();
    }
    if (/^[0-9*:,]+$/.test(name)) return { type: "sequence", set: parseSequenceSet(name), uid: false };
    throw new ParseError(`unknown search key ${name}`);
  }

  /** MODSEQ [entry-name entry-type-req] mod-sequence-valzer */
  private modseq(): SearchKey {
    const first = this.next("mod-sequence");
    if (first.type === "quoted" || first.type === "literal") {
      const entryType = tokenAsAtom(this.next("MODSEQ entry type"), "priv, shared or all").toUpperCase();
      if (!MODSEQ_ENTRY_TYPES.has(entryType)) throw new ParseError(`MODSEQ entry type must be priv, shared or all, not ${entryType}`);
      return { type: "modseq", modseq: tokenAsNumber(this.next("mod-sequence"), "a mod-sequence", MAX_MODSEQ) };
    }
    return { type: "modseq", modseq: tokenAsNumber(first, "a mod-sequence", MAX_MODSEQ) };
  }
}
