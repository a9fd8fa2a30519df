// Streaming IMAP command reader: cuts the client's byte stream into complete
// commands (lines plus literals, RFC 3501 section 4.3, LITERAL+ RFC 7888,
// literal8 RFC 3516) without interpreting them; parsing is command-parser's job.
//
// Memory stays bounded by the limits: a line is buffered only up to its limit
// and then skipped to its end, a literal is refused on its announced size
// before any of it is stored, and read-ahead of pipelined commands stops (with
// backpressure to the server) once enough are waiting.
//
// Everything the reader reports (commands, continuation requests, errors) goes
// through one queue, so the server sees it in wire order, and nothing is
// delivered while the server has paused the reader to handle a command.

import {
  APPEND_LIMIT_BYTES,
  MAX_COMMAND_BYTES,
  MAX_COMMAND_LINE_BYTES,
  MAX_LITERALS_PER_COMMAND,
  MAX_PIPELINED_BYTES,
  MAX_PIPELINED_COMMANDS,
  MAX_UNPARSED_INPUT_BYTES,
} from "../limits";
import type { RawCommand, RawLiteral } from "./types";

export type ReaderErrorKind =
  /** A line (outside literals) exceeded maxLineBytes. */
  | "line-too-long"
  /** A literal's announced size exceeded what its command may carry. */
  | "literal-too-big"
  /** The command's lines and literals together exceeded maxCommandBytes, or it had too many literals. */
  | "command-too-big"
  /** The peer kept sending after the reader asked for backpressure. */
  | "input-overflow";

export interface ReaderError {
  kind: ReaderErrorKind;
  /** The stream can no longer be followed: answer (BAD, or NO [TOOBIG] for an
   * APPEND) if a tag is known, then send BYE and close. When false the rest of
   * the offending command was dropped and reading goes on with the next one. */
  fatal: boolean;
  /** Tag of the offending command, when its start was readable. */
  tag?: string;
  /** Upper-cased first word after the tag ("APPEND", "UID", ...), when readable. */
  commandName?: string;
  /** The limit that was exceeded, in bytes or items. */
  limit: number;
  /** Text fit for the BAD / NO response. */
  message: string;
}

/** A synchronising literal `{n}` was announced and accepted: the server writes
 * `+ Ready for literal data`. The reader already expects the literal bytes. */
export interface ContinuationRequest {
  tag?: string;
  commandName?: string;
  size: number;
  binary: boolean;
}

export interface CommandReaderHooks {
  onCommand(command: RawCommand): void;
  onContinuationNeeded(request: ContinuationRequest): void;
  onError(error: ReaderError): void;
  /** Called after push() returned false, once the server may read the socket again. */
  onDrain?(): void;
}

export interface CommandReaderLimits {
  maxLineBytes: number;
  maxCommandBytes: number;
  appendLimitBytes: number;
  maxLiteralsPerCommand: number;
  maxPipelinedCommands: number;
  maxPipelinedBytes: number;
  maxUnparsedInputBytes: number;
}

export const DEFAULT_READER_LIMITS: Readonly<CommandReaderLimits> = {
  maxLineBytes: MAX_COMMAND_LINE_BYTES,
  maxCommandBytes: MAX_COMMAND_BYTES,
  appendLimitBytes: APPEND_LIMIT_BYTES,
  maxLiteralsPerCommand: MAX_LITERALS_PER_COMMAND,
  maxPipelinedCommands: MAX_PIPELINED_COMMANDS,
  maxPipelinedBytes: MAX_PIPELINED_BYTES,
  maxUnparsedInputBytes: MAX_UNPARSED_INPUT_BYTES,
};

/** A `{n}`, `{n+}`, `~{n}` or `~{n+}` at the end of a line. */
export interface LiteralMarker {
  /** Announced size; Infinity when the digits are too many to matter. */
  size: number;
  binary: boolean;
  nonSynchronizing: boolean;
  /** Offset in the line where the marker (its `~` or `{`) starts. */
  start: number;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const PLUS = 0x2b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const TILDE = 0x7e;

/** More digits than this announce a literal far beyond any limit. */
const MAX_LITERAL_SIZE_DIGITS = 15;

/** A discarded line keeps only this many final bytes: enough for a literal marker. */
const DISCARDED_LINE_TAIL_BYTES = 32;

/** How much of a command's first line is enough to read its tag and name. */
const COMMAND_IDENTITY_BYTES = 1024;

const isDigit = (byte: number | undefined) => byte !== undefined && byte >= 0x30 && byte <= 0x39;

/** ASTRING-CHAR except "+" (RFC 3501 tag): printable ASCII but not ( ) { % * " \ or +. */
export function isTagByte(byte: number): boolean {
  return byte > SPACE && byte < 0x7f && !'(){%*"\\+'.includes(String.fromCharCode(byte));
}

/** The literal marker ending this line, if it ends with one. */
export function findLiteralMarker(line: Buffer): LiteralMarker | null {
  let index = line.length - 1;
  if (line[index] !== CLOSE_BRACE) return null;
  index--;
  const nonSynchronizing = line[index] === PLUS;
  if (nonSynchronizing) index--;
  const digitsEnd = index + 1;
  while (isDigit(line[index])) index--;
  const digitsStart = index + 1;
  if (digitsStart === digitsEnd || line[index] !== OPEN_BRACE) return null;
  const binary = index > 0 && line[index - 1] === TILDE;
  const digits = digitsEnd - digitsStart;
  const size = digits > MAX_LITERAL_SIZE_DIGITS ? Infinity : Number(line.toString("latin1", digitsStart, digitsEnd));
  return { size, binary, nonSynchronizing, start: binary ? index - 1 : index };
}

/** Tag and command name from the start of a command's first line, where well-formed.
 * Unless `start` is the whole line, a word running to its end may be cut short, so is not used. */
function identifyCommand(start: Buffer, isWholeLine: boolean): { tag?: string; commandName?: string } {
  const wordEnd = (from: number) => {
    const space = start.indexOf(SPACE, from);
    return space !== -1 ? space : isWholeLine ? start.length : -1;
  };
  const tagEnd = wordEnd(0);
  const tagBytes = start.subarray(0, tagEnd);
  if (tagEnd <= 0 || !tagBytes.every(isTagByte)) return {};
  const tag = tagBytes.toString("latin1");
  const nameEnd = tagEnd < start.length ? wordEnd(tagEnd + 1) : -1;
  const name = nameEnd === -1 ? "" : start.toString("latin1", tagEnd + 1, nameEnd);
  return /^[A-Za-z][A-Za-z0-9.-]*$/.test(name) ? { tag, commandName: name.toUpperCase() } : { tag };
}

/** The command being read: what is kept of it and what it has used of its limits. */
interface CommandInProgress {
  tag?: string;
  commandName?: string;
  lines: Buffer[];
  literals: RawLiteral[];
  /** Wire bytes so far, everything included. */
  wireBytes: number;
  /** Bytes counted against maxCommandBytes (all but an APPEND's literals). */
  limitedBytes: number;
  /** Literal bytes of an APPEND, counted against appendLimitBytes. */
  appendLiteralBytes: number;
  /** An error was reported: the rest of the command is read and dropped. */
  rejected: boolean;
}

interface LiteralInProgress {
  marker: LiteralMarker;
  remaining: number;
  chunks: Buffer[];
}

type QueuedItem =
  | { type: "command"; command: RawCommand }
  | { type: "continuation"; request: ContinuationRequest }
  | { type: "error"; error: ReaderError };

export class CommandReader {
  private readonly limits: CommandReaderLimits;

  /** Bytes of the current line so far (kept only while the command is not rejected). */
  private lineChunks: Buffer[] = [];
  private lineBytes = 0;
  /** Last bytes of a line being discarded, to spot a literal marker at its end. */
  private discardedLineTail = Buffer.alloc(0);

  private command: CommandInProgress | null = null;
  /** Set while literal bytes are expected; `chunks` stays empty when they are skipped. */
  private literal: LiteralInProgress | null = null;

  private readonly queue: QueuedItem[] = [];
  private queuedCommandBytes = 0;

  /** Input received while read-ahead was full, not parsed yet. */
  private readonly unparsed: Buffer[] = [];
  private unparsedBytes = 0;
  /** Bytes pushed after push() returned false; bounded by maxUnparsedInputBytes. */
  private bytesPushedDuringBackpressure = 0;
  private backpressure = false;

  private isPaused = false;
  private isClosed = false;
  private pumping = false;

  constructor(
    private readonly hooks: CommandReaderHooks,
    limits: Partial<CommandReaderLimits> = {},
  ) {
    this.limits = { ...DEFAULT_READER_LIMITS, ...limits };
  }

  /**
   * Feeds bytes from the socket. The chunk must not be modified afterwards (the
   * reader may keep slices of it). Returns false when the server should stop
   * reading the socket until onDrain: commands are piling up unhandled.
   */
  push(chunk: Uint8Array): boolean {
    if (this.isClosed) return false;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.unparsed.length > 0) {
      this.bytesPushedDuringBackpressure += bytes.length;
      if (this.bytesPushedDuringBackpressure > this.limits.maxUnparsedInputBytes) {
        this.fail("input-overflow", this.limits.maxUnparsedInputBytes, "Too much data sent while earlier commands were pending");
      } else {
        this.unparsed.push(bytes);
        this.unparsedBytes += bytes.length;
      }
    } else {
      const used = this.consume(bytes);
      if (used < bytes.length) {
        this.unparsed.push(bytes.subarray(used));
        this.unparsedBytes += bytes.length - used;
      }
    }
    this.pump();
    if (this.isClosed) return false;
    this.backpressure = this.unparsed.length > 0 || this.readAheadFull();
    return !this.backpressure;
  }

  /** Stops delivering: call while handling a command asynchronously. Input is still read ahead. */
  pause(): void {
    this.isPaused = true;
  }

  /** Delivers what was read meanwhile, in order, until paused again. */
  resume(): void {
    this.isPaused = false;
    this.pump();
  }

  get paused(): boolean {
    return this.isPaused;
  }

  /** Drops everything not delivered yet and ignores further input (LOGOUT, socket closed). */
  close(): void {
    this.isClosed = true;
    this.queue.length = 0;
    this.queuedCommandBytes = 0;
    this.releaseBuffers();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Bytes the reader holds right now: partial line, partial command, read-ahead and unparsed input. */
  get bufferedBytes(): number {
    const commandBytes = this.command ? this.command.lines.reduce((sum, line) => sum + line.length, 0) + this.command.literals.reduce((sum, literal) => sum + literal.data.length, 0) : 0;
    const literalBytes = this.literal ? this.literal.chunks.reduce((sum, chunk) => sum + chunk.length, 0) : 0;
    return this.lineBytes + this.discardedLineTail.length + commandBytes + literalBytes + this.queuedCommandBytes + this.unparsedBytes;
  }

  /** Delivers queued items while not paused, and parses held-back input as read-ahead frees up. */
  private pump(): void {
    if (this.pumping) return; // re-entered from a hook (resume() inside onCommand): the outer loop continues
    this.pumping = true;
    try {
      for (;;) {
        if (!this.isPaused && this.queue.length > 0) this.dispatch(this.queue.shift()!);
        else if (!this.isClosed && this.unparsed.length > 0 && !this.readAheadFull()) this.consumeUnparsed();
        else break;
      }
    } finally {
      this.pumping = false;
    }
    if (this.backpressure && !this.isClosed && this.unparsed.length === 0 && !this.readAheadFull()) {
      this.backpressure = false;
      this.hooks.onDrain?.();
    }
  }

  private dispatch(item: QueuedItem): void {
    switch (item.type) {
      case "command":
        this.queuedCommandBytes -= item.command.byteLength;
        this.hooks.onCommand(item.command);
        break;
      case "continuation":
        this.hooks.onContinuationNeeded(item.request);
        break;
      case "error":
        this.hooks.onError(item.error);
        break;
    }
  }

  private consumeUnparsed(): void {
    const chunk = this.unparsed[0]!;
    const used = this.consume(chunk);
    this.unparsedBytes -= used;
    if (used === chunk.length) this.unparsed.shift();
    else this.unparsed[0] = chunk.subarray(used);
    if (this.unparsed.length === 0) this.bytesPushedDuringBackpressure = 0;
  }

  /** Enough is waiting for the server: parse no further for now. */
  private readAheadFull(): boolean {
    return this.queue.length >= this.limits.maxPipelinedCommands || this.queuedCommandBytes >= this.limits.maxPipelinedBytes;
  }

  /** Parses as much of the chunk as read-ahead allows; returns the bytes used. */
  private consume(chunk: Buffer): number {
    let offset = 0;
    while (offset < chunk.length && !this.isClosed && !this.readAheadFull()) {
      offset = this.literal ? this.readLiteralBytes(chunk, offset) : this.readLineBytes(chunk, offset);
    }
    return this.isClosed ? chunk.length : offset;
  }

  private readLineBytes(chunk: Buffer, offset: number): number {
    const newline = chunk.indexOf(LF, offset);
    const segment = chunk.subarray(offset, newline === -1 ? chunk.length : newline);
    if (this.command?.rejected) {
      this.keepDiscardedTail(segment);
    } else if (this.lineBytes + segment.length > this.limits.maxLineBytes + 1) {
      // +1: the CR of a CRLF may already be in; the exact check is in endLine.
      this.rejectLongLine(segment);
    } else {
      this.lineChunks.push(segment);
      this.lineBytes += segment.length;
    }
    if (newline === -1) return chunk.length;
    this.endLine();
    return newline + 1;
  }

  private keepDiscardedTail(segment: Buffer): void {
    const joined = Buffer.concat([this.discardedLineTail, segment.subarray(-DISCARDED_LINE_TAIL_BYTES)]);
    this.discardedLineTail = joined.subarray(-DISCARDED_LINE_TAIL_BYTES);
  }

  private rejectLongLine(segment: Buffer): void {
    const chunks = [...this.lineChunks, segment];
    // The same prefix length whatever the chunking (more than maxLineBytes are in by now).
    const identityBytes = Math.min(this.limits.maxLineBytes, COMMAND_IDENTITY_BYTES);
    const command = this.command ?? this.startCommand(Buffer.concat(chunks, identityBytes), false);
    for (const chunk of chunks) this.keepDiscardedTail(chunk);
    this.lineChunks = [];
    this.lineBytes = 0;
    this.reject(command, "line-too-long", this.limits.maxLineBytes, `Command line too long (over ${this.limits.maxLineBytes} bytes)`);
  }

  private startCommand(firstLineStart: Buffer, isWholeLine: boolean): CommandInProgress {
    this.command = { ...identifyCommand(firstLineStart, isWholeLine), lines: [], literals: [], wireBytes: 0, limitedBytes: 0, appendLiteralBytes: 0, rejected: false };
    return this.command;
  }

  private endLine(): void {
    if (this.command?.rejected) {
      const tail = this.discardedLineTail;
      const marker = findLiteralMarker(tail[tail.length - 1] === CR ? tail.subarray(0, -1) : tail);
      this.discardedLineTail = Buffer.alloc(0);
      this.endRejectedLine(marker);
      return;
    }
    const wireBytes = this.lineBytes + 1; // the LF
    let line = Buffer.concat(this.lineChunks, this.lineBytes);
    this.lineChunks = [];
    this.lineBytes = 0;
    if (line[line.length - 1] === CR) line = line.subarray(0, -1);

    const command = this.command ?? this.startCommand(line.subarray(0, COMMAND_IDENTITY_BYTES), line.length <= COMMAND_IDENTITY_BYTES);
    const marker = findLiteralMarker(line);
    command.wireBytes += wireBytes;
    command.limitedBytes += wireBytes;
    const limits = this.limits;
    if (line.length > limits.maxLineBytes) {
      this.reject(command, "line-too-long", limits.maxLineBytes, `Command line too long (over ${limits.maxLineBytes} bytes)`);
      this.endRejectedLine(marker);
      return;
    }
    if (command.limitedBytes > limits.maxCommandBytes) {
      this.reject(command, "command-too-big", limits.maxCommandBytes, `Command too big (over ${limits.maxCommandBytes} bytes)`);
      this.endRejectedLine(marker);
      return;
    }
    command.lines.push(line);
    if (!marker) {
      this.enqueueCommand(command);
      return;
    }
    if (command.literals.length >= limits.maxLiteralsPerCommand) {
      this.reject(command, "command-too-big", limits.maxLiteralsPerCommand, `Too many literals in one command (over ${limits.maxLiteralsPerCommand})`);
      this.endRejectedLine(marker);
      return;
    }
    const isAppend = command.commandName === "APPEND";
    const literalLimit = isAppend ? limits.appendLimitBytes - command.appendLiteralBytes : limits.maxCommandBytes - command.limitedBytes;
    if (marker.size > literalLimit) {
      const limit = isAppend ? limits.appendLimitBytes : limits.maxCommandBytes;
      const message = isAppend ? `Message too big (over ${limit} bytes)` : `Literal too big (command over ${limit} bytes)`;
      if (marker.nonSynchronizing) this.fail("literal-too-big", limit, message, command);
      else this.reject(command, "literal-too-big", limit, message);
      if (!this.isClosed) this.endRejectedLine(marker);
      return;
    }
    if (!marker.nonSynchronizing) {
      this.queue.push({ type: "continuation", request: { tag: command.tag, commandName: command.commandName, size: marker.size, binary: marker.binary } });
    }
    this.literal = { marker, remaining: marker.size, chunks: [] };
    if (marker.size === 0) this.endLiteral();
  }

  /** After a line of a rejected command: its literal, if sent anyway, is skipped, else the command is over. */
  private endRejectedLine(marker: LiteralMarker | null): void {
    if (!marker?.nonSynchronizing) {
      // No literal, or a synchronising one the client will not send without our "+".
      this.command = null;
      return;
    }
    if (marker.size > this.limits.appendLimitBytes) {
      this.fail("literal-too-big", this.limits.appendLimitBytes, `Literal too big (over ${this.limits.appendLimitBytes} bytes)`, this.command ?? undefined);
      return;
    }
    this.literal = { marker, remaining: marker.size, chunks: [] };
    if (marker.size === 0) this.endLiteral();
  }

  private readLiteralBytes(chunk: Buffer, offset: number): number {
    const literal = this.literal!;
    const take = Math.min(literal.remaining, chunk.length - offset);
    if (!this.command?.rejected) literal.chunks.push(chunk.subarray(offset, offset + take));
    literal.remaining -= take;
    if (literal.remaining === 0) this.endLiteral();
    return offset + take;
  }

  private endLiteral(): void {
    const { marker, chunks } = this.literal!;
    this.literal = null;
    const command = this.command!;
    command.wireBytes += marker.size;
    if (command.rejected) return;
    command.literals.push({ data: Buffer.concat(chunks, marker.size), binary: marker.binary, nonSynchronizing: marker.nonSynchronizing });
    if (command.commandName === "APPEND") command.appendLiteralBytes += marker.size;
    else command.limitedBytes += marker.size;
  }

  private enqueueCommand(command: CommandInProgress): void {
    this.command = null;
    this.queue.push({ type: "command", command: { lines: command.lines, literals: command.literals, byteLength: command.wireBytes } });
    this.queuedCommandBytes += command.wireBytes;
  }

  /** Reports a non-fatal error and drops the command: what is kept of it is released at once. */
  private reject(command: CommandInProgress, kind: ReaderErrorKind, limit: number, message: string): void {
    command.rejected = true;
    command.lines = [];
    command.literals = [];
    this.queue.push({ type: "error", error: { kind, fatal: false, tag: command.tag, commandName: command.commandName, limit, message } });
  }

  /** Reports a fatal error after what is already queued, and stops reading. */
  private fail(kind: ReaderErrorKind, limit: number, message: string, command?: CommandInProgress): void {
    this.releaseBuffers();
    this.isClosed = true;
    this.queue.push({ type: "error", error: { kind, fatal: true, tag: command?.tag, commandName: command?.commandName, limit, message } });
  }

  /** Frees everything not yet queued for delivery. */
  private releaseBuffers(): void {
    this.lineChunks = [];
    this.lineBytes = 0;
    this.discardedLineTail = Buffer.alloc(0);
    this.command = null;
    this.literal = null;
    this.unparsed.length = 0;
    this.unparsedBytes = 0;
  }
}
