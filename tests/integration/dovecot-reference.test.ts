// Our ENVELOPE, BODY and BODYSTRUCTURE against Dovecot's, byte for byte, for
// every message of the fixture corpus; then every section of every message
// (BODY[n], [n.MIME], [n.HEADER], [n.TEXT] for every part, and the parts
// that do not exist), fetched from both servers. Where they differ, the
// reason ours is right is written down: KNOWN_DIFFERENCES for structures,
// dovecotAddsBoundaryCrlf for the one systematic section difference.
//
// Dovecot serves messages with CRLF line ends whatever they were stored with,
// and its sizes count every bare LF as CRLF; we serve the stored bytes and
// count them. So each message is compared in its CRLF form (bare LF -> CRLF):
// there both servers serve the same bytes, and every size and line count must
// agree.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { splitMessage } from "../../native-host/mail/mime-split";
import { bodyStructure } from "../../native-host/imap/fetch/body-structure";
import { envelope } from "../../native-host/imap/fetch/envelope";
import { encode } from "../../native-host/imap/response/encode";
import { corpusEntries, readCorpusMessage, type CorpusEntry } from "../helpers/corpus";
import type { MimeNode } from "../../shared/documents";
import { openRawSession, requireDovecotOrSkipReason, startDovecot, type DovecotServer, type RawImapSession } from "../helpers/dovecot";
import { ADDRESS, startImap } from "../helpers/imap-server";

type Item = "BODYSTRUCTURE" | "BODY" | "ENVELOPE";
const ITEMS: Item[] = ["BODYSTRUCTURE", "BODY", "ENVELOPE"];

type KnownDifference = {
  why: string;
  /** True when only sizes and line counts differ, which the test then checks. */
  numbersOnly: boolean;
  items: Item[];
  paths: string[];
};

/** Every message where our answer differs from Dovecot's, and why. The test
 * fails when one of these starts to match, so the list stays current. */
const KNOWN_DIFFERENCES: KnownDifference[] = [
  {
    why:
      "Dovecot is wrong: a message/rfc822 part whose embedded message is all header and no body " +
      "(often a bounce's 'Message removed') gets the CRLF before the next delimiter line counted in " +
      "its size and lines (2 octets and 1 line too many, also in every enclosing message/rfc822). " +
      "RFC 2046 5.1.1: that CRLF 'is conceptually attached to the boundary', not to the part.",
    numbersOnly: true,
    items: ["BODYSTRUCTURE", "BODY"],
    paths: [
      "generated/rfc822-base64-encoded.eml",
      "real/flufl.bounce/dsn_13.txt",
      "real/flufl.bounce/dsn_14.txt",
      "real/flufl.bounce/dsn_15.txt",
      "real/flufl.bounce/dsn_16.txt",
      "real/flufl.bounce/groupwise_02.txt",
      "real/flufl.bounce/hotpop_01.txt",
      "real/flufl.bounce/microsoft_01.txt",
      "real/flufl.bounce/microsoft_04.txt",
      "real/flufl.bounce/netscape_01.txt",
      "real/flufl.bounce/postfix_01.txt",
      "real/flufl.bounce/postfix_03.txt",
      "real/flufl.bounce/postfix_04.txt",
      "real/flufl.bounce/postfix_05.txt",
      "real/flufl.bounce/simple_15.txt",
      "real/flufl.bounce/simple_19.txt",
      "real/flufl.bounce/simple_25.txt",
      "real/flufl.bounce/simple_27.txt",
      "real/flufl.bounce/simple_31.txt",
      "real/flufl.bounce/simple_38.txt",
      "real/flufl.bounce/sina_01.txt",
      "real/wildduck/ryan_finnie_mime_torture.eml",
    ],
  },
  {
    why:
      "Dovecot is wrong: the boundary parameter has 100 characters (RFC 2046 5.1.1 allows 70); " +
      "Dovecot cuts it to 70, then reads the close delimiter '--<boundary>--' as one more delimiter " +
      "and reports an empty extra part. We keep the whole boundary and see the close delimiter.",
    numbersOnly: false,
    items: ["BODYSTRUCTURE", "BODY"],
    paths: ["generated/boundary-70-chars.eml"],
  },
  {
    why:
      "Our limit: the MIME tree is cut at MAX_MIME_DEPTH (native-host/limits.ts, 32) levels, " +
      "Dovecot's at 100; the RFCs set none.",
    numbersOnly: false,
    items: ["BODYSTRUCTURE", "BODY"],
    paths: ["generated/nested-deep-60.eml"],
  },
  {
    why:
      "Ambiguous input, we choose differently: a line that starts with '--<boundary>' and goes on " +
      "with a character a boundary may contain ('--b2' under boundary 'b'). Dovecot takes it as a " +
      "delimiter of 'b' unless a nested multipart with boundary 'b2' is open (it checks the innermost " +
      "boundary first while streaming). Our splitter reads the outer multipart first, so it never takes " +
      "such a line as a delimiter: that keeps well-formed nesting with prefix boundaries right (RFC " +
      "2046 5.1.1 wants no boundary to be a prefix of another, and real mailers do nest 'b' and 'b2'), " +
      "and costs only these hand-made messages.",
    numbersOnly: false,
    items: ["BODYSTRUCTURE", "BODY"],
    paths: [
      "generated/binary-nul-and-fake-delimiters.eml",
      "generated/boundary-in-body-text.eml",
      "generated/boundary-prefix-line.eml",
      "generated/preamble-looks-like-headers.eml",
    ],
  },
  {
    why:
      "Broken input, RFC silent on recovery, so Dovecot's reading should win (mime-split.ts to " +
      "change): a nested multipart reuses its parent's boundary (RFC 2046 5.1.1 forbids it); " +
      "Dovecot gives each delimiter line to the innermost multipart, our splitter to the outermost.",
    numbersOnly: false,
    items: ["BODYSTRUCTURE", "BODY"],
    paths: ["real/cpython-test_email/msg_15.txt", "real/cpython-test_email/msg_39.txt"],
  },
];

function crlfForm(raw: Buffer): Buffer {
  return Buffer.from(raw.toString("latin1").replace(/(?<!\r)\n/g, "\r\n"), "latin1");
}

function ours(raw: Buffer): Record<Item, Buffer> {
  const { root } = splitMessage(raw);
  const bytes = (text: string) => Buffer.from(text, "latin1");
  return {
    BODYSTRUCTURE: bytes(encode(bodyStructure(root, true))),
    BODY: bytes(encode(bodyStructure(root, false))),
    ENVELOPE: bytes(encode(envelope(root))),
  };
}

/** Offset just past the IMAP value (atom, quoted string, literal or list) at `start`. */
function valueEnd(bytes: Buffer, start: number): number {
  let depth = 0;
  let at = start;
  do {
    const char = bytes[at];
    if (char === 0x28) {
      depth++;
      at++;
    } else if (char === 0x29) {
      depth--;
      at++;
    } else if (char === 0x20) {
      at++;
    } else if (char === 0x22) {
      for (at++; bytes[at] !== 0x22; at++) if (bytes[at] === 0x5c) at++;
      at++;
    } else if (char === 0x7b) {
      const close = bytes.indexOf("}", at);
      at = close + 3 + Number(bytes.toString("latin1", at + 1, close));
    } else {
      while (at < bytes.length && bytes[at] !== 0x20 && bytes[at] !== 0x28 && bytes[at] !== 0x29) at++;
    }
  } while (depth > 0 && at < bytes.length);
  return at;
}

/** The items of "* n FETCH (NAME value ...)", values as raw bytes. */
function fetchItems(response: Buffer): { sequence: number; items: Map<string, Buffer> } {
  const head = /^\* (\d+) FETCH \(/.exec(response.toString("latin1", 0, 40));
  if (!head) throw new Error(`not a FETCH response: ${response.toString("latin1", 0, 80)}`);
  const items = new Map<string, Buffer>();
  let at = head[0].length;
  while (response[at] !== 0x29) {
    const nameEnd = response.indexOf(" ", at);
    const name = response.toString("latin1", at, nameEnd);
    const end = valueEnd(response, nameEnd + 1);
    items.set(name, response.subarray(nameEnd + 1, end));
    at = response[end] === 0x20 ? end + 1 : end;
  }
  return { sequence: Number(head[1]), items };
}

const skipReason = requireDovecotOrSkipReason();
if (skipReason) console.warn(`Skipping the Dovecot reference test: ${skipReason}`);

describe.skipIf(skipReason !== null)("ENVELOPE and BODYSTRUCTURE match Dovecot", () => {
  const entries = corpusEntries();
  const messages = entries.map((entry) => crlfForm(readCorpusMessage(entry)));
  let server: DovecotServer;
  const reference = new Map<number, Map<string, Buffer>>();

  beforeAll(async () => {
    server = await startDovecot();
    server.loadMessages("INBOX", messages);
    const session = await server.openSession();
    try {
      await session.command("EXAMINE INBOX");
      for (const response of await session.command("FETCH 1:* (BODYSTRUCTURE BODY ENVELOPE)")) {
        if (!/^\* \d+ FETCH /.test(response.toString("latin1", 0, 30))) continue;
        const { sequence, items } = fetchItems(response);
        reference.set(sequence, items);
      }
    } finally {
      session.close();
    }
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("gets an answer from Dovecot for every message", () => {
    expect(reference.size).toBe(entries.length);
  });

  it.each(entries.map((entry, index) => [entry.path, entry, index] as [string, CorpusEntry, number]))(
    "%s",
    (path, _entry, index) => {
      const dovecot = reference.get(index + 1)!;
      const mine = ours(messages[index]!);
      const text = (bytes: Buffer) => bytes.toString("latin1");
      const known = KNOWN_DIFFERENCES.find((difference) => difference.paths.includes(path));
      if (!known) {
        for (const item of ITEMS) expect(text(mine[item]), item).toBe(text(dovecot.get(item)!));
        return;
      }
      const differing = ITEMS.filter((item) => text(mine[item]) !== text(dovecot.get(item)!));
      expect(differing, known.why).toEqual(known.items);
      if (known.numbersOnly) {
        const withoutNumbers = (bytes: Buffer) => text(bytes).replace(/\d+/g, "#");
        for (const item of known.items) expect(withoutNumbers(mine[item]), item).toBe(withoutNumbers(dovecot.get(item)!));
      }
    },
  );
});

/** Every section a client may name for a message: for each part the
 * BODYSTRUCTURE names, BODY[n] and [n.MIME], for a message/rfc822 part also
 * [n.HEADER] and [n.TEXT]; then the first part number past the last of each
 * multipart, and [n.1] of a single part, which do not exist. */
function sectionsOf(root: MimeNode): string[] {
  const out = ["HEADER", "TEXT"];
  /** The parts inside a message (the top, or a message/rfc822 part's). */
  const inMessage = (message: MimeNode, prefix: string) => {
    if (message.body.kind === "multipart") inMultipart(message.body.parts.map((part) => part.node), prefix);
    else {
      part(message, `${prefix}1`, true);
      out.push(`${prefix}2`);
    }
  };
  const inMultipart = (parts: MimeNode[], prefix: string) => {
    parts.forEach((node, i) => part(node, `${prefix}${i + 1}`, false));
    out.push(`${prefix}${parts.length + 1}`);
  };
  const part = (node: MimeNode, path: string, bodyOfMessage: boolean) => {
    out.push(path, `${path}.MIME`);
    if (bodyOfMessage) {
      out.push(`${path}.1`);
      return;
    }
    if (node.body.kind === "message") {
      out.push(`${path}.HEADER`, `${path}.TEXT`);
      inMessage(node.body.node, `${path}.`);
    } else if (node.body.kind === "multipart") inMultipart(node.body.parts.map((child) => child.node), `${path}.`);
    else out.push(`${path}.1`);
  };
  inMessage(root, "");
  return out;
}

/** Dovecot's one systematic difference, found in many messages: where a
 * multipart (or a message/rfc822 of header only) ends just before a
 * delimiter line of its parent, Dovecot's section bytes keep the CRLF that
 * precedes that delimiter, which RFC 2046 5.1.1 attaches to the delimiter
 * ("The CRLF preceding the boundary delimiter line is conceptually attached
 * to the boundary"), and which its own BODYSTRUCTURE size leaves out. Ours
 * leave it out, so our bytes agree with both. This tells such a pair: the
 * same literal, but for one CRLF more in Dovecot's. */
function dovecotAddsBoundaryCrlf(ours: string, dovecot: string): boolean {
  const body = (literal: string) => literal.slice(literal.indexOf("\r\n") + 2);
  const [mine, theirs] = [body(ours), body(dovecot)];
  if (theirs.length !== mine.length + 2) return false;
  let at = 0;
  while (at < mine.length && mine[at] === theirs[at]) at++;
  return theirs.slice(at, at + 2) === "\r\n" && theirs.slice(at + 2) === mine.slice(at);
}

/** Our answer and Dovecot's for every section of every corpus message. */
async function fetchSections(session: RawImapSession, count: number, sections: (n: number) => string[]): Promise<Map<string, Buffer>[]> {
  await session.command("EXAMINE INBOX");
  const answers: Map<string, Buffer>[] = [];
  for (let n = 1; n <= count; n++) {
    const items = sections(n).map((section) => `BODY.PEEK[${section}]`);
    const [response] = (await session.command(`FETCH ${n} (${items.join(" ")})`)).filter((line) => /^\* \d+ FETCH /.test(line.toString("latin1", 0, 30)));
    answers.push(fetchItems(response!).items);
  }
  return answers;
}

describe.skipIf(skipReason !== null)("every section of every message matches Dovecot", () => {
  const entries = corpusEntries();
  const messages = entries.map((entry) => crlfForm(readCorpusMessage(entry)));
  const sections = messages.map((raw) => sectionsOf(splitMessage(raw).root));
  let dovecot: DovecotServer;
  let ours: Awaited<ReturnType<typeof startImap>>;
  let theirs: Map<string, Buffer>[] = [];
  let mine: Map<string, Buffer>[] = [];

  beforeAll(async () => {
    [dovecot, ours] = await Promise.all([startDovecot(), startImap()]);
    dovecot.loadMessages("INBOX", messages);
    const inbox = ours.account.requireMailbox("INBOX");
    for (const raw of messages) inbox.add(raw);
    const [dovecotSession, ourSession] = await Promise.all([
      dovecot.openSession(),
      openRawSession(ours.port, ADDRESS, ours.token),
    ]);
    try {
      const names = (n: number) => sections[n - 1]!;
      [theirs, mine] = await Promise.all([fetchSections(dovecotSession, messages.length, names), fetchSections(ourSession, messages.length, names)]);
    } finally {
      dovecotSession.close();
      ourSession.close();
    }
  }, 240_000);

  afterAll(async () => {
    await dovecot?.stop();
    await ours?.stop();
  });

  it.each(entries.map((entry, index) => [entry.path, index] as [string, number]))("%s", (path, index) => {
    const answer = (answers: Map<string, Buffer>[], section: string) => answers[index]!.get(`BODY[${section}]`)?.toString("latin1") ?? "";
    const differing = sections[index]!.filter((section) => answer(mine, section) !== answer(theirs, section));
    // A message whose structure differs (KNOWN_DIFFERENCES, not in numbers
    // only) differs in its sections too, for the same reason.
    const structure = KNOWN_DIFFERENCES.find((difference) => !difference.numbersOnly && difference.paths.includes(path));
    if (structure) {
      expect(differing.length, `its structure differs: ${structure.why}`).toBeGreaterThan(0);
      return;
    }
    const details = differing
      .filter((section) => !dovecotAddsBoundaryCrlf(answer(mine, section), answer(theirs, section)))
      .map((section) => `BODY[${section}]: ours ${JSON.stringify(answer(mine, section).slice(0, 200))} dovecot ${JSON.stringify(answer(theirs, section).slice(0, 200))}`);
    expect(details).toEqual([]);
  });
});
