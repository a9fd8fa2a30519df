// ENVELOPE and BODYSTRUCTURE on hand-made messages: the cases the Dovecot
// reference test (tests/integration/dovecot-reference.test.ts) covers only
// by chance. Expected strings are what Dovecot 2.3 answers for the same bytes.
import { describe, expect, it } from "vitest";
import { bodyStructure } from "../../native-host/imap/fetch/body-structure";
import { envelope } from "../../native-host/imap/fetch/envelope";
import { encode } from "../../native-host/imap/response/encode";
import { splitMessage } from "../../native-host/mail/mime-split";

const root = (raw: string) => splitMessage(Buffer.from(raw, "latin1")).root;
const envelopeOf = (header: string) => encode(envelope(root(header + "\r\nbody\r\n")));
const structureOf = (raw: string, extensible = true) => encode(bodyStructure(root(raw), extensible));

describe("ENVELOPE", () => {
  it("is all NIL for a message without the fields", () => {
    expect(envelopeOf("X-Other: 1\r\n")).toBe("(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
  });

  it("gives Sender and Reply-To the From addresses when absent or empty", () => {
    expect(envelopeOf("From: a@b.example\r\nSender:\r\nTo: c@d.example\r\n")).toBe(
      '(NIL NIL ((NIL NIL "a" "b.example")) ((NIL NIL "a" "b.example")) ((NIL NIL "a" "b.example")) ' +
        '((NIL NIL "c" "d.example")) NIL NIL NIL NIL)',
    );
  });

  it("writes groups with start and end markers, and no spaces between addresses", () => {
    expect(envelopeOf("To: Friends: a@b.example, \"Q, R\" <q@r.example>;, z@y.example\r\n")).toBe(
      '(NIL NIL NIL NIL NIL ((NIL NIL "Friends" NIL)(NIL NIL "a" "b.example")("Q, R" NIL "q" "r.example")' +
        '(NIL NIL NIL NIL)(NIL NIL "z" "y.example")) NIL NIL NIL NIL)',
    );
    expect(envelopeOf("Cc: undisclosed-recipients:;\r\n")).toBe(
      '(NIL NIL NIL NIL NIL NIL ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL NIL NIL)',
    );
  });

  it("unquotes display names, takes a comment as the name, keeps routes", () => {
    const value = envelopeOf('From: "Doe, \\"J\\"" <j@x.example>, k@x.example (Kay), <@relay.example:m@x.example>\r\n');
    expect(value).toContain('{8}\r\nDoe, "J" NIL "j" "x.example")');
    expect(value).toContain('("Kay" NIL "k" "x.example")');
    expect(value).toContain('(NIL "@relay.example" "m" "x.example")');
  });

  it("fills in what a broken address lacks, so it cannot read as a group marker", () => {
    expect(envelopeOf("To: localuser, <>, Name <bad\r\n")).toBe(
      '(NIL NIL NIL NIL NIL ((NIL NIL "localuser" "MISSING_DOMAIN")' +
        '(NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN")("Name" NIL "bad" "SYNTAX_ERROR")) NIL NIL NIL NIL)',
    );
  });

  it("unfolds folded values and collapses blanks in the subject", () => {
    // Unfolding removes only the line break (RFC 5322 2.2.3): the blank that
    // began the continuation line stays part of the Message-ID value.
    expect(envelopeOf("Subject: a\r\n\tfolded   subject \r\nMessage-ID:\r\n <id@x.example>\r\n")).toBe(
      '(NIL {16}\r\na folded subject NIL NIL NIL NIL NIL NIL NIL " <id@x.example>")',
    );
  });

  it("sends 8-bit bytes as literals and leaves RFC 2047 words encoded", () => {
    expect(envelopeOf("Subject: Gr\xfc\xdfe =?utf-8?q?x?=\r\nFrom: J\xf6rg <j@x.example>\r\n")).toBe(
      '(NIL {19}\r\nGr\xfc\xdfe =?utf-8?q?x?= (({4}\r\nJ\xf6rg NIL "j" "x.example")) (({4}\r\nJ\xf6rg NIL "j" "x.example")) ' +
        '(({4}\r\nJ\xf6rg NIL "j" "x.example")) NIL NIL NIL NIL NIL)',
    );
  });

  it("keeps dates as written, however odd", () => {
    expect(envelopeOf("Date: 31 Feb 99 25:61 +9999 (nonsense)\r\n")).toBe(
      '("31 Feb 99 25:61 +9999 (nonsense)" NIL NIL NIL NIL NIL NIL NIL NIL NIL)',
    );
  });

  it("takes the last Subject but every From", () => {
    expect(envelopeOf("Subject: one\r\nSubject: two\r\nFrom: a@x.example\r\nFrom: b@x.example\r\n")).toContain(
      '"two" ((NIL NIL "a" "x.example")(NIL NIL "b" "x.example"))',
    );
  });
});

describe("BODYSTRUCTURE and BODY", () => {
  it("defaults a message without Content-Type to text/plain us-ascii 7bit (RFC 2045 5.2)", () => {
    expect(structureOf("Subject: x\r\n\r\nline one\r\nline two\r\n")).toBe(
      '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 20 2 NIL NIL NIL NIL)',
    );
  });

  it("counts sizes and lines from the tree, framing included", () => {
    const raw =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\npreamble\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>\r\n" +
      "--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nhi\r\n--b--\r\nepilogue\r\n";
    expect(structureOf(raw)).toBe(
      '(("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 3 0 NIL NIL NIL NIL)' +
        '("message" "rfc822" NIL NIL NIL "7bit" 20 (NIL "inner" NIL NIL NIL NIL NIL NIL NIL NIL) ' +
        '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 2 0 NIL NIL NIL NIL) 2 NIL NIL NIL NIL)' +
        ' "mixed" ("boundary" "b") NIL NIL NIL)',
    );
    expect(structureOf(raw, false)).toBe(
      '(("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 3 0)' +
        '("message" "rfc822" NIL NIL NIL "7bit" 20 (NIL "inner" NIL NIL NIL NIL NIL NIL NIL NIL) ' +
        '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 2 0) 2) "mixed")',
    );
  });

  it("puts an empty text/plain in a multipart that has no parts", () => {
    expect(structureOf("Content-Type: multipart/mixed\r\n\r\nno boundary\r\n")).toBe(
      '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL) "mixed" NIL NIL NIL NIL)',
    );
  });

  it("reports extension data: disposition, language, location, RFC 2231 parameters", () => {
    const raw =
      "MIME-Version: 1.0\r\nContent-Type: application/pdf; name*0=\"a \"; name*1=\"b.pdf\"\r\n" +
      "Content-Disposition: attachment; filename*=utf-8''%C3%A9.pdf\r\nContent-Language: de, en\r\n" +
      "Content-Location: http://x.example/\r\n a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n";
    expect(structureOf(raw)).toBe(
      '("application" "pdf" ("name" "a b.pdf") NIL NIL "base64" 6 NIL ' +
        "(\"attachment\" (\"filename*\" \"utf-8''%C3%A9.pdf\")) (\"de\" \"en\") \"http://x.example/ a.pdf\")",
    );
  });

  it("reports an unreadable Content-Type as empty type and subtype", () => {
    expect(structureOf("Content-Type: text; charset=us-ascii\r\n\r\nx\r\n")).toBe(
      '("" "" NIL NIL NIL "7bit" 3 NIL NIL NIL NIL)',
    );
  });
});
