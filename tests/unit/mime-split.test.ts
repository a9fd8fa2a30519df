import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Account } from "../../native-host/mail/account";
import { joinMessage, splitMessage } from "../../native-host/mail/mime-split";
import type { MimeNode } from "../../shared/documents";
import { corpusEntries, readCorpusMessage } from "../helpers/corpus";
import { openTempAccount } from "../helpers/temp-store";

/** Every leaf's hash, in tree order. */
function leafHashes(node: MimeNode, out: string[] = []): string[] {
  const body = node.body;
  if (body.kind === "leaf") out.push(body.hash);
  else if (body.kind === "message") leafHashes(body.node, out);
  else for (const part of body.parts) leafHashes(part.node, out);
  return out;
}

function roundTrip(raw: Uint8Array): Buffer {
  const split = splitMessage(raw);
  return joinMessage(split.root, (hash) => split.leaves.get(hash)!);
}

function shape(node: MimeNode): unknown {
  const body = node.body;
  if (body.kind === "leaf") return "leaf";
  if (body.kind === "message") return { message: shape(body.node) };
  return { parts: body.parts.map((part) => shape(part.node)), closed: body.close !== null };
}

describe("byte-exact split and join", () => {
  const entries = corpusEntries();

  it("has a corpus of at least 300 messages, real and generated", () => {
    expect(entries.length).toBeGreaterThanOrEqual(300);
    expect(entries.filter((e) => e.kind === "real").length).toBeGreaterThan(100);
    expect(entries.filter((e) => e.kind.startsWith("generated")).length).toBeGreaterThan(100);
  });

  it("gives back every corpus message byte for byte", () => {
    const different = entries.filter((entry) => {
      const raw = readCorpusMessage(entry);
      return !roundTrip(raw).equals(raw);
    });
    expect(different.map((e) => e.path)).toEqual([]);
  });

  it("gives back arbitrary bytes and MIME-like garbage byte for byte", () => {
    const mimeish = fc
      .array(
        fc.oneof(
          fc.constantFrom("\r\n", "\n", "\r", "--b", "--b--", "--b \t", "Content-Type: multipart/mixed; boundary=b", "Content-Type: message/rfc822", ": ", " ", "\t", "x"),
          fc.string({ maxLength: 8 }),
        ),
        { maxLength: 60 },
      )
      .map((pieces) => Buffer.from(pieces.join(""), "latin1"));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 2000 }), mimeish), (raw) => roundTrip(raw).equals(Buffer.from(raw))),
      { numRuns: 2000 },
    );
  });

  it("splits a nested message into its parts", () => {
    const raw = Buffer.from(
      "Content-Type: multipart/mixed; boundary=outer\r\n\r\npreamble\r\n--outer\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
        "--outer\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: multipart/alternative; boundary=\"in ner\"\r\n\r\n" +
        "--in ner\r\n\r\nplain\r\n--in ner\r\nContent-Type: text/html\r\n\r\n<b>html</b>\r\n--in ner--\r\n" +
        "\r\n--outer--  \r\nepilogue\r\n",
    );
    const split = splitMessage(raw);
    expect(shape(split.root)).toEqual({ parts: ["leaf", { message: { parts: ["leaf", "leaf"], closed: true } }], closed: true });
    expect(leafHashes(split.root)).toHaveLength(3);
    expect(split.root.body.kind === "multipart" && split.root.body.epilogue).toBe("epilogue\r\n");
    expect(split.root.body.kind === "multipart" && split.root.body.preamble).toBe("preamble");
  });

  it("keeps a multipart without its final boundary, and one whose boundary never appears", () => {
    const unclosed = splitMessage(Buffer.from("Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n\ntwo\n"));
    expect(shape(unclosed.root)).toEqual({ parts: ["leaf", "leaf"], closed: false });
    const absent = splitMessage(Buffer.from("Content-Type: multipart/mixed; boundary=zzz\n\nno parts here\n"));
    expect(shape(absent.root)).toBe("leaf");
  });
});

describe("corpus through the store", () => {
  let temp: Awaited<ReturnType<typeof openTempAccount>>;
  let account: Account;
  beforeAll(async () => {
    temp = await openTempAccount();
    account = temp.account;
  });
  afterAll(() => temp.close());

  it("stores every corpus message and reads it back exactly, with an honest size", () => {
    const inbox = account.requireMailbox("INBOX");
    const entries = corpusEntries();
    const uids = entries.map((entry) => inbox.add(readCorpusMessage(entry)));
    entries.forEach((entry, i) => {
      const raw = readCorpusMessage(entry);
      const message = inbox.get(uids[i]!.uid)!;
      expect(message.size, entry.path).toBe(raw.length);
      expect(message.raw().equals(raw), entry.path).toBe(true);
    });
  });

  it("stores each shared attachment of the dedup fixtures once", () => {
    const store = account.store;
    const groups = new Map<string, Buffer[]>();
    for (const entry of corpusEntries().filter((e) => e.kind === "generated:dedup")) {
      const list = groups.get(entry.path.split("-")[1]!) ?? [];
      list.push(readCorpusMessage(entry));
      groups.set(entry.path.split("-")[1]!, list);
    }
    for (const messages of groups.values()) {
      const leafSets = messages.map((raw) => new Set(leafHashes(splitMessage(raw).root)));
      const common = [...leafSets[0]!].filter((hash) => leafSets.every((set) => set.has(hash)));
      for (const hash of common) {
        const rows = store.sql.prepare("SELECT count(*) AS n FROM docs WHERE id = ?").get(`C-${hash}`) as { n: number };
        expect(rows.n).toBe(1);
      }
    }
  });
});
