// SEARCH criteria parsing (RFC 3501 6.4.4, RFC 4731 RETURN, RFC 7162 MODSEQ)
// and the field readers SEARCH, SORT and THREAD share: base subject (RFC
// 5256 2.1), RFC 5322 dates, and the decoded searchable text.
import { describe, expect, it } from "vitest";
import { splitMessage } from "../../native-host/mail/mime-split";
import { decodeHeaderValue, foldCase, searchableText } from "../../native-host/mail/searchable-text";
import { textContains } from "../helpers/search-reference";
import { CommandFailure } from "../../native-host/imap/command";
import { parseCommand } from "../../native-host/imap/protocol/command-parser";
import { SEQUENCE_STAR } from "../../native-host/imap/protocol/sequence-set";
import { type ImapToken, ParseError } from "../../native-host/imap/protocol/types";
import { extractBaseSubject, parseMessageDate } from "../../native-host/imap/search/message-fields";
import {
  type SearchKey,
  parseCharsetAndCriteria,
  parseSearchProgram,
  usesModseq,
} from "../../native-host/imap/search/search-keys";

/** The argument tokens of `t SEARCH <text>`, literals given separately. */
function tokens(text: string, literals: string[] = []): ImapToken[] {
  const lines = `t SEARCH ${text}`.split(/(?<=\{\d+\+?\})/).map((line) => Buffer.from(line));
  if (lines.length === literals.length) lines.push(Buffer.alloc(0));
  const parsed = parseCommand({
    lines,
    literals: literals.map((literal) => ({ data: Buffer.from(literal), binary: false, nonSynchronizing: true })),
    byteLength: 0,
  });
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.command.args;
}

const keyOf = (text: string, literals?: string[]) => parseSearchProgram(tokens(text, literals)).key;
const day = (text: string) => new Date(`${text}T00:00:00Z`);

describe("SEARCH keys", () => {
  it("parses every RFC 3501 key", () => {
    const cases: [string, SearchKey][] = [
      ["ALL", { type: "all" }],
      ["ANSWERED", { type: "flag", flag: "\\Answered", present: true }],
      ["BCC bob", { type: "header", field: "Bcc", value: "bob" }],
      ["BEFORE 1-Feb-1994", { type: "date", source: "internal", comparison: "before", day: day("1994-02-01") }],
      ["BODY \"two words\"", { type: "text", field: "body", value: "two words" }],
      ["CC carol", { type: "header", field: "Cc", value: "carol" }],
      ["DELETED", { type: "flag", flag: "\\Deleted", present: true }],
      ["DRAFT", { type: "flag", flag: "\\Draft", present: true }],
      ["FLAGGED", { type: "flag", flag: "\\Flagged", present: true }],
      ["FROM alice", { type: "header", field: "From", value: "alice" }],
      ["HEADER X-Mailer \"\"", { type: "header", field: "X-Mailer", value: "" }],
      ["KEYWORD $Junk", { type: "flag", flag: "$Junk", present: true }],
      ["LARGER 1000", { type: "size", comparison: "larger", size: 1000 }],
      ["NEW", { type: "and", keys: [{ type: "recent" }, { type: "flag", flag: "\\Seen", present: false }] }],
      ["NOT SEEN", { type: "not", key: { type: "flag", flag: "\\Seen", present: true } }],
      ["OLD", { type: "not", key: { type: "recent" } }],
      ["ON 5-Mar-2020", { type: "date", source: "internal", comparison: "on", day: day("2020-03-05") }],
      [
        "OR SEEN FLAGGED",
        { type: "or", left: { type: "flag", flag: "\\Seen", present: true }, right: { type: "flag", flag: "\\Flagged", present: true } },
      ],
      ["RECENT", { type: "recent" }],
      ["SEEN", { type: "flag", flag: "\\Seen", present: true }],
      ["SENTBEFORE 1-Jan-2000", { type: "date", source: "sent", comparison: "before", day: day("2000-01-01") }],
      ["SENTON \"12-Dec-2012\"", { type: "date", source: "sent", comparison: "on", day: day("2012-12-12") }],
      ["SENTSINCE 31-Dec-1999", { type: "date", source: "sent", comparison: "since", day: day("1999-12-31") }],
      ["SINCE 1-jan-2021", { type: "date", source: "internal", comparison: "since", day: day("2021-01-01") }],
      ["SMALLER 10", { type: "size", comparison: "smaller", size: 10 }],
      ["SUBJECT hello", { type: "header", field: "Subject", value: "hello" }],
      ["TEXT needle", { type: "text", field: "text", value: "needle" }],
      ["TO dave", { type: "header", field: "To", value: "dave" }],
      ["UID 1:*", { type: "sequence", set: [[1, SEQUENCE_STAR]], uid: true }],
      ["UID 7", { type: "sequence", set: [[7, 7]], uid: true }],
      ["UNANSWERED", { type: "flag", flag: "\\Answered", present: false }],
      ["UNDELETED", { type: "flag", flag: "\\Deleted", present: false }],
      ["UNDRAFT", { type: "flag", flag: "\\Draft", present: false }],
      ["UNFLAGGED", { type: "flag", flag: "\\Flagged", present: false }],
      ["UNKEYWORD work", { type: "flag", flag: "work", present: false }],
      ["UNSEEN", { type: "flag", flag: "\\Seen", present: false }],
      ["2,4:6", { type: "sequence", set: [[2, 2], [4, 6]], uid: false }],
      ["5", { type: "sequence", set: [[5, 5]], uid: false }],
      ["*", { type: "sequence", set: [[SEQUENCE_STAR, SEQUENCE_STAR]], uid: false }],
    ];
    for (const [text, expected] of cases) expect(keyOf(text), text).toEqual(expected);
  });

  it("keys are case-insensitive; several keys and groups mean AND", () => {
    expect(keyOf("unseen From x")).toEqual({
      type: "and",
      keys: [
        { type: "flag", flag: "\\Seen", present: false },
        { type: "header", field: "From", value: "x" },
      ],
    });
    expect(keyOf("OR (SEEN FLAGGED) NOT (DELETED)")).toEqual({
      type: "or",
      left: {
        type: "and",
        keys: [
          { type: "flag", flag: "\\Seen", present: true },
          { type: "flag", flag: "\\Flagged", present: true },
        ],
      },
      right: { type: "not", key: { type: "flag", flag: "\\Deleted", present: true } },
    });
    expect(keyOf("NOT NOT OR OR ALL ALL ALL")).toEqual({
      type: "not",
      key: { type: "not", key: { type: "or", left: { type: "or", left: { type: "all" }, right: { type: "all" } }, right: { type: "all" } } },
    });
  });

  it("reads strings as atoms, quoted strings and literals", () => {
    expect(keyOf("SUBJECT {7+}", ["Grüße"])).toEqual({ type: "header", field: "Subject", value: "Grüße" });
    expect(keyOf('BODY "say \\"hi\\""')).toEqual({ type: "text", field: "body", value: 'say "hi"' });
    expect(keyOf("HEADER {8+} {0+}", ["X-Custom", ""])).toEqual({ type: "header", field: "X-Custom", value: "" });
  });

  it("accepts CHARSET UTF-8 and US-ASCII, refuses others with BADCHARSET", () => {
    expect(keyOf("CHARSET UTF-8 ALL")).toEqual({ type: "all" });
    expect(keyOf("charset us-ascii SEEN")).toEqual({ type: "flag", flag: "\\Seen", present: true });
    const refused = (() => {
      try {
        keyOf("CHARSET ISO-8859-1 ALL");
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(CommandFailure);
    expect((refused as CommandFailure).code).toBe("BADCHARSET (UTF-8 US-ASCII)");
  });

  it("reads ESEARCH RETURN options (RFC 4731)", () => {
    expect(parseSearchProgram(tokens("RETURN (MIN max COUNT) ALL")).returnOptions).toEqual(new Set(["MIN", "MAX", "COUNT"]));
    expect(parseSearchProgram(tokens("RETURN () ALL")).returnOptions).toEqual(new Set(["ALL"]));
    expect(parseSearchProgram(tokens("RETURN (COUNT) CHARSET UTF-8 SEEN"))).toEqual({
      key: { type: "flag", flag: "\\Seen", present: true },
      returnOptions: new Set(["COUNT"]),
    });
    expect(parseSearchProgram(tokens("ALL")).returnOptions).toBeUndefined();
    expect(() => parseSearchProgram(tokens("RETURN (SAVE) ALL"))).toThrow(ParseError);
  });

  it("reads MODSEQ with and without an entry (RFC 7162)", () => {
    expect(keyOf("MODSEQ 620162338")).toEqual({ type: "modseq", modseq: 620162338 });
    expect(keyOf('MODSEQ "/flags/\\\\draft" all 620162338')).toEqual({ type: "modseq", modseq: 620162338 });
    expect(usesModseq(keyOf("OR SEEN NOT MODSEQ 5"))).toBe(true);
    expect(usesModseq(keyOf("OR SEEN NOT DELETED"))).toBe(false);
    expect(() => keyOf('MODSEQ "/flags/\\\\draft" nobody 5')).toThrow(ParseError);
  });

  it("rejects malformed criteria as BAD", () => {
    for (const text of [
      "",
      "FROM",
      "NOSUCHKEY",
      "BEFORE 31-Foo-2020",
      "BEFORE 2020-01-01",
      "LARGER x",
      "OR SEEN",
      "NOT",
      "UID",
      "UID 0:4",
      "()",
      "1:x",
      "CHARSET",
    ]) {
      expect(() => keyOf(text), text).toThrow(ParseError);
    }
  });

  it("SORT and THREAD take the charset first, without the CHARSET keyword", () => {
    expect(parseCharsetAndCriteria(tokens("UTF-8 SEEN"))).toEqual({ type: "flag", flag: "\\Seen", present: true });
    expect(() => parseCharsetAndCriteria(tokens("KOI8-R ALL"))).toThrow(CommandFailure);
    expect(() => parseCharsetAndCriteria(tokens("UTF-8"))).toThrow(ParseError);
  });
});

describe("base subject (RFC 5256 2.1)", () => {
  it("removes reply and forward markers, blobs and trailers", () => {
    const cases: [string, string, boolean][] = [
      ["Hello world", "HELLO WORLD", false],
      ["Re: Hello", "HELLO", true],
      ["RE:re: Fwd:  Hello   there", "HELLO THERE", true],
      ["Fw: [list] Re: Hello", "HELLO", true],
      ["[list] Hello", "HELLO", false],
      ["[list]", "[LIST]", false],
      ["Re: [list]", "[LIST]", true],
      ["Hello (fwd) (FWD)", "HELLO", true],
      ["[Fwd: Re: Hello]", "HELLO", true],
      ["Re [x]: Hello", "HELLO", true],
      ["\tRe:\tHello\t", "HELLO", true],
      ["Reply: Hello", "REPLY: HELLO", false],
      ["", "", false],
      ["Grüße", "GRüßE", false],
    ];
    for (const [subject, base, isReplyOrForward] of cases) {
      expect(extractBaseSubject(subject), subject).toEqual({ key: base, isReplyOrForward });
    }
  });
});

describe("RFC 5322 dates", () => {
  it("reads the instant and the day as written", () => {
    expect(parseMessageDate("Mon, 23 Nov 2026 23:30:00 -0800")).toEqual({
      time: Date.UTC(2026, 10, 24, 7, 30),
      day: Date.UTC(2026, 10, 23),
    });
    expect(parseMessageDate("1 Jan 99 00:00 GMT")).toEqual({ time: Date.UTC(1999, 0, 1), day: Date.UTC(1999, 0, 1) });
    expect(parseMessageDate("Fri, 5 Mar 10 12:00:01 EST (comment)")?.time).toBe(Date.UTC(2010, 2, 5, 17, 0, 1));
    expect(parseMessageDate("Thu, 13 Feb 1969 23:32:54 -0330")?.time).toBe(Date.UTC(1969, 1, 14, 3, 2, 54));
    expect(parseMessageDate("not a date")).toBeUndefined();
    expect(parseMessageDate("31 Feb 2020 10:00:00 +0000")).toBeUndefined();
  });
});

describe("searchable text", () => {
  it("decodes RFC 2047 encoded words and raw 8-bit header text", () => {
    expect(decodeHeaderValue("=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>")).toBe("André Pirard <PIRARD@vm1.ulg.ac.be>");
    expect(decodeHeaderValue("=?UTF-8?B?R3LDvA==?=  =?UTF-8?B?w59l?=")).toBe("Grüße");
    // A character split across two words is joined before decoding.
    expect(decodeHeaderValue("=?UTF-8?Q?caf=C3?= =?UTF-8?Q?=A9_au_lait?=")).toBe("café au lait");
    expect(decodeHeaderValue("=?utf-8*en?q?a_b?= c")).toBe("a b c");
    expect(decodeHeaderValue(Buffer.from("Köln", "utf8").toString("latin1"))).toBe("Köln");
    expect(decodeHeaderValue(Buffer.from("Köln", "latin1").toString("latin1"))).toBe("Köln");
    expect(decodeHeaderValue("=?x-unknown?Q?plain?=")).toBe("plain");
  });

  it("decodes text parts and skips binary ones", () => {
    const raw = Buffer.from(
      "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
        "--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
        "Stra=DFe mit soft=\r\nbreak\r\n" +
        "--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
        Buffer.from("<p>Ærø</p>").toString("base64") +
        "\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
        Buffer.from("secret binary").toString("base64") +
        "\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n--b--\r\n",
      "latin1",
    );
    const split = splitMessage(raw);
    const text = searchableText(split.root, (hash) => split.leaves.get(hash));
    expect(text.complete).toBe(true);
    expect(text.header).toContain("Subject: Grüße");
    expect(text.body).toContain("Straße mit softbreak");
    expect(text.body).toContain("<p>Ærø</p>");
    expect(text.body).toContain("Subject: inner");
    expect(text.body).toContain("inner body");
    expect(text.body).not.toContain("secret");
    expect(textContains(text, "body", "STRASSE")).toBe(true);
    expect(textContains(text, "body", "grüsse")).toBe(false);
    expect(textContains(text, "text", "grüsse")).toBe(true);
    expect(foldCase("ΣΊΣΥΦΟΣ")).toBe(foldCase("σίσυφος"));

    const partial = searchableText(split.root, () => undefined);
    expect(partial.complete).toBe(false);
  });
});
