// The IMAP command reader, parser and sequence sets: each syntax form, literal
// handling across every chunk boundary, and recovery after oversize input.
import { describe, expect, it } from "vitest";
import {
  CommandReader,
  type CommandReaderLimits,
  type ContinuationRequest,
  type ReaderError,
} from "../../native-host/imap/protocol/command-reader";
import {
  parseCommand,
  tokenAsAtom,
  tokenAsList,
  tokenAsNumber,
  tokenAsSequenceSet,
  tokenAsString,
} from "../../native-host/imap/protocol/command-parser";
import {
  SEQUENCE_STAR,
  expandSequenceSet,
  formatSequenceSet,
  normalizeSequenceSet,
  parseSequenceSet,
  sequenceSetContains,
} from "../../native-host/imap/protocol/sequence-set";
import { ParseError, type ImapToken, type ParsedCommand, type RawCommand } from "../../native-host/imap/protocol/types";

/** A command's text when it is one line without literals, or null. */
function rawCommandLine(raw: RawCommand): string | null {
  return raw.literals.length === 0 && raw.lines.length === 1 ? raw.lines[0]!.toString("utf8") : null;
}

type ReaderEvent =
  | { type: "command"; raw: RawCommand }
  | { type: "continuation"; request: ContinuationRequest }
  | { type: "error"; error: ReaderError };

function recordingReader(limits: Partial<CommandReaderLimits> = {}) {
  const events: ReaderEvent[] = [];
  const reader = new CommandReader(
    {
      onCommand: (raw) => events.push({ type: "command", raw }),
      onContinuationNeeded: (request) => events.push({ type: "continuation", request }),
      onError: (error) => events.push({ type: "error", error }),
    },
    limits,
  );
  return { reader, events };
}

/** Feeds the input in chunks of `chunkSize` bytes and returns what the reader reported. */
function read(input: string | Buffer, chunkSize = Infinity, limits: Partial<CommandReaderLimits> = {}): ReaderEvent[] {
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  const { reader, events } = recordingReader(limits);
  for (let offset = 0; offset < bytes.length; offset += chunkSize) reader.push(bytes.subarray(offset, offset + chunkSize));
  return events;
}

function commands(events: ReaderEvent[]): RawCommand[] {
  return events.flatMap((event) => (event.type === "command" ? [event.raw] : []));
}

/** Parses a single complete command given as wire text; fails the test if it does not read as one. */
function parse(wire: string | Buffer) {
  const [raw, ...rest] = commands(read(wire));
  expect(rest).toHaveLength(0);
  return parseCommand(raw!);
}

function parsed(wire: string | Buffer): ParsedCommand {
  const result = parse(wire);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(wire)} to parse, got: ${result.message}`);
  return result.command;
}

function rejected(wire: string | Buffer): { tag?: string; message: string } {
  const { ok, ...result } = parse(wire);
  if (ok) throw new Error(`expected ${JSON.stringify(wire)} to be rejected`);
  return result as { tag?: string; message: string };
}

const atom = (value: string): ImapToken => ({ type: "atom", value });
const number = (value: number): ImapToken => ({ type: "number", value, text: String(value) });
const quoted = (value: string): ImapToken => ({ type: "quoted", value });
const list = (...items: ImapToken[]): ImapToken => ({ type: "list", items });
const literal = (value: string, binary = false): ImapToken => ({ type: "literal", value: Buffer.from(value, "latin1"), binary });

describe("command reader", () => {
  it("cuts pipelined commands on CRLF and on bare LF", () => {
    const lines = commands(read("a NOOP\r\nb CHECK\nc LOGOUT\r\n")).map((raw) => rawCommandLine(raw));
    expect(lines).toEqual(["a NOOP", "b CHECK", "c LOGOUT"]);
  });

  it("keeps a partial line until its end arrives", () => {
    const { reader, events } = recordingReader();
    reader.push(Buffer.from("a NO"));
    expect(events).toHaveLength(0);
    reader.push(Buffer.from("OP\r"));
    expect(events).toHaveLength(0);
    reader.push(Buffer.from("\n"));
    expect(commands(events).map(rawCommandLine)).toEqual(["a NOOP"]);
  });

  it("asks for continuation on a synchronising literal only, before the literal arrives", () => {
    const { reader, events } = recordingReader();
    reader.push(Buffer.from("a LOGIN {3}\r\n"));
    expect(events).toEqual([{ type: "continuation", request: { tag: "a", commandName: "LOGIN", size: 3, binary: false } }]);
    reader.push(Buffer.from("bob {4+}\r\npass\r\n"));
    expect(events.map((event) => event.type)).toEqual(["continuation", "command"]);
    const raw = commands(events)[0]!;
    expect(raw.lines.map(String)).toEqual(["a LOGIN {3}", " {4+}", ""]);
    expect(raw.literals).toEqual([
      { data: Buffer.from("bob"), binary: false, nonSynchronizing: false },
      { data: Buffer.from("pass"), binary: false, nonSynchronizing: true },
    ]);
    expect(raw.byteLength).toBe(Buffer.byteLength("a LOGIN {3}\r\nbob {4+}\r\npass\r\n"));
  });

  it("reads literal8 and zero-length literals", () => {
    const events = read("a APPEND box UTF8 (~{3}\r\na\0b)\r\nb LOGIN {0}\r\n {0+}\r\n\r\n");
    expect(events.map((event) => event.type)).toEqual(["continuation", "command", "continuation", "command"]);
    expect(events[0]).toEqual({ type: "continuation", request: { tag: "a", commandName: "APPEND", size: 3, binary: true } });
    const [append, login] = commands(events).map((raw) => parseCommand(raw));
    expect(append).toEqual({ ok: true, command: { tag: "a", name: "APPEND", uid: false, args: [atom("box"), atom("UTF8"), list(literal("a\0b", true))] } });
    expect(login).toEqual({ ok: true, command: { tag: "b", name: "LOGIN", uid: false, args: [literal(""), literal("")] } });
  });

  it("gives the same result for every chunking, down to one byte at a time", () => {
    const inputs = [
      "a1 APPEND INBOX (\\Seen) {11}\r\nhello\r\nworld\r\n",
      "a2 LOGIN {3+}\r\nbob {5}\r\np{ss}\r\na3 NOOP\n",
      "t SEARCH CHARSET UTF-8 TEXT ~{4}\r\n\r\n\r\n UID 1:*\r\nu FETCH 1 BODY[]\r\n",
    ];
    for (const input of inputs) {
      const whole = read(input);
      for (let size = 1; size <= input.length; size++) expect(read(input, size)).toEqual(whole);
    }
  });

  it("splits at every byte offset without changing the commands", () => {
    const input = Buffer.from("x APPEND Drafts {5}\r\nab\ncd {2+}\r\n\r\n\r\ny NOOP\r\n");
    const whole = read(input);
    for (let split = 0; split <= input.length; split++) {
      const { reader, events } = recordingReader();
      reader.push(input.subarray(0, split));
      reader.push(input.subarray(split));
      expect(events).toEqual(whole);
    }
  });

  it("reports a too-long line once, with its tag, and reads the next command", () => {
    const { reader, events } = recordingReader({ maxLineBytes: 100 });
    reader.push(Buffer.from("big SEARCH TEXT "));
    for (let i = 0; i < 50; i++) reader.push(Buffer.from("x".repeat(1000)));
    expect(reader.bufferedBytes).toBeLessThan(200);
    reader.push(Buffer.from("\r\nnext NOOP\r\n"));
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ type: "error", error: { kind: "line-too-long", fatal: false, tag: "big", commandName: "SEARCH", limit: 100 } });
    expect(rawCommandLine((events[1] as { raw: RawCommand }).raw)).toBe("next NOOP");
  });

  it("accepts a line exactly at the limit, with CRLF or LF", () => {
    const line = `a ${"x".repeat(98)}`;
    expect(read(`${line}\r\n${line}\n`, 7, { maxLineBytes: 100 }).map((event) => event.type)).toEqual(["command", "command"]);
    expect(read(`${line}x\r\n`, 7, { maxLineBytes: 100 })[0]).toMatchObject({ type: "error", error: { kind: "line-too-long" } });
  });

  it("skips the non-synchronising literal of a too-long line instead of reading it as commands", () => {
    const events = read(`a APPEND ${"x".repeat(200)} {13+}\r\nz BAD INPUT\r\n rest {0+}\r\n\r\nb NOOP\r\n`, 13, { maxLineBytes: 100 });
    expect(events.map((event) => event.type)).toEqual(["error", "command"]);
    expect(rawCommandLine((events[1] as { raw: RawCommand }).raw)).toBe("b NOOP");
  });

  it("refuses a too-big synchronising literal without asking for it, and goes on", () => {
    const events = read("a APPEND INBOX {1000}\r\nb NOOP\r\n", Infinity, { appendLimitBytes: 999 });
    expect(events).toHaveLength(2);
    expect(events[0]).toEqual({
      type: "error",
      error: { kind: "literal-too-big", fatal: false, tag: "a", commandName: "APPEND", limit: 999, message: "Message too big (over 999 bytes)" },
    });
    expect(parseCommand((events[1] as { raw: RawCommand }).raw)).toMatchObject({ ok: true, command: { tag: "b", name: "NOOP" } });
  });

  it("refuses a huge literal count before allocating anything", () => {
    const { reader, events } = recordingReader();
    reader.push(Buffer.from("a APPEND INBOX {99999999999999999999999999}\r\n"));
    expect(events[0]).toMatchObject({ type: "error", error: { kind: "literal-too-big", fatal: false, tag: "a" } });
    expect(reader.bufferedBytes).toBe(0);
  });

  it("treats a too-big non-synchronising literal as fatal and reads nothing more", () => {
    const { reader, events } = recordingReader({ appendLimitBytes: 10 });
    expect(reader.push(Buffer.from("a NOOP\r\nb APPEND INBOX {11+}\r\nhello world\r\nc NOOP\r\n"))).toBe(false);
    expect(events.map((event) => event.type)).toEqual(["command", "error"]);
    expect(events[1]).toMatchObject({ type: "error", error: { kind: "literal-too-big", fatal: true, tag: "b" } });
    expect(reader.closed).toBe(true);
    reader.push(Buffer.from("d NOOP\r\n"));
    expect(events).toHaveLength(2);
  });

  it("limits literals outside APPEND by the command size, APPEND by the append limit", () => {
    const limits = { maxCommandBytes: 100, appendLimitBytes: 1000 };
    expect(read("a LOGIN {200}\r\n", Infinity, limits)[0]).toMatchObject({ type: "error", error: { kind: "literal-too-big", limit: 100 } });
    const append = read(`a APPEND INBOX {500+}\r\n${"m".repeat(500)}\r\n`, Infinity, limits);
    expect(append.map((event) => event.type)).toEqual(["command"]);
  });

  it("refuses a command whose lines and literals add up past the command limit", () => {
    const events = read(`a SEARCH TEXT {40+}\r\n${"t".repeat(40)} TEXT {40+}\r\n${"t".repeat(40)} TEXT {30+}\r\n${"t".repeat(30)}\r\nb NOOP\r\n`, 9, { maxCommandBytes: 120 });
    expect(events.map((event) => event.type)).toEqual(["error", "command"]);
    expect(events[0]).toMatchObject({ type: "error", error: { kind: "command-too-big", fatal: false, tag: "a" } });
  });

  it("refuses a command with too many literals", () => {
    const events = read("a X {1+}\r\na {1+}\r\nb {1+}\r\nc\r\nb NOOP\r\n", Infinity, { maxLiteralsPerCommand: 2 });
    expect(events.map((event) => event.type)).toEqual(["error", "command"]);
    expect(events[0]).toMatchObject({ type: "error", error: { kind: "command-too-big", limit: 2 } });
  });

  it("delivers nothing while paused and everything in order after resume", () => {
    const delivered: string[] = [];
    const reader: CommandReader = new CommandReader({
      onCommand: (raw) => {
        delivered.push(rawCommandLine(raw) ?? `${raw.lines[0]}...`);
        reader.pause();
      },
      onContinuationNeeded: (request) => delivered.push(`+ for ${request.tag}`),
      onError: (error) => delivered.push(`error ${error.tag}`),
    });
    reader.push(Buffer.from("a NOOP\r\nb NOOP\r\nc APPEND x {3}\r\n"));
    expect(delivered).toEqual(["a NOOP"]);
    reader.resume();
    expect(delivered).toEqual(["a NOOP", "b NOOP"]);
    reader.resume();
    expect(delivered).toEqual(["a NOOP", "b NOOP", "+ for c"]);
    reader.push(Buffer.from("abc\r\n"));
    expect(delivered).toEqual(["a NOOP", "b NOOP", "+ for c", "c APPEND x {3}..."]);
  });

  it("applies backpressure when read-ahead is full, then drains", () => {
    let drained = 0;
    const delivered: string[] = [];
    const reader = new CommandReader(
      {
        onCommand: (raw) => delivered.push(rawCommandLine(raw)!),
        onContinuationNeeded: () => undefined,
        onError: () => undefined,
        onDrain: () => drained++,
      },
      { maxPipelinedCommands: 2 },
    );
    reader.pause();
    expect(reader.push(Buffer.from("a NOOP\r\nb NOOP\r\nc NOOP\r\nd NOOP\r\n"))).toBe(false);
    expect(reader.push(Buffer.from("e NOOP\r\n"))).toBe(false);
    expect(drained).toBe(0);
    reader.resume();
    expect(delivered).toEqual(["a NOOP", "b NOOP", "c NOOP", "d NOOP", "e NOOP"]);
    expect(drained).toBe(1);
  });

  it("cuts off a peer that ignores backpressure", () => {
    const { reader, events } = recordingReader({ maxPipelinedCommands: 1, maxUnparsedInputBytes: 100 });
    reader.pause();
    expect(reader.push(Buffer.from("a NOOP\r\nb NOOP\r\n"))).toBe(false);
    for (let i = 0; i < 20; i++) reader.push(Buffer.from("c NOOP\r\n"));
    expect(reader.closed).toBe(true);
    reader.resume();
    expect(events.map((event) => (event.type === "error" ? event.error.kind : event.type))).toEqual(["command", "input-overflow"]);
  });

  it("drops undelivered commands on close", () => {
    const { reader, events } = recordingReader();
    reader.pause();
    reader.push(Buffer.from("a NOOP\r\nb NOOP\r\n"));
    reader.close();
    reader.resume();
    expect(events).toHaveLength(0);
    expect(reader.bufferedBytes).toBe(0);
  });
});

describe("command parser", () => {
  it("reads tag, upper-cased name and UID prefix", () => {
    expect(parsed("A001 noop\r\n")).toEqual({ tag: "A001", name: "NOOP", uid: false, args: [] });
    expect(parsed("x.1] uid Fetch 1:* FLAGS\r\n")).toEqual({ tag: "x.1]", name: "FETCH", uid: true, args: [atom("1:*"), atom("FLAGS")] });
  });

  it("reads atoms, flags, keywords, LIST wildcards and numbers", () => {
    expect(parsed('a LIST "" *\r\n').args).toEqual([quoted(""), atom("*")]);
    expect(parsed("a LIST INBOX/% [Gmail]/*\r\n").args).toEqual([atom("INBOX/%"), atom("[Gmail]/*")]);
    expect(parsed("a STORE 4:2 +FLAGS.SILENT (\\Seen \\* $Forwarded)\r\n").args).toEqual([
      atom("4:2"),
      atom("+FLAGS.SILENT"),
      list(atom("\\Seen"), atom("\\*"), atom("$Forwarded")),
    ]);
    expect(parsed("a X 0 42 9223372036854775807 9223372036854775808\r\n").args).toEqual([
      number(0),
      number(42),
      { type: "number", value: 9223372036854775807, text: "9223372036854775807" },
      atom("9223372036854775808"),
    ]);
    expect(parsed("a X 1-Feb-1994 <x>\r\n").args).toEqual([atom("1-Feb-1994"), atom("<x>")]);
  });

  it("reads NIL in any case, and nested lists", () => {
    expect(parsed('a ID ("name" nil "os" NIL)\r\n').args).toEqual([list(quoted("name"), { type: "nil" }, quoted("os"), { type: "nil" })]);
    expect(parsed("a SEARCH (OR (FROM a (TO b)) ()) ALL\r\n").args).toEqual([
      list(atom("OR"), list(atom("FROM"), atom("a"), list(atom("TO"), atom("b"))), list()),
      atom("ALL"),
    ]);
  });

  it("reads quoted strings with escapes and UTF-8", () => {
    expect(parsed('a LOGIN "b\\"o\\\\b" "pässwörd ✓"\r\n').args).toEqual([quoted('b"o\\b'), quoted("pässwörd ✓")]);
    expect(rejected('a LOGIN "a\\n"\r\n').message).toMatch(/escape/);
    expect(rejected('a LOGIN "abc\r\n').message).toMatch(/Unterminated/);
    expect(rejected(Buffer.concat([Buffer.from('a LOGIN "'), Buffer.from([0xff, 0xfe]), Buffer.from('"\r\n')])).message).toMatch(/UTF-8/);
  });

  it("reads literals between other tokens, keeping their bytes", () => {
    const command = parsed("a LOGIN {3}\r\nbob ({4+}\r\nx\r\ny \"z\")\r\n");
    expect(command.args).toEqual([literal("bob"), list(literal("x\r\ny"), quoted("z"))]);
  });

  it("reads FETCH sections with part paths, header lists and partials", () => {
    const args = parsed(
      "a FETCH 1 (BODY[] body.peek[HEADER.FIELDS (From {2}\r\nTo \"Subject\")]<0.100> BODY[1.2.MIME] BODY.PEEK[2.HEADER.FIELDS.NOT (X-A)] BODY[3.TEXT]<5.10> BINARY[1] BINARY.PEEK[]<0.1> BINARY.SIZE[4.1] BODY[HEADER] BODY)\r\n",
    ).args;
    expect(tokenAsList(args[1])).toEqual([
      { type: "section", item: "BODY", part: [] },
      { type: "section", item: "BODY.PEEK", part: [], text: "HEADER.FIELDS", headerFields: ["From", "To", "Subject"], partial: { start: 0, length: 100 } },
      { type: "section", item: "BODY", part: [1, 2], text: "MIME" },
      { type: "section", item: "BODY.PEEK", part: [2], text: "HEADER.FIELDS.NOT", headerFields: ["X-A"] },
      { type: "section", item: "BODY", part: [3], text: "TEXT", partial: { start: 5, length: 10 } },
      { type: "section", item: "BINARY", part: [1] },
      { type: "section", item: "BINARY.PEEK", part: [], partial: { start: 0, length: 1 } },
      { type: "section", item: "BINARY.SIZE", part: [4, 1] },
      { type: "section", item: "BODY", part: [], text: "HEADER" },
      atom("BODY"),
    ]);
  });

  it("rejects malformed sections", () => {
    for (const [section, message] of [
      ["BODY[MIME]", /MIME section needs a part/],
      ["BODY[0]", /Invalid section/],
      ["BODY[1..2]", /Invalid section/],
      ["BODY[1.]", /Invalid section/],
      ["BODY[HEADERS]", /Invalid section/],
      ["BINARY[TEXT]", /takes only a part number/],
      ["BINARY.SIZE[1]<0.1>", /no partial/],
      ["BODY[TEXT", /Missing '\]'/],
      ["BODY[HEADER.FIELDS]", /list of header names/],
      ["BODY[HEADER.FIELDS ()]", /at least one header/],
      ["BODY[HEADER.FIELDS ((A))]", /header name/],
      ["BODY[]<1>", /partial range/],
      ["BODY[]<1.0>", /partial range/],
      ["BODY[]<0.1>x", /Expected a space/],
    ] as const) {
      expect(rejected(`a FETCH 1 (${section})\r\n`).message, section).toMatch(message);
    }
  });

  it("rejects structural errors with a clear message and the tag where there is one", () => {
    expect(rejected("\r\n")).toEqual({ message: "Empty command line" });
    expect(rejected(" NOOP\r\n")).toEqual({ message: "Missing tag" });
    expect(rejected("+a NOOP\r\n")).toEqual({ message: "Missing tag" });
    expect(rejected("a+ NOOP\r\n").message).toMatch(/Invalid character "\+" in tag/);
    expect(rejected("a\r\n")).toEqual({ tag: "a", message: "Missing command name" });
    expect(rejected("a \r\n")).toEqual({ tag: "a", message: "Missing command name" });
    expect(rejected("a UID\r\n")).toEqual({ tag: "a", message: "Missing command name" });
    expect(rejected("a 9X\r\n")).toMatchObject({ tag: "a", message: 'Invalid command name "9X"' });
    expect(rejected("a X (A B)C\r\n")).toMatchObject({ tag: "a", message: expect.stringMatching(/Expected a space/) });
    expect(rejected('a X "a"b\r\n').message).toMatch(/Expected a space/);
    expect(rejected("a X (A (B)\r\n").message).toMatch(/missing '\)'/);
    expect(rejected("a X A)\r\n").message).toMatch(/unexpected '\)'/);
    expect(rejected("a X A{3}x\r\n").message).toMatch(/Expected a space/);
    expect(rejected("a X {3}x\r\n").message).toMatch(/Invalid literal/);
    expect(rejected("a X {x}\r\n").message).toMatch(/Invalid literal/);
    expect(rejected("a X A\0B\r\n")).toEqual({ tag: "a", message: "NUL byte outside a literal" });
    expect(rejected("a\0 X\r\n")).toEqual({ message: "NUL byte outside a literal" });
    expect(rejected("a X \x01\r\n").message).toMatch(/Control character/);
    expect(rejected("a X \u00e9\r\n").message).toMatch(/8-bit/);
  });

  it("rejects a literal that does not match the raw command", () => {
    const raw: RawCommand = { lines: [Buffer.from("a X {3}"), Buffer.alloc(0)], literals: [{ data: Buffer.from("ab"), binary: false, nonSynchronizing: false }], byteLength: 0 };
    expect(parseCommand(raw)).toEqual({ ok: false, tag: "a", message: "Literal does not match its announced size" });
  });

  it("tolerates extra spaces between tokens", () => {
    expect(parsed("a X  A   ( B  C )  \r\n").args).toEqual([atom("A"), list(atom("B"), atom("C"))]);
  });

  it("limits list depth and token count", () => {
    const limits = { maxListDepth: 3, maxTokens: 5 };
    const [deep, wide] = commands(read("a X (((A)))\r\na X 1 2 3 4 5\r\n")).map((raw) => parseCommand(raw, limits));
    expect(deep).toMatchObject({ ok: true });
    expect(wide).toMatchObject({ ok: true });
    const [tooDeep, tooMany] = commands(read("a X ((((A))))\r\na X 1 2 3 4 5 6\r\n")).map((raw) => parseCommand(raw, limits));
    expect(tooDeep).toEqual({ ok: false, tag: "a", message: "Lists nested too deeply (over 3)" });
    expect(tooMany).toEqual({ ok: false, tag: "a", message: "Too many arguments (over 5)" });
  });

  it("survives very deep nesting at the default limits", () => {
    expect(rejected(`a X ${"(".repeat(30_000)}\r\n`).message).toMatch(/nested too deeply/);
  });
});

describe("token helpers", () => {
  const args = parsed('a X atom 12 "q" {3}\r\nlit NIL (L) 1:5,7 BODY[] 99999999999999999\r\n').args;

  it("reads astrings", () => {
    expect(args.slice(0, 5).map((token) => tokenAsString(token))).toEqual(["atom", "12", "q", "lit", "NIL"]);
    expect(() => tokenAsString(args[5], "a mailbox")).toThrow(new ParseError("Expected a mailbox, got a list"));
    expect(() => tokenAsString(args[7])).toThrow(ParseError);
    expect(() => tokenAsString(undefined, "a mailbox")).toThrow("Missing argument: expected a mailbox");
  });

  it("reads atoms, numbers, lists and sequence sets", () => {
    expect(tokenAsAtom(args[0])).toBe("atom");
    expect(() => tokenAsAtom(args[2])).toThrow("Expected an atom, got a quoted string");
    expect(tokenAsNumber(args[1])).toBe(12);
    expect(() => tokenAsNumber(args[1], "a count", 10)).toThrow("a count out of range: 12");
    expect(() => tokenAsNumber(args[8])).toThrow(ParseError);
    expect(() => tokenAsNumber(args[0])).toThrow(ParseError);
    expect(tokenAsList(args[5])).toEqual([atom("L")]);
    expect(tokenAsSequenceSet(args[6])).toEqual([[1, 5], [7, 7]]);
    expect(tokenAsSequenceSet(args[1])).toEqual([[12, 12]]);
    expect(() => tokenAsSequenceSet(args[2])).toThrow(ParseError);
  });
});

describe("sequence sets", () => {
  it("parses numbers, ranges in either order and *", () => {
    expect(parseSequenceSet("1,4:2,7:*,*")).toEqual([[1, 1], [4, 2], [7, SEQUENCE_STAR], [SEQUENCE_STAR, SEQUENCE_STAR]]);
    expect(parseSequenceSet("4294967295")).toEqual([[4294967295, 4294967295]]);
  });

  it("rejects malformed sets", () => {
    for (const text of ["", "0", "1,", ",1", "1:", ":1", "1:2:3", "a", "01", "1 2", "$", "4294967296", "-1"]) {
      expect(() => parseSequenceSet(text), text).toThrow(ParseError);
    }
    expect(() => parseSequenceSet("1,2,3", 2)).toThrow("Sequence set has more than 2 ranges");
  });

  it("expands with * as the largest number, clipped to the mailbox", () => {
    expect(expandSequenceSet(parseSequenceSet("4:2,9,1,*"), 7)).toEqual([1, 2, 3, 4, 7]);
    expect(expandSequenceSet(parseSequenceSet("5:*"), 3)).toEqual([3]);
    expect(expandSequenceSet(parseSequenceSet("1:*"), 0)).toEqual([]);
    expect(() => expandSequenceSet(parseSequenceSet("1:*"), 4_000_000_000)).toThrow(ParseError);
    expect(normalizeSequenceSet(parseSequenceSet("10:20,1:3,4,15:30"), 25)).toEqual([[1, 4], [10, 25]]);
  });

  it("answers membership like expansion does", () => {
    const set = parseSequenceSet("2:4,*");
    expect([1, 2, 4, 5, 9, 10].map((n) => sequenceSetContains(set, n, 9))).toEqual([false, true, true, false, true, false]);
  });

  it("formats numbers as the shortest set", () => {
    expect(formatSequenceSet([5, 1, 2, 3, 9, 10, 3])).toBe("1:3,5,9:10");
    expect(formatSequenceSet([])).toBe("");
  });
});
