// One IMAP connection: reads commands, checks each against its module's
// allowed states and argument shape, runs it, and writes the responses.
// Commands run one at a time in arrival order; a slow client only waits on
// its own socket, and long commands yield so other sessions keep going.
import { once } from "node:events";
import type { Socket } from "node:net";
import type { Account } from "../mail/account";
import { MailboxError } from "../mail/account";
import { ArgReader, type Completion, CommandFailure, type SessionState } from "./command";
import { commandsByName } from "./commands";
import {
  AUTOLOGOUT_AUTHENTICATED_MS,
  AUTOLOGOUT_NOT_AUTHENTICATED_MS,
  IDLE_MAX_MS,
  MAX_BUFFERED_OUTPUT_BYTES,
  OUTPUT_BACKLOG_BYTES,
  OUTPUT_FLUSH_BYTES,
} from "./limits";
import { CommandReader, type ReaderError } from "./protocol/command-reader";
import { parseCommand } from "./protocol/command-parser";
import { ParseError, type ParsedCommand, type RawCommand } from "./protocol/types";
import type { SelectedMailbox } from "./selected-mailbox";
import { capabilities } from "./capabilities";

/** What a session reports to its embedder (the daemon logs these; never content). */
export type SessionEvent =
  | { type: "connect"; session: number }
  | { type: "login"; session: number; username: string; method: "LOGIN" | "AUTHENTICATE" }
  | { type: "login-failed"; session: number; username: string }
  | { type: "login-locked"; session: number; username: string }
  | { type: "select"; session: number; mailbox: string }
  | { type: "error"; session: number; command: string; error: string }
  | { type: "close"; session: number };

export type ImapHooks = {
  /** Checks a username and mail token; answers the account, "locked" for an
   * account waiting for its passphrase, or null; both after the failure delay. */
  authenticate(username: string, password: string): Promise<Account | "locked" | null>;
  onEvent?(event: SessionEvent): void;
};

/** The session's timers; the defaults come from limits.ts (tests shorten them). */
export type SessionTimeouts = { notAuthenticatedMs: number; authenticatedMs: number; idleMs: number };

export const DEFAULT_TIMEOUTS: SessionTimeouts = {
  notAuthenticatedMs: AUTOLOGOUT_NOT_AUTHENTICATED_MS,
  authenticatedMs: AUTOLOGOUT_AUTHENTICATED_MS,
  idleMs: IDLE_MAX_MS,
};

let sessionCounter = 0;

export class ImapSession {
  readonly id = ++sessionCounter;
  state: SessionState = "not-authenticated";
  account: Account | null = null;
  username: string | null = null;
  selected: SelectedMailbox | null = null;
  /** ENABLEd extensions (CONDSTORE, QRESYNC). */
  readonly enabled = new Set<string>();
  /** CONDSTORE becomes active with ENABLE, SELECT (CONDSTORE) or any command using MODSEQ. */
  condstoreActive = false;

  private readonly reader: CommandReader;
  private readonly queue: RawCommand[] = [];
  private running = false;
  private lineWaiter: ((line: Buffer | null) => void) | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Response bytes written but not yet handed to the socket (see write()). */
  private output: Buffer[] = [];
  private outputBytes = 0;
  private readonly connectedAt = Date.now();
  private flushQueued = false;

  constructor(
    private readonly socket: Socket,
    readonly hooks: ImapHooks,
    private readonly timeouts: SessionTimeouts = DEFAULT_TIMEOUTS,
  ) {
    this.reader = new CommandReader({
      onCommand: (command) => this.receive(command),
      onContinuationNeeded: () => this.write("+ Ready for literal data\r\n"),
      onError: (error) => this.readerError(error),
      onDrain: () => socket.resume(),
    });
    socket.on("data", (chunk: Buffer) => {
      if (!this.reader.push(chunk)) socket.pause();
    });
    socket.on("close", () => this.shutdown());
    socket.on("error", () => this.shutdown());
    this.emit({ type: "connect", session: this.id });
    this.write(`* OK [CAPABILITY ${capabilities(this).join(" ")}] Bitmask Mail IMAP ready\r\n`);
    this.armAutologout();
  }

  emit(event: SessionEvent): void {
    this.hooks.onEvent?.(event);
  }

  /** The account of an authenticated session. */
  get authenticatedAccount(): Account {
    if (!this.account) throw new CommandFailure("not authenticated");
    return this.account;
  }

  get selectedMailbox(): SelectedMailbox {
    if (!this.selected) throw new CommandFailure("no mailbox selected");
    return this.selected;
  }

  /** Queues response bytes. They reach the socket in batches: once
   * OUTPUT_FLUSH_BYTES are waiting, when a command is answered, and otherwise
   * (IDLE notices, the greeting) once the event loop has run what is ready
   * (setImmediate, not a timer). One socket write per response line made a
   * big FETCH mostly system calls and tiny TCP segments (the socket has Nagle
   * off); a flush per microtask still split most replies in two, the
   * untagged lines and then the tagged one after the command's await. */
  write(data: string | Buffer): void {
    if (this.closed) return;
    // Strings go out as UTF-8, as socket.write(string) would send them.
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    if (bytes.length >= OUTPUT_FLUSH_BYTES) {
      // Big enough alone (a message literal): no point copying it into a batch.
      this.flushOutput();
      this.socket.write(bytes);
      this.checkBufferedOutput();
      return;
    }
    this.output.push(bytes);
    this.outputBytes += bytes.length;
    if (this.outputBytes >= OUTPUT_FLUSH_BYTES) this.flushOutput();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => {
        this.flushQueued = false;
        this.flushOutput();
      });
    }
  }

  /** Hands the queued response bytes to the socket in one write. */
  private flushOutput(): void {
    if (this.output.length === 0) return;
    const batch = this.output.length === 1 ? this.output[0]! : Buffer.concat(this.output, this.outputBytes);
    this.output = [];
    this.outputBytes = 0;
    if (!this.closed) this.socket.write(batch);
    this.checkBufferedOutput();
  }

  /** True while the client lags behind what was written: a long command
   * then waits (yieldToOthers) before producing more. */
  get outputBacklogged(): boolean {
    return this.outputBytes + this.socket.writableLength >= OUTPUT_BACKLOG_BYTES;
  }

  /** A client that does not read cannot make the session hold more than
   * MAX_BUFFERED_OUTPUT_BYTES: past it the session ends. */
  private checkBufferedOutput(): void {
    if (this.closed || this.socket.writableLength <= MAX_BUFFERED_OUTPUT_BYTES) return;
    this.emit({ type: "error", session: this.id, command: "-", error: `client not reading: over ${MAX_BUFFERED_OUTPUT_BYTES} bytes of output waiting` });
    this.socket.destroy();
    this.shutdown();
  }

  /** Ends the connection after the responses already written. */
  private endSocket(): void {
    this.flushOutput();
    this.socket.end();
  }

  untagged(line: string | Buffer): void {
    if (typeof line === "string") this.write(`* ${line}\r\n`);
    else this.write(Buffer.concat([Buffer.from("* "), line, Buffer.from("\r\n")]));
  }

  /** Waits while the client is slow to read, and lets other sessions run. */
  async yieldToOthers(): Promise<void> {
    // Hand over what is queued first, so the socket's buffer shows the true backlog.
    this.flushOutput();
    if (this.socket.writableNeedDrain) await Promise.race([once(this.socket, "drain"), once(this.socket, "close")]);
    else await new Promise((resolve) => setImmediate(resolve));
  }

  /** Reads the next line the client sends outside the command syntax (the
   * AUTHENTICATE response, IDLE's DONE); null when the connection ends. */
  nextLine(): Promise<Buffer | null> {
    return new Promise((resolve) => {
      this.lineWaiter = resolve;
      this.reader.resume();
    });
  }

  /** Arms the logout timer for IDLE, which may last longer than other waits. */
  idleTimeout(): void {
    this.armAutologout(this.timeouts.idleMs);
  }

  select(selected: SelectedMailbox | null): void {
    this.selected?.close();
    this.selected = selected;
    this.state = selected ? "selected" : this.account ? "authenticated" : "not-authenticated";
  }

  /** After BYE nothing but the tagged OK: pending EXISTS, EXPUNGE and FETCH
   * notices of the selected mailbox are dropped with it (RFC 3501 7.1.5:
   * BYE says the server "is about to close the connection"). */
  logout(): void {
    this.select(null);
    this.state = "logout";
  }

  private receive(command: RawCommand): void {
    if (this.lineWaiter) {
      const waiter = this.lineWaiter;
      this.lineWaiter = null;
      this.reader.pause();
      waiter(command.lines[0] ?? Buffer.alloc(0));
      return;
    }
    this.queue.push(command);
    void this.drainQueue();
  }

  private async drainQueue(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.reader.pause();
    try {
      while (this.queue.length > 0 && !this.closed) {
        await this.execute(this.queue.shift()!);
        if (this.state === "logout") {
          this.endSocket();
          return;
        }
      }
    } finally {
      this.running = false;
      if (!this.closed) this.reader.resume();
    }
  }

  private async execute(raw: RawCommand): Promise<void> {
    // The idle clock stops while a command runs and restarts once it is answered.
    if (this.idleTimer) clearTimeout(this.idleTimer);
    try {
      await this.executeParsed(raw);
    } finally {
      // The reply, untagged lines and tagged line, goes out in one write.
      this.flushOutput();
      if (!this.closed && this.state !== "logout") this.armAutologout();
    }
  }

  private async executeParsed(raw: RawCommand): Promise<void> {
    const parsed = parseCommand(raw);
    if (!parsed.ok) {
      this.write(`${parsed.tag ?? "*"} BAD ${parsed.message}\r\n`);
      return;
    }
    const command = parsed.command;
    // A keyword another session set since the last command is told before this command's FETCH shows it.
    this.selected?.announceNewKeywords((line) => this.untagged(line));
    const completion = await this.run(command);
    if (this.selected) this.selected.flush((line) => this.untagged(line), !this.forbidsExpunge(command));
    const code = completion.code ? `[${completion.code}] ` : "";
    this.write(`${command.tag} ${completion.status} ${code}${completion.text}\r\n`);
  }

  private forbidsExpunge(command: ParsedCommand): boolean {
    return !command.uid && commandsByName.get(command.name)?.forbidsExpungeNotices === true;
  }

  private async run(command: ParsedCommand): Promise<Completion> {
    const spec = commandsByName.get(command.name);
    const label = command.uid ? `UID ${command.name}` : command.name;
    if (!spec || (command.uid && !spec.uid)) return { status: "BAD", text: `unknown command ${label}` };
    if (!spec.states.includes(this.state)) {
      return { status: "BAD", text: `${label} is not allowed ${stateText(this.state)}` };
    }
    try {
      const args = spec.parse(new ArgReader(command.args), command);
      return await spec.run(this, args, command);
    } catch (error) {
      if (error instanceof ParseError || error instanceof RangeError) return { status: "BAD", text: `${label}: ${error.message}` };
      if (error instanceof CommandFailure) return { status: "NO", text: error.message, ...(error.code ? { code: error.code } : {}) };
      if (error instanceof MailboxError) return { status: "NO", text: error.message };
      this.emit({ type: "error", session: this.id, command: label, error: String((error as Error).stack ?? error) });
      return { status: "NO", code: "SERVERBUG", text: `${label} failed: internal error` };
    }
  }

  private readerError(error: ReaderError): void {
    const tag = error.tag ?? "*";
    const tooBig = error.kind === "literal-too-big" && error.commandName === "APPEND";
    this.write(tooBig ? `${tag} NO [TOOBIG] ${error.message}\r\n` : `${tag} BAD ${error.message}\r\n`);
    if (error.fatal) {
      this.write("* BYE the command stream could not be followed\r\n");
      this.endSocket();
      this.shutdown();
    }
  }

  private armAutologout(ms?: number): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    // Before login the time counts from the connection, whatever the client sends.
    const loginDeadline = this.connectedAt + this.timeouts.notAuthenticatedMs - Date.now();
    const timeout = ms ?? (this.state === "not-authenticated" ? Math.max(0, loginDeadline) : this.timeouts.authenticatedMs);
    this.idleTimer = setTimeout(() => {
      this.write("* BYE autologout: idle for too long\r\n");
      this.endSocket();
      this.shutdown();
    }, timeout);
    this.idleTimer.unref();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.output = [];
    this.outputBytes = 0;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.selected?.close();
    this.selected = null;
    this.reader.close();
    this.lineWaiter?.(null);
    this.lineWaiter = null;
    this.emit({ type: "close", session: this.id });
  }
}

function stateText(state: SessionState): string {
  if (state === "not-authenticated") return "before login";
  if (state === "authenticated") return "without a selected mailbox";
  return `in state ${state}`;
}
