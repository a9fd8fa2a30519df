// SEARCH, SORT and THREAD against the real server: every search key over a
// hand-made mailbox, BODY and TEXT answers from the full-text index against
// a linear scan of the fixture corpus, SORT and THREAD against hand-checked
// answers, and (when Dovecot is installed) against Dovecot's answers.
import { readdirSync, utimesSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Mailbox } from "../../native-host/mail/mailbox";
import { SearchIndex } from "../../native-host/mail/search-index";
import { type SearchField, type SearchableText, searchableText } from "../../native-host/mail/searchable-text";
import { textContains } from "../helpers/search-reference";
import { corpusEntries, readCorpusMessage } from "../helpers/corpus";
import { requireDovecotOrSkipReason, startDovecot } from "../helpers/dovecot";
import { ADDRESS, startImap } from "../helpers/imap-server";
import { messageWithAttachment } from "../helpers/messages";
import { RawImap } from "../helpers/raw-imap";

type Imap = Awaited<ReturnType<typeof startImap>>;

let imap: Imap;
let raw: RawImap;
let tagCounter = 0;

beforeAll(async () => {
  imap = await startImap();
  raw = await RawImap.connect(imap.port);
  await command(`LOGIN ${ADDRESS} ${imap.token}`);
});

afterAll(async () => {
  raw?.close();
  await imap?.stop();
});

/** Runs a command; returns its untagged lines and its tagged status line (without the tag). */
async function command(text: string): Promise<{ untagged: string[]; status: string }> {
  const tag = `t${++tagCounter}`;
  const response = await raw.command(tag, text);
  const lines = response.split("\r\n").filter((line) => line !== "");
  const status = lines.pop()!;
  expect(status.startsWith(`${tag} `), status).toBe(true);
  return { untagged: lines.map((line) => line.replace(/^\* /, "")), status: status.slice(tag.length + 1) };
}

/** The numbers of a `* SEARCH` / `* SORT` answer, in order, checking the command succeeded. */
async function numbers(text: string, response = text.replace(/^UID /, "").split(" ")[0]!): Promise<number[]> {
  const { untagged, status } = await command(text);
  expect(status, text).toMatch(/^OK /);
  const line = untagged.find((candidate) => candidate === response || candidate.startsWith(`${response} `));
  expect(line, `${text}: ${untagged.join(" | ")}`).toBeDefined();
  return line!.slice(response.length).trim().split(" ").filter(Boolean).map(Number);
}

/** A string argument as a LITERAL+ literal, for any text. */
const literal = (text: string) => `{${Buffer.byteLength(text)}+}\r\n${text}`;

function message(headers: Record<string, string>, body: string): Buffer {
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  return Buffer.from(`${head}\r\n${body}`, "utf8");
}

/** A fresh mailbox whose UIDs start at 2 (one message added and expunged
 * first), so that answers by UID and by sequence number differ. */
function mailboxWithGap(name: string): Mailbox {
  const mailbox = imap.account.createMailbox(name);
  const { uid } = mailbox.add(Buffer.from("Subject: placeholder\r\n\r\nx\r\n"), { flags: ["\\Deleted"] });
  mailbox.expunge([uid]);
  return mailbox;
}

describe("SEARCH keys", () => {
  let highestModseq = 0;

  beforeAll(async () => {
    const box = mailboxWithGap("Keys");
    box.add(
      message(
        {
          From: "Alice <alice@example.org>",
          To: "bob@example.org",
          Cc: "carol@example.org",
          Subject: "Quarterly report",
          Date: "Mon, 02 Mar 2020 10:00:00 +0000",
          "X-Priority": "1",
        },
        "Numbers are up.\r\n",
      ),
      { flags: ["\\Seen", "\\Answered"], internalDate: new Date("2020-03-02T10:00:00Z") },
    );
    box.add(
      message(
        {
          From: "=?UTF-8?Q?J=C3=BCrgen?= <juergen@example.de>",
          To: "alice@example.org",
          Bcc: "secret@example.org",
          Subject: "=?UTF-8?B?R3LDvMOfZQ==?=",
          // Written on 3 March, 4 March in UTC: SENTON goes by the date as written.
          Date: "Tue, 03 Mar 2020 23:30:00 -0800",
          "Content-Type": "text/plain; charset=utf-8",
          "Content-Transfer-Encoding": "quoted-printable",
        },
        "Sch=C3=B6ne Gr=C3=BC=C3=9Fe\r\n",
      ),
      { flags: ["\\Flagged", "$Work"], internalDate: new Date("2020-03-04T08:00:00Z") },
    );
    box.add(
      message({ From: "carol@example.org", To: "bob@example.org", Subject: "Re: Quarterly report" }, "lorem ipsum ".repeat(250)),
      { flags: ["\\Deleted", "\\Draft"], internalDate: new Date("2020-03-05T00:00:00Z") },
    );
    box.add(messageWithAttachment(4, Buffer.from("secret binary content")), { internalDate: new Date("2021-01-01T12:00:00Z") });
    await command("SELECT Keys");
    // A flag change gives message 2 the highest mod-sequence.
    await command("STORE 2 +FLAGS (\\Answered)");
    highestModseq = box.highestModseq;
  });

  it("answers every RFC 3501 key", async () => {
    const cases: [string, number[]][] = [
      ["ALL", [1, 2, 3, 4]],
      ["ANSWERED", [1, 2]],
      ["UNANSWERED", [3, 4]],
      ["DELETED", [3]],
      ["UNDELETED", [1, 2, 4]],
      ["DRAFT", [3]],
      ["UNDRAFT", [1, 2, 4]],
      ["FLAGGED", [2]],
      ["UNFLAGGED", [1, 3, 4]],
      ["SEEN", [1]],
      ["UNSEEN", [2, 3, 4]],
      ["KEYWORD $Work", [2]],
      ["UNKEYWORD $Work", [1, 3, 4]],
      ["RECENT", [1, 2, 3, 4]],
      ["NEW", [2, 3, 4]],
      ["OLD", []],
      ["BCC secret", [2]],
      ["CC CAROL", [1]],
      [`FROM ${literal("jürgen")}`, [2]],
      ["FROM alice", [1]],
      ["FROM example.org", [1, 3, 4]],
      ["TO bob", [1, 3]],
      ["SUBJECT quarterly", [1, 3]],
      // Case folding beyond ASCII: "ß" matches "SS".
      [`SUBJECT ${literal("GRÜSSE")}`, [2]],
      ["HEADER X-Priority \"\"", [1]],
      ["HEADER x-priority 1", [1]],
      ["HEADER X-Priority 2", []],
      ["HEADER Content-Transfer-Encoding \"\"", [2]],
      [`BODY ${literal("schöne")}`, [2]],
      ["BODY LOREM", [3]],
      ["BODY quarterly", []],
      ["TEXT quarterly", [1, 3]],
      ["TEXT \"see attached\"", [4]],
      ["BODY \"secret binary\"", []],
      ["LARGER 2000", [3]],
      ["SMALLER 2000", [1, 2, 4]],
      ["BEFORE 4-Mar-2020", [1]],
      ["ON 4-Mar-2020", [2]],
      ["SINCE 5-Mar-2020", [3, 4]],
      ["SENTBEFORE 3-Mar-2020", [1]],
      ["SENTON 3-Mar-2020", [2]],
      ["SENTSINCE 3-Mar-2020", [2]],
      ["2,4", [2, 4]],
      ["3:*", [3, 4]],
      ["*", [4]],
      ["UID 3:4", [2, 3]],
      ["UID 5:*", [4]],
      ["NOT SEEN", [2, 3, 4]],
      ["OR SEEN FLAGGED", [1, 2]],
      ["OR (SEEN ANSWERED) DELETED", [1, 3]],
      ["NOT (OR SEEN FLAGGED)", [3, 4]],
      ["CHARSET UTF-8 FROM alice", [1]],
      ["CHARSET US-ASCII UNSEEN TEXT lorem", [3]],
    ];
    for (const [criteria, expected] of cases) {
      expect(await numbers(`SEARCH ${criteria}`), criteria).toEqual(expected);
      // UIDs are sequence numbers + 1 here (UID 1 was expunged).
      expect(await numbers(`UID SEARCH ${criteria}`), `UID ${criteria}`).toEqual(expected.map((n) => n + 1));
    }
  });

  it("refuses other charsets with BADCHARSET and bad syntax with BAD", async () => {
    expect((await command("SEARCH CHARSET ISO-8859-1 ALL")).status).toMatch(/^NO \[BADCHARSET \(UTF-8 US-ASCII\)\]/);
    expect((await command("SEARCH FROM")).status).toMatch(/^BAD /);
    expect((await command("SEARCH BEFORE yesterday")).status).toMatch(/^BAD /);
  });

  it("answers MODSEQ with the highest mod-sequence (RFC 7162)", async () => {
    const { untagged } = await command(`SEARCH MODSEQ ${highestModseq}`);
    expect(untagged).toContain(`SEARCH 2 (MODSEQ ${highestModseq})`);
    expect((await command(`SEARCH MODSEQ "/flags/\\\\answered" all ${highestModseq + 1}`)).untagged).toContain("SEARCH");
  });

  it("answers ESEARCH when RETURN is given (RFC 4731)", async () => {
    const tag = `t${tagCounter + 1}`;
    expect((await command("UID SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN")).untagged).toContain(
      `ESEARCH (TAG "${tag}") UID MIN 3 MAX 5 ALL 3:5 COUNT 3`,
    );
    expect((await command("SEARCH RETURN () OR SEEN DELETED")).untagged).toContain(`ESEARCH (TAG "t${tagCounter}") ALL 1,3`);
    expect((await command("SEARCH RETURN (MIN MAX COUNT) KEYWORD none")).untagged).toContain(`ESEARCH (TAG "t${tagCounter}") COUNT 0`);
    expect((await command(`SEARCH RETURN (MAX) MODSEQ 1`)).untagged).toContain(
      `ESEARCH (TAG "t${tagCounter}") MAX 4 MODSEQ ${imap.account.requireMailbox("Keys").get(5)!.modseq}`,
    );
  });

  it("works through imapflow", async () => {
    const client = await imap.client();
    const lock = await client.getMailboxLock("Keys", { readOnly: true });
    try {
      expect(await client.search({ seen: false, deleted: false })).toEqual([2, 4]);
      expect(await client.search({ body: "schöne" }, { uid: true })).toEqual([3]);
      expect(await client.search({ or: [{ from: "alice" }, { header: { "x-priority": "1" } }] })).toEqual([1]);
    } finally {
      lock.release();
    }
  });
});

// ---------------------------------------------------------------------------

/** A small deterministic PRNG (mulberry32), so failures can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Up to `length` characters of `text` from `start`, never splitting a surrogate pair. */
function substringAt(text: string, start: number, length: number): string {
  const from = start > 0 && /[\uDC00-\uDFFF]/.test(text[start]!) ? start - 1 : start;
  return Array.from(text.slice(from, from + 2 * length))
    .slice(0, length)
    .join("");
}

describe("BODY and TEXT: the full-text index equals a linear scan", () => {
  let corpus: Mailbox;
  const texts = new Map<number, SearchableText>();
  const needles: string[] = [];

  const linear = (field: SearchField, needle: string) =>
    new Set([...texts].filter(([, text]) => textContains(text, field, needle)).map(([uid]) => uid));

  beforeAll(() => {
    corpus = imap.account.createMailbox("Corpus");
    for (const entry of corpusEntries()) corpus.add(readCorpusMessage(entry));
    for (const message of corpus.range(1, corpus.uidNext)) {
      texts.set(message.uid, searchableText(message.mime(), (hash) => message.leaf(hash)));
    }
    const next = random(5256);
    const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
    const all = [...texts.values()].flatMap((text) => [text.header, text.body]).filter((text) => text.length > 0);
    const caseVariants = [(s: string) => s, (s: string) => s.toUpperCase(), (s: string) => s.toLowerCase()];
    // Substrings of the decoded text, of every length, in any case.
    for (let i = 0; i < 240; i++) {
      const text = pick(all);
      needles.push(pick(caseVariants)(substringAt(text, Math.floor(next() * text.length), 1 + Math.floor(next() * 14))));
    }
    // Around non-ASCII characters.
    const nonAscii = all.flatMap((text) => [...text.matchAll(/[^\x00-\x7f]/g)].slice(0, 3).map((match) => ({ text, at: match.index })));
    for (let i = 0; i < 80; i++) {
      const { text, at } = pick(nonAscii);
      needles.push(pick(caseVariants)(substringAt(text, Math.max(0, at - Math.floor(next() * 4)), 1 + Math.floor(next() * 8))));
    }
    needles.push("", "e", "ß", "SS", "\u00e9", "ΣΊΣ", "zzzz-not-there", "x\u{1F600}", "=?utf-8?", "--", "%", "_", '"');
  });

  it("for each needle, through the mail API", () => {
    expect(needles.length).toBeGreaterThan(300);
    for (const needle of needles) {
      for (const field of ["body", "text"] as const) {
        expect(corpus.searchText(field, needle), `${field} ${JSON.stringify(needle)}`).toEqual(linear(field, needle));
      }
    }
  });

  it("for each needle, through IMAP", async () => {
    await command("EXAMINE Corpus");
    // Literals may not hold NUL, CR or LF (RFC 3501 CHAR8, and our reader's lines).
    const sendable = needles.filter((needle) => !/[\0\r\n]/.test(needle)).slice(0, 120);
    for (const needle of sendable) {
      for (const field of ["BODY", "TEXT"] as const) {
        const expected = [...linear(field === "BODY" ? "body" : "text", needle)].sort((a, b) => a - b);
        expect(await numbers(`UID SEARCH CHARSET UTF-8 ${field} ${literal(needle)}`, "SEARCH"), `${field} ${JSON.stringify(needle)}`).toEqual(expected);
      }
    }
  });

  it("gives the same answers after a rebuild", () => {
    SearchIndex.of(imap.store).rebuild();
    for (const needle of needles.slice(0, 60)) expect(corpus.searchText("text", needle)).toEqual(linear("text", needle));
  });

  it("indexes new messages and forgets content no message refers to", () => {
    const entries = () => (imap.store.sql.prepare("SELECT count(*) AS n FROM search_messages").get() as { n: number }).n;
    const hashes = () => (imap.store.sql.prepare("SELECT count(DISTINCT msg_hash) AS n FROM mail_messages").get() as { n: number }).n;
    const box = imap.account.createMailbox("Fresh");
    const { uid } = box.add(message({ Subject: "fresh" }, "a quite unusual phrase\r\n"));
    expect(entries()).toBe(hashes());
    expect(box.searchText("body", "unusual PHRASE")).toEqual(new Set([uid]));
    // The same content in a second mailbox shares the entry.
    const copy = box.copy([uid], corpus)[0]!.to;
    expect(corpus.searchText("body", "unusual phrase")).toEqual(new Set([copy]));
    box.remove(uid);
    expect(entries()).toBe(hashes());
    expect(corpus.searchText("body", "unusual phrase")).toEqual(new Set([copy]));
    corpus.remove(copy);
    expect(entries()).toBe(hashes());
    expect(corpus.searchText("body", "unusual phrase")).toEqual(new Set());
  });
});

// ---------------------------------------------------------------------------

const SORT_MESSAGES: { headers: Record<string, string>; bodySize: number; internalDate: string }[] = [
  {
    headers: { From: '"Zed" <zed@x.org>', To: "b@x.org", Subject: "Re: beta", Date: "Tue, 02 Jan 2024 10:00:00 +0000" },
    bodySize: 4000,
    internalDate: "2024-01-05T00:00:00Z",
  },
  {
    headers: { From: "adam@x.org", To: "Carl <carl@x.org>", Cc: "dora@x.org", Subject: "alpha", Date: "Mon, 01 Jan 2024 10:00:00 +0000" },
    bodySize: 1000,
    internalDate: "2024-01-04T00:00:00Z",
  },
  {
    // No Date: DATE falls back to the internal date, the earliest here.
    headers: { From: "=?UTF-8?Q?M=C3=BCller?= <mueller@x.org>", To: "ann@x.org", Subject: "[list] Fwd: Alpha" },
    bodySize: 6000,
    internalDate: "2024-01-01T00:00:00Z",
  },
  {
    headers: { From: "BETTY <betty@x.org>", To: '"A" <zoe@x.org>', Cc: "anna@x.org", Subject: "Gamma (fwd)", Date: "Wed, 03 Jan 2024 09:00:00 -0500" },
    bodySize: 2000,
    internalDate: "2024-01-02T00:00:00Z",
  },
  {
    headers: { From: "adam@x.org", To: "alice@x.org", Subject: "beta", Date: "Tue, 02 Jan 2024 10:00:00 +0000" },
    bodySize: 5000,
    internalDate: "2024-01-03T00:00:00Z",
  },
  {
    headers: { Date: "Tue, 02 Jan 2024 09:59:59 +0000" },
    bodySize: 3000,
    internalDate: "2024-01-06T00:00:00Z",
  },
];

/** Hand-checked: sequence numbers for each criteria list (UIDs are one more). */
const SORT_EXPECTATIONS: [string, number[]][] = [
  ["ARRIVAL", [3, 4, 5, 2, 1, 6]],
  ["REVERSE ARRIVAL", [6, 1, 2, 5, 4, 3]],
  ["DATE", [3, 2, 6, 1, 5, 4]],
  ["REVERSE DATE", [4, 1, 5, 6, 2, 3]],
  ["FROM", [6, 2, 5, 4, 3, 1]],
  ["FROM DATE", [6, 2, 5, 4, 3, 1]],
  ["FROM REVERSE DATE", [6, 5, 2, 4, 3, 1]],
  ["SUBJECT", [6, 2, 3, 1, 5, 4]],
  ["REVERSE SUBJECT", [4, 1, 5, 2, 3, 6]],
  ["SUBJECT REVERSE ARRIVAL", [6, 2, 3, 1, 5, 4]],
  ["TO", [6, 5, 3, 1, 2, 4]],
  ["CC", [1, 3, 5, 6, 4, 2]],
  ["SIZE", [2, 4, 6, 1, 5, 3]],
  ["REVERSE SIZE", [3, 5, 1, 6, 4, 2]],
];

describe("SORT (RFC 5256)", () => {
  beforeAll(async () => {
    const box = mailboxWithGap("Sorting");
    for (const { headers, bodySize, internalDate } of SORT_MESSAGES) {
      box.add(message(headers, "x".repeat(bodySize) + "\r\n"), { internalDate: new Date(internalDate) });
    }
    await command("EXAMINE Sorting");
  });

  it("orders by each key as hand-checked", async () => {
    for (const [criteria, expected] of SORT_EXPECTATIONS) {
      expect(await numbers(`SORT (${criteria}) UTF-8 ALL`), criteria).toEqual(expected);
      expect(await numbers(`UID SORT (${criteria}) UTF-8 ALL`), `UID ${criteria}`).toEqual(expected.map((n) => n + 1));
    }
  });

  it("sorts only what the search criteria match", async () => {
    expect(await numbers("SORT (SUBJECT) UTF-8 FROM adam")).toEqual([2, 5]);
    expect(await numbers("SORT (DATE) US-ASCII NOT 1:2")).toEqual([3, 6, 5, 4]);
    expect(await numbers("SORT (SIZE) UTF-8 KEYWORD none")).toEqual([]);
  });

  it("refuses bad criteria", async () => {
    expect((await command("SORT () UTF-8 ALL")).status).toMatch(/^BAD /);
    expect((await command("SORT (REVERSE) UTF-8 ALL")).status).toMatch(/^BAD /);
    expect((await command("SORT (WEIGHT) UTF-8 ALL")).status).toMatch(/^BAD /);
    expect((await command("SORT (DATE) ALL")).status).toMatch(/^(BAD|NO) /);
    expect((await command("SORT (DATE) KOI8-R ALL")).status).toMatch(/^NO \[BADCHARSET/);
  });
});

const THREAD_MESSAGES: Record<string, string>[] = [
  { "Message-ID": "<1@x>", Subject: "Plan", Date: "Mon, 01 Jan 2024 10:00:00 +0000" },
  { "Message-ID": "<2@x>", References: "<1@x>", Subject: "Re: Plan", Date: "Tue, 02 Jan 2024 10:00:00 +0000" },
  { "Message-ID": "<3@x>", "In-Reply-To": "<2@x> (sent by b)", Subject: "Re: Plan", Date: "Thu, 04 Jan 2024 10:00:00 +0000" },
  { "Message-ID": "<4@x>", References: "<1@x>", Subject: "Re: Plan", Date: "Wed, 03 Jan 2024 10:00:00 +0000" },
  { "Message-ID": "<5@x>", Subject: "Other", Date: "Fri, 05 Jan 2024 10:00:00 +0000" },
  // Both refer to a message not in the mailbox: a dummy parent holds them.
  { "Message-ID": "<6@x>", References: "<missing@x>", Subject: "Re: Lost", Date: "Sat, 06 Jan 2024 10:00:00 +0000" },
  { "Message-ID": "<7@x>", References: "<missing@x>", Subject: "Re: Lost", Date: "Sun, 07 Jan 2024 10:00:00 +0000" },
  // Same subject as 5, not a reply: both go under a new dummy, and so does the reply 9.
  { "Message-ID": "<8@x>", Subject: "Other", Date: "Mon, 08 Jan 2024 10:00:00 +0000" },
  { "Message-ID": "<9@x>", Subject: "Re: Other", Date: "Tue, 09 Jan 2024 10:00:00 +0000" },
  // A forward without references joins the thread of its subject.
  { "Message-ID": "<10@x>", Subject: "Fwd: Plan", Date: "Wed, 10 Jan 2024 10:00:00 +0000" },
  // A duplicate Message-ID makes the message unique; a self reference is a loop and ignored.
  { "Message-ID": "<1@x>", Subject: "Dup", Date: "Thu, 11 Jan 2024 10:00:00 +0000" },
  { "Message-ID": "<12@x>", References: "<12@x>", Subject: "Self", Date: "Fri, 12 Jan 2024 10:00:00 +0000" },
];

describe("THREAD (RFC 5256)", () => {
  beforeAll(async () => {
    const box = mailboxWithGap("Threads");
    for (const headers of THREAD_MESSAGES) box.add(message(headers, "body\r\n"));
    await command("EXAMINE Threads");
  });

  it("REFERENCES threads by references, then by subject", async () => {
    const expected = "THREAD (1 (2 3)(4)(10))((5)(8)(9))((6)(7))(11)(12)";
    expect((await command("THREAD REFERENCES UTF-8 ALL")).untagged).toContain(expected);
    expect((await command("UID THREAD REFERENCES UTF-8 ALL")).untagged).toContain(expected.replace(/\d+/g, (n) => String(Number(n) + 1)));
    expect((await command("THREAD REFERENCES UTF-8 1:4")).untagged).toContain("THREAD (1 (2 3)(4))");
    expect((await command("THREAD REFERENCES UTF-8 KEYWORD none")).untagged).toContain("THREAD");
  });

  it("ORDEREDSUBJECT groups by base subject", async () => {
    expect((await command("THREAD ORDEREDSUBJECT UTF-8 ALL")).untagged).toContain("THREAD (1 (2)(4)(3)(10))(5 (8)(9))(6 7)(11)(12)");
  });

  it("refuses unknown algorithms", async () => {
    expect((await command("THREAD REFS UTF-8 ALL")).status).toMatch(/^BAD /);
  });
});

// ---------------------------------------------------------------------------

const dovecotSkip = requireDovecotOrSkipReason();

/** Corpus messages where our SORT and THREAD keys differ from Dovecot's, and why. */
const DOVECOT_DIFFERENCES: { path: string; why: string }[] = [
  ...[
    "generated/charset-big5.eml",
    "generated/charset-euc-jp.eml",
    "generated/charset-gb2312.eml",
    "generated/charset-koi8-r-lf.eml",
    "generated/charset-koi8-r-raw.eml",
    "generated/charset-shift-jis.eml",
    "generated/charset-windows-1252-raw.eml",
    "real/flufl.bounce/sina_01.txt",
  ].map((path) => ({
    path,
    why:
      "A Subject in raw 8-bit bytes that are not UTF-8 (no RFC says how to read them): we read windows-1252, " +
      "Dovecot orders these subjects otherwise.",
  })),
  {
    path: "real/flufl.bounce/smtp32_01.txt",
    why:
      "'Date: Mon,  2 Apr 101 04:20:10 CST': RFC 5322 4.3 reads a three-digit year as 1900 + year (2001); " +
      "Dovecot finds no date and uses the internal date.",
  },
  {
    path: "generated/rfc2047-malformed.eml",
    why:
      "'=?utf-8?B?not base64!!?=' has blanks inside, so it is not an encoded word (RFC 2047 2) and stays as written; " +
      "Dovecot decodes it anyway.",
  },
  {
    path: "generated/rfc2047-language-and-case.eml",
    why:
      "'=?utf-8*en?q?Hello_World?=': RFC 2231 5 allows a language after '*' in an encoded word's charset; " +
      "we decode it as UTF-8 ('Hello World...'), Dovecot does not (it sorts the subject after 'Here').",
  },
];

describe.skipIf(dovecotSkip !== null)("SORT and THREAD agree with Dovecot", () => {
  const crlf = (bytes: Buffer) => Buffer.from(bytes.toString("latin1").replace(/(?<!\r)\n/g, "\r\n"), "latin1");
  const corpus = corpusEntries().filter((entry) => !DOVECOT_DIFFERENCES.some((difference) => difference.path === entry.path));
  // Once each: our mailboxes store the same bytes only once.
  const messages = [
    ...new Map(
      [
        ...SORT_MESSAGES.map(({ headers, bodySize }) => message(headers, "x".repeat(bodySize) + "\r\n")),
        ...THREAD_MESSAGES.map((headers) => message(headers, "body\r\n")),
        ...corpus.map((entry) => crlf(readCorpusMessage(entry))),
      ].map((raw) => [raw.toString("latin1"), raw]),
    ).values(),
  ];
  const internalDate = (index: number) => new Date(Date.UTC(2023, 0, 1) + index * 3_600_000);
  let dovecot: Awaited<ReturnType<typeof startDovecot>>;
  let session: Awaited<ReturnType<Awaited<ReturnType<typeof startDovecot>>["openSession"]>>;

  beforeAll(async () => {
    dovecot = await startDovecot();
    dovecot.loadMessages("INBOX", messages);
    // Dovecot's internal date of a Maildir message is its file's time.
    const cur = path.join(dovecot.maildir, "cur");
    readdirSync(cur)
      .sort()
      .forEach((file, index) => utimesSync(path.join(cur, file), internalDate(index), internalDate(index)));
    session = await dovecot.openSession();
    await session.command("EXAMINE INBOX");
    const box = imap.account.createMailbox("Reference");
    messages.forEach((raw, index) => box.add(raw, { internalDate: internalDate(index) }));
    await command("EXAMINE Reference");
  });

  afterAll(async () => {
    session?.close();
    await dovecot?.stop();
  });

  const reference = async (text: string) => (await session.command(text)).map((line) => line.toString("utf8").replace(/^\* /, ""));

  it.each(["ARRIVAL", "DATE", "FROM", "TO", "CC", "SIZE", "SUBJECT", "REVERSE DATE", "SUBJECT DATE"])("SORT (%s)", async (criteria) => {
    const expected = (await reference(`SORT (${criteria}) UTF-8 ALL`)).find((line) => line.startsWith("SORT"));
    expect((await command(`SORT (${criteria}) UTF-8 ALL`)).untagged).toContain(expected);
  });

  it.each(["REFERENCES", "ORDEREDSUBJECT"])("THREAD %s", async (algorithm) => {
    const expected = (await reference(`THREAD ${algorithm} UTF-8 ALL`)).find((line) => line.startsWith("THREAD"));
    expect((await command(`THREAD ${algorithm} UTF-8 ALL`)).untagged).toContain(expected);
  });
});
