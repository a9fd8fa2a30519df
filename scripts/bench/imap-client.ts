// The IMAP bench's measuring tools: a raw socket IMAP client and readers of
// process memory from /proc.
//
// The client is deliberately dumb: it sends one tagged command, splits what
// comes back into responses (skipping literal data, whose size it counts,
// without copying it) and stops the clock at the tagged reply. A full client
// such as imapflow would parse every response, and that parsing would cost
// more than the servers' work on a big FETCH: the figures would measure the
// client. Both servers are measured through this same client.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import { performance } from "node:perf_hooks";

/** One command's outcome, as seen from the client. */
export type ImapReply = {
  /** OK, NO or BAD. */
  status: string;
  /** The tagged status line, tag included. */
  text: string;
  /** Untagged and continuation responses, literal data replaced by nothing
   * (the "{n}" announcing it is kept). */
  responses: string[];
  /** Every byte received for the command, literals included. */
  bytes: number;
  /** Bytes inside literals (message data for FETCH BODY[]). */
  literalBytes: number;
  /** From writing the command to reading its tagged reply. */
  seconds: number;
};

type Pending = {
  tag: string | null;
  started: number;
  responses: string[];
  bytes: number;
  literalBytes: number;
  resolve: (reply: ImapReply) => void;
  reject: (error: Error) => void;
};

const LF = 0x0a;
const CLOSE_BRACE = 0x7d;

export class RawImapClient {
  private pending: Pending | null = null;
  /** Pieces of the line being read, when it spans several chunks. */
  private lineParts: Buffer[] = [];
  /** Lines of the response being read, when literals split it. */
  private responseParts: string[] = [];
  private literalLeft = 0;
  private tagNumber = 0;
  private failure: Error | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    const fail = (error: Error) => {
      this.failure ??= error;
      const pending = this.pending;
      this.pending = null;
      pending?.reject(this.failure);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("IMAP connection closed")));
  }

  /** Connects and waits for the greeting. */
  static async connect(host: string, port: number): Promise<RawImapClient> {
    const client = new RawImapClient(net.connect(port, host));
    const greeting = await client.expect(null);
    if (!greeting.text.startsWith("* OK")) throw new Error(`unexpected IMAP greeting: ${greeting.text}`);
    return client;
  }

  /** Connects and logs in with LOGIN. */
  static async login(host: string, port: number, user: string, password: string): Promise<RawImapClient> {
    const client = await RawImapClient.connect(host, port);
    await client.ok(`LOGIN ${quoted(user)} ${quoted(password)}`);
    return client;
  }

  /** Sends `text` under a fresh tag; resolves with the reply whatever its status. */
  command(text: string): Promise<ImapReply> {
    const tag = `b${++this.tagNumber}`;
    const reply = this.expect(tag);
    this.socket.write(`${tag} ${text}\r\n`);
    return reply;
  }

  /** Like command, but rejects unless the server answers OK. */
  async ok(text: string): Promise<ImapReply> {
    const reply = await this.command(text);
    if (reply.status !== "OK") throw new Error(`IMAP command failed: ${text.slice(0, 200)}: ${reply.text.slice(0, 300)}`);
    return reply;
  }

  /** LOGOUT, then waits for the server to close the connection. */
  async logout(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      if (this.socket.destroyed) resolve();
      else this.socket.once("close", () => resolve());
    });
    await this.command("LOGOUT").catch(() => undefined);
    this.socket.end();
    await closed;
  }

  close(): void {
    this.socket.destroy();
  }

  private expect(tag: string | null): Promise<ImapReply> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(new Error("the bench client sends one command at a time"));
    return new Promise<ImapReply>((resolve, reject) => {
      this.pending = { tag, started: performance.now(), responses: [], bytes: 0, literalBytes: 0, resolve, reject };
    });
  }

  private receive(chunk: Buffer): void {
    if (this.pending) this.pending.bytes += chunk.length;
    let position = 0;
    while (position < chunk.length) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, chunk.length - position);
        this.literalLeft -= take;
        position += take;
        if (this.pending) this.pending.literalBytes += take;
        continue;
      }
      const lineEnd = chunk.indexOf(LF, position);
      if (lineEnd < 0) {
        this.lineParts.push(chunk.subarray(position));
        return;
      }
      this.lineParts.push(chunk.subarray(position, lineEnd + 1));
      position = lineEnd + 1;
      const line = this.lineParts.length === 1 ? this.lineParts[0]! : Buffer.concat(this.lineParts);
      this.lineParts = [];
      // A line ending in "{n}" CRLF announces n bytes of literal data.
      const literal = line.length >= 5 && line[line.length - 3] === CLOSE_BRACE ? /\{(\d+)\}\r\n$/.exec(line.toString("latin1", Math.max(0, line.length - 24))) : null;
      const text = line.toString("latin1", 0, line.length - (line[line.length - 2] === 0x0d ? 2 : 1));
      this.responseParts.push(text);
      if (literal) {
        this.literalLeft = Number(literal[1]);
        continue;
      }
      const response = this.responseParts.length === 1 ? text : this.responseParts.join("");
      this.responseParts = [];
      this.complete(response);
    }
  }

  private complete(response: string): void {
    const pending = this.pending;
    if (!pending) return; // unsolicited, between commands
    const tagged = pending.tag === null || (response.startsWith(pending.tag) && response.charCodeAt(pending.tag.length) === 0x20);
    if (!tagged) {
      pending.responses.push(response);
      return;
    }
    this.pending = null;
    const status = pending.tag === null ? "OK" : (/^\S+ (\S+)/.exec(response)?.[1] ?? "").toUpperCase();
    pending.resolve({
      status,
      text: response,
      responses: pending.responses,
      bytes: pending.bytes,
      literalBytes: pending.literalBytes,
      seconds: (performance.now() - pending.started) / 1000,
    });
  }
}

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, "\\$&")}"`;
}

/** FETCH responses among a reply's responses. */
export function fetchResponses(reply: ImapReply): number {
  return reply.responses.filter((response) => /^\* \d+ FETCH /.test(response)).length;
}

// ---------------------------------------------------------------------------
// Process memory from /proc (Linux)

const KiB = 1024;

/** VmRSS and VmHWM (peak RSS) of a process, in bytes; null once it is gone. */
export function processMemory(pid: number): { rssBytes: number; peakBytes: number } | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "latin1");
  } catch {
    return null;
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * KiB;
  return { rssBytes: field("VmRSS"), peakBytes: field("VmHWM") };
}

/** Resets a process's peak RSS (VmHWM) to its current RSS, so that the next
 * reading is the peak since now. Returns false where the kernel refuses. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

type ProcessEntry = { pid: number; ppid: number; name: string };

function processTable(): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
      const close = stat.lastIndexOf(")");
      const fields = stat.slice(close + 2).split(" ");
      entries.push({ pid: Number(name), ppid: Number(fields[1]), name: stat.slice(stat.indexOf("(") + 1, close) });
    } catch {
      // The process ended while the table was read.
    }
  }
  return entries;
}

/** The process whose command line contains `text`, or null. */
export function findProcess(text: string): number | null {
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "latin1").replace(/\0/g, " ").includes(text)) return Number(name);
    } catch {
      // Gone.
    }
  }
  return null;
}

/** `root` and every process below it, with their names. */
export function processTree(root: number): ProcessEntry[] {
  const table = processTable();
  const inTree = new Set([root]);
  // Parents have lower PIDs almost always, but not after PID wrap-around: repeat until stable.
  for (let grown = true; grown; ) {
    grown = false;
    for (const entry of table) {
      if (!inTree.has(entry.pid) && inTree.has(entry.ppid)) {
        inTree.add(entry.pid);
        grown = true;
      }
    }
  }
  return table.filter((entry) => inTree.has(entry.pid));
}

/** Samples the summed RSS of a changing set of processes every few
 * milliseconds and keeps the highest sum seen. */
export class RssSampler {
  private timer: NodeJS.Timeout | null = null;
  private peak = 0;
  private mostProcesses = 0;

  constructor(private readonly pids: () => readonly number[]) {}

  start(intervalMs = 10): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Stops and returns the highest sum and the most processes seen at once. */
  stop(): { peakBytes: number; processes: number } {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    return { peakBytes: this.peak, processes: this.mostProcesses };
  }

  private sample(): void {
    let sum = 0;
    let count = 0;
    for (const pid of this.pids()) {
      const memory = processMemory(pid);
      if (!memory) continue;
      sum += memory.rssBytes;
      count++;
    }
    this.peak = Math.max(this.peak, sum);
    this.mostProcesses = Math.max(this.mostProcesses, count);
  }
}
