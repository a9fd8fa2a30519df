// What every IMAP command module declares (after WildDuck's imap-core): the
// states it is allowed in, how its arguments are read, and what it does.
// The session checks the state and turns a ParseError into BAD, so command
// modules only hold the command's own logic.
import type { ImapSession } from "./session";
import { tokenAsAtom, tokenAsList, tokenAsNumber, tokenAsSequenceSet, tokenAsString } from "./protocol/command-parser";
import { type ImapToken, type ListToken, ParseError, type ParsedCommand, type SectionToken, type SequenceSet } from "./protocol/types";

export type SessionState = "not-authenticated" | "authenticated" | "selected" | "logout";

export const ANY_STATE: readonly SessionState[] = ["not-authenticated", "authenticated", "selected"];
export const AUTHENTICATED: readonly SessionState[] = ["authenticated", "selected"];
export const SELECTED: readonly SessionState[] = ["selected"];
export const NOT_AUTHENTICATED: readonly SessionState[] = ["not-authenticated"];

/** How a command ends: the tagged status, an optional response code, and text. */
export type Completion = { status: "OK" | "NO" | "BAD"; code?: string; text: string };

export const ok = (text: string, code?: string): Completion => ({ status: "OK", text, ...(code ? { code } : {}) });
export const no = (text: string, code?: string): Completion => ({ status: "NO", text, ...(code ? { code } : {}) });

/** A failure a command reports as NO (with an optional response code). */
export class CommandFailure extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = "CommandFailure";
  }
}

export type CommandSpec<Args = unknown> = {
  name: string;
  states: readonly SessionState[];
  /** Whether UID may prefix it (UID FETCH, UID STORE, ...). */
  uid?: boolean;
  /** RFC 3501 7.4.1: no untagged EXPUNGE during FETCH, STORE and SEARCH
   * (their UID forms may, since they do not use sequence numbers). */
  forbidsExpungeNotices?: boolean;
  parse(args: ArgReader, command: ParsedCommand): Args;
  run(session: ImapSession, args: Args, command: ParsedCommand): Completion | Promise<Completion>;
};

export function defineCommand<Args>(spec: CommandSpec<Args>): CommandSpec<Args> {
  return spec;
}

/** Reads a command's arguments in order; every mismatch is a ParseError (BAD). */
export class ArgReader {
  private position = 0;

  constructor(private readonly tokens: readonly ImapToken[]) {}

  get remaining(): number {
    return this.tokens.length - this.position;
  }

  peek(): ImapToken | undefined {
    return this.tokens[this.position];
  }

  next(what: string): ImapToken {
    const token = this.tokens[this.position++];
    if (!token) throw new ParseError(`missing ${what}`);
    return token;
  }

  /** atom, quoted string or literal, as text (RFC 3501 astring). */
  astring(what: string): string {
    return tokenAsString(this.next(what), what);
  }

  /** An astring kept as bytes (message text, SEARCH strings in a charset). */
  bytes(what: string): Buffer {
    const token = this.next(what);
    return token.type === "literal" ? token.value : Buffer.from(tokenAsString(token, what), "utf8");
  }

  atom(what: string): string {
    return tokenAsAtom(this.next(what), what);
  }

  number(what: string): number {
    return tokenAsNumber(this.next(what), what);
  }

  list(what: string): ListToken {
    const token = this.next(what);
    tokenAsList(token, what);
    return token as ListToken;
  }

  /** A list if the next token is one, else undefined (nothing consumed). */
  optionalList(): ListToken | undefined {
    const token = this.peek();
    if (token?.type !== "list") return undefined;
    this.position++;
    return token;
  }

  sequenceSet(what = "sequence set"): SequenceSet {
    return tokenAsSequenceSet(this.next(what), what);
  }

  section(what: string): SectionToken {
    const token = this.next(what);
    if (token.type !== "section") throw new ParseError(`${what} expected`);
    return token;
  }

  /** All arguments must have been read. */
  end(): void {
    if (this.position < this.tokens.length) throw new ParseError("too many arguments");
  }

  /** The rest, for commands whose grammar is their own (FETCH items, SEARCH keys). */
  rest(): readonly ImapToken[] {
    const rest = this.tokens.slice(this.position);
    this.position = this.tokens.length;
    return rest;
  }
}

/** Text of an atom-like token, upper-cased, or undefined for other tokens. */
export function keyword(token: ImapToken | undefined): string | undefined {
  if (!token) return undefined;
  if (token.type === "atom") return token.value.toUpperCase();
  if (token.type === "number") return token.text;
  return undefined;
}
