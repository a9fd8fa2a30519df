// Property tests of the IMAP reader and parser against hostile and random
// input: nothing escapes as an exception, memory stays within the limits, the
// chunking of the stream never changes what is read, and well-formed commands
// survive a round trip through the wire format.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CommandReader,
  type CommandReaderLimits,
  type ContinuationRequest,
  type ReaderError,
  type ReaderErrorKind,
} from "../../native-host/imap/protocol/command-reader";
import { parseCommand } from "../../native-host/imap/protocol/command-parser";
import {
  SEQUENCE_STAR,
  expandSequenceSet,
  formatSequenceSet,
  parseSequenceSet,
  sequenceSetContains,
} from "../../native-host/imap/protocol/sequence-set";
import type { ImapToken, ParsedCommand, RawCommand, SectionItem, SectionToken, SequenceRange } from "../../native-host/imap/protocol/types";

const SMALL_LIMITS: CommandReaderLimits = {
  maxLineBytes: 60,
  maxCommandBytes: 200,
  appendLimitBytes: 300,
  maxLiteralsPerCommand: 4,
  maxPipelinedCommands: 3,
  maxPipelinedBytes: 150,
  maxUnparsedInputBytes: 100,
};

const ERROR_KINDS: ReadonlySet<ReaderErrorKind> = new Set(["line-too-long", "literal-too-big", "command-too-big", "input-overflow"]);

type ReaderEvent =
  | { type: "command"; raw: RawCommand }
  | { type: "continuation"; request: ContinuationRequest }
  | { type: "error"; error: ReaderError };

/** Splits input into chunks whose sizes cycle through `sizes`. */
function chunked(input: Buffer, sizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0, index = 0; offset < input.length; index++) {
    const size = sizes[index % sizes.length]!;
    chunks.push(input.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

/** Feeds chunks to an unpaused reader, checking the memory bound after each one. */
function readAll(chunks: Buffer[], limits: Partial<CommandReaderLimits> = {}): ReaderEvent[] {
  const events: ReaderEvent[] = [];
  const reader = new CommandReader(
    {
      onCommand: (raw) => events.push({ type: "command", raw }),
      onContinuationNeeded: (request) => events.push({ type: "continuation", request }),
      onError: (error) => events.push({ type: "error", error }),
    },
    limits,
  );
  const effective = { ...SMALL_LIMITS, ...limits };
  // Partial line (+CR) and discarded tail, plus one command and its literal in progress.
  const bound = effective.maxLineBytes + 1 + 32 + effective.maxCommandBytes + effective.appendLimitBytes;
  for (const chunk of chunks) {
    reader.push(chunk);
    expect(reader.bufferedBytes).toBeLessThanOrEqual(bound);
  }
  return events;
}

/** Byte soup leaning on the syntax that matters: line ends, literal markers, brackets, quotes. */
const hostileInput = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 12 }).map((bytes) => Buffer.from(bytes)),
      fc
        .constantFrom(
          "\r\n",
          "\n",
          "\r",
          "{3}\r\n",
          "{2+}\r\n",
          "~{1}\r\n",
          "~{4+}\r\n",
          "{0}\r\n",
          "{0+}\r\n",
          "{250}\r\n",
          "{250+}\r\n",
          "{999999}\r\n",
          "{99999999999999999999+}\r\n",
          "{x}\r\n",
          " ",
          "(",
          ")",
          '"',
          "\\",
          "\0",
          "a1 ",
          "A APPEND box ",
          "t UID FETCH 1:* ",
          "BODY.PEEK[",
          "HEADER.FIELDS (",
          "]",
          "<0.10>",
          "NIL",
          "\u00e9",
          "x".repeat(70),
        )
        .map((text) => Buffer.from(text, "utf8")),
    ),
    { maxLength: 60 },
  )
  .map((parts) => Buffer.concat(parts));

const chunkSizes = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 });

describe("command reader under hostile input", () => {
  it("never throws, stays within its limits, and reads the same whatever the chunking", () => {
    fc.assert(
      fc.property(hostileInput, chunkSizes, (input, sizes) => {
        const whole = readAll([input], SMALL_LIMITS);
        const pieces = readAll(chunked(input, sizes), SMALL_LIMITS);
        expect(pieces).toEqual(whole);
        let fatalSeen = false;
        for (const event of whole) {
          expect(fatalSeen, "nothing is reported after a fatal error").toBe(false);
          if (event.type === "error") {
            expect(ERROR_KINDS.has(event.error.kind)).toBe(true);
            fatalSeen = event.error.fatal;
          }
          if (event.type === "command") {
            const raw = event.raw;
            expect(raw.lines).toHaveLength(raw.literals.length + 1);
            expect(raw.literals.length).toBeLessThanOrEqual(SMALL_LIMITS.maxLiteralsPerCommand);
            for (const line of raw.lines) expect(line.length).toBeLessThanOrEqual(SMALL_LIMITS.maxLineBytes);
            expect(raw.byteLength).toBeLessThanOrEqual(SMALL_LIMITS.maxCommandBytes + SMALL_LIMITS.appendLimitBytes);
            const result = parseCommand(raw, { maxListDepth: 4, maxTokens: 20 });
            if (!result.ok) expect(result.message).toMatch(/\S/);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("delivers the same events in the same order however the server pauses, when it honours backpressure", () => {
    fc.assert(
      fc.property(hostileInput, chunkSizes, fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }), (input, sizes, pauseSchedule) => {
        const chunks = chunked(input, sizes);
        const expected = readAll(chunks, SMALL_LIMITS);

        const events: ReaderEvent[] = [];
        let step = 0;
        const nextPause = () => pauseSchedule[step++ % pauseSchedule.length]!;
        let socketPaused = false;
        const reader: CommandReader = new CommandReader(
          {
            onCommand: (raw) => {
              events.push({ type: "command", raw });
              if (nextPause()) reader.pause();
            },
            onContinuationNeeded: (request) => events.push({ type: "continuation", request }),
            onError: (error) => events.push({ type: "error", error }),
            onDrain: () => (socketPaused = false),
          },
          SMALL_LIMITS,
        );
        let next = 0;
        for (let guard = 0; guard < 100_000; guard++) {
          // Like a server: read the socket unless told to stop; finish a command now and then.
          if (!socketPaused && next < chunks.length && !nextPause()) socketPaused = !reader.push(chunks[next++]!);
          else if (reader.paused) reader.resume();
          else if (!socketPaused && next < chunks.length) socketPaused = !reader.push(chunks[next++]!);
          else break;
        }
        expect(events).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});

describe("command parser under hostile input", () => {
  it("returns a result, never throws, for any lines and literals", () => {
    const rawCommand = fc.array(fc.tuple(fc.uint8Array({ maxLength: 30 }), fc.uint8Array({ maxLength: 5 }), fc.boolean()), { maxLength: 4 }).chain((pairs) =>
      fc.uint8Array({ maxLength: 30 }).map(
        (last): RawCommand => ({
          lines: [...pairs.map(([line]) => Buffer.from(line)), Buffer.from(last)],
          literals: pairs.map(([, data, binary]) => ({ data: Buffer.from(data), binary, nonSynchronizing: false })),
          byteLength: 0,
        }),
      ),
    );
    fc.assert(
      fc.property(rawCommand, (raw) => {
        const result = parseCommand(raw);
        expect(typeof result.ok).toBe("boolean");
      }),
      { numRuns: 2000 },
    );
  });
});

// ---- Well-formed commands: generate a token tree, write it as a client would, read it back.

const ATOM_CHARS = [..."ABCXYZabcxyz\\$.-:*%[]+&!#'<>,;=?@^_`|~/"];
const atomToken = fc
  .string({ unit: fc.constantFrom(...ATOM_CHARS), minLength: 1, maxLength: 8 })
  .filter((value) => value.toUpperCase() !== "NIL")
  .map((value): ImapToken => ({ type: "atom", value }));
const numberToken = fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }).map((value): ImapToken => ({ type: "number", value: Number(value), text: String(value) }));
const quotedText = fc.string({ unit: "binary", maxLength: 12 }).filter((text) => !/[\0\r\n]/.test(text) && Buffer.from(text).toString() === text);
const quotedToken = quotedText.map((value): ImapToken => ({ type: "quoted", value }));
const literalToken = fc.tuple(fc.uint8Array({ maxLength: 20 }), fc.boolean()).map(([bytes, binary]): ImapToken => ({ type: "literal", value: Buffer.from(bytes), binary }));
const nilToken = fc.constant<ImapToken>({ type: "nil" });

const nzNumber = fc.integer({ min: 1, max: 0xffff_ffff });
const sectionToken = fc
  .record({
    item: fc.constantFrom<SectionItem>("BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE"),
    part: fc.array(nzNumber, { maxLength: 3 }),
    text: fc.constantFrom(undefined, "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME"),
    headerFields: fc.array(fc.oneof(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,10}$/), quotedText), { minLength: 1, maxLength: 4 }),
    partial: fc.option(fc.record({ start: fc.integer({ min: 0, max: 0xffff_ffff }), length: nzNumber }), { nil: undefined }),
  })
  .map(({ item, part, text, headerFields, partial }): ImapToken => {
    const section: SectionToken = { type: "section", item, part };
    if (!item.startsWith("BINARY") && text && (text !== "MIME" || part.length > 0)) {
      section.text = text;
      if (text.startsWith("HEADER.FIELDS")) section.headerFields = headerFields;
    }
    if (partial && item !== "BINARY.SIZE") section.partial = partial;
    return section;
  });

const { token: anyToken } = fc.letrec<{ token: ImapToken; list: ImapToken }>((tie) => ({
  token: fc.oneof({ maxDepth: 5, depthIdentifier: "token" }, atomToken, numberToken, quotedToken, literalToken, nilToken, sectionToken, tie("list")),
  list: fc.array(tie("token"), { maxLength: 4, depthIdentifier: "token" }).map((items): ImapToken => ({ type: "list", items })),
}));

const tagText = fc.string({ unit: fc.constantFrom(..."abcXYZ0189.-]_"), minLength: 1, maxLength: 6 });
const commandName = fc.stringMatching(/^[A-Z][A-Z0-9]{0,7}$/).filter((name) => name !== "UID");

const command = fc.record({ tag: tagText, name: commandName, uid: fc.boolean(), args: fc.array(anyToken, { maxLength: 6 }) });

function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

/** Writes tokens as a client would; literals take their LITERAL+ choice from `nonSynchronizing` in turn. */
function writeTokens(tokens: ImapToken[], nonSynchronizing: () => boolean): Buffer {
  const parts: Buffer[] = [];
  tokens.forEach((token, index) => {
    if (index > 0) parts.push(Buffer.from(" "));
    parts.push(writeToken(token, nonSynchronizing));
  });
  return Buffer.concat(parts);
}

function writeToken(token: ImapToken, nonSynchronizing: () => boolean): Buffer {
  switch (token.type) {
    case "atom":
      return Buffer.from(token.value, "latin1");
    case "number":
      return Buffer.from(token.text);
    case "quoted":
      return Buffer.from(quote(token.value), "utf8");
    case "nil":
      return Buffer.from("NIL");
    case "literal":
      return Buffer.concat([Buffer.from(`${token.binary ? "~" : ""}{${token.value.length}${nonSynchronizing() ? "+" : ""}}\r\n`), token.value]);
    case "list":
      return Buffer.concat([Buffer.from("("), writeTokens(token.items, nonSynchronizing), Buffer.from(")")]);
    case "section": {
      const spec = [...token.part.map(String), ...(token.text ? [token.text] : [])].join(".");
      const fields = token.headerFields ? ` (${token.headerFields.map((field) => (/^[A-Za-z][A-Za-z0-9-]*$/.test(field) && field.toUpperCase() !== "NIL" ? field : quote(field))).join(" ")})` : "";
      const partial = token.partial ? `<${token.partial.start}.${token.partial.length}>` : "";
      return Buffer.from(`${token.item}[${spec}${fields}]${partial}`, "utf8");
    }
  }
}

function countSynchronisingLiterals(wire: Buffer): number {
  return (wire.toString("latin1").match(/~?\{\d+\}\r\n/g) ?? []).length;
}

describe("well-formed commands", () => {
  it("read back as written, however the stream is chunked", () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 4 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }), chunkSizes, fc.boolean(), (commands, literalPlus, sizes, bareLf) => {
        let turn = 0;
        const nonSynchronizing = () => literalPlus[turn++ % literalPlus.length]!;
        const wire = Buffer.concat(
          commands.map((expected: ParsedCommand) => {
            const head = Buffer.from(`${expected.tag} ${expected.uid ? "UID " : ""}${expected.name}${expected.args.length > 0 ? " " : ""}`);
            return Buffer.concat([head, writeTokens(expected.args, nonSynchronizing), Buffer.from(bareLf ? "\n" : "\r\n")]);
          }),
        );
        const events = readAll(chunked(wire, sizes), {});
        const parsed = events.flatMap((event) => (event.type === "command" ? [parseCommand(event.raw)] : []));
        expect(parsed).toEqual(commands.map((expected) => ({ ok: true, command: expected })));
        expect(events.filter((event) => event.type === "continuation")).toHaveLength(countSynchronisingLiterals(wire));
        expect(events.filter((event) => event.type === "error")).toHaveLength(0);
      }),
      { numRuns: 500 },
    );
  });
});

describe("sequence sets", () => {
  const bound = fc.oneof(fc.integer({ min: 1, max: 60 }), fc.constant(SEQUENCE_STAR));
  const sequenceSet = fc.array(fc.tuple(bound, bound), { minLength: 1, maxLength: 6 });

  function format(set: readonly SequenceRange[]): string {
    const text = (n: number) => (n === SEQUENCE_STAR ? "*" : String(n));
    return set.map(([start, end]) => (start === end ? text(start) : `${text(start)}:${text(end)}`)).join(",");
  }

  it("parse back what was written", () => {
    fc.assert(
      fc.property(sequenceSet, (set) => {
        expect(parseSequenceSet(format(set))).toEqual(set.map(([start, end]) => [start, end]));
      }),
    );
  });

  it("expand to exactly the members, sorted and unique, and format back to the same members", () => {
    fc.assert(
      fc.property(sequenceSet, fc.integer({ min: 0, max: 80 }), (set, max) => {
        const expanded = expandSequenceSet(set, max);
        const members = Array.from({ length: max }, (_, i) => i + 1).filter((n) => sequenceSetContains(set, n, max));
        expect(expanded).toEqual(members);
        const formatted = formatSequenceSet(expanded);
        expect(formatted === "" ? [] : expandSequenceSet(parseSequenceSet(formatted), max)).toEqual(expanded);
      }),
    );
  });

  it("never throws anything but ParseError on arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."0123456789:,*$ -a"), maxLength: 20 }), (text) => {
        try {
          const set = parseSequenceSet(text);
          expect(set.length).toBeGreaterThan(0);
        } catch (error) {
          expect((error as Error).name).toBe("ParseError");
        }
      }),
    );
  });
});
