// The streaming push-body reader agrees with JSON.parse however the body is
// cut into chunks, and refuses what is not exactly {"docs":[...]}.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HttpError } from "../../provider/http/http-io";
import { PushBodyReader } from "../../provider/http/push-body";

function readInChunks(body: Buffer, cuts: number[]) {
  const reader = new PushBodyReader(1000);
  let start = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    reader.feed(body.subarray(start, cut));
    start = cut;
  }
  reader.feed(body.subarray(start));
  return reader.end().map((doc) => ({ ...doc, data: doc.data.toString("base64url") }));
}

const wireDoc = fc.record({
  // Ids with characters that need escaping would fail the schema, so the
  // escapes are exercised through JSON whitespace and key order instead.
  id: fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
  rev: fc.integer({ min: 1, max: 1000 }),
  data: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString("base64url")),
});

describe("PushBodyReader", () => {
  it("reads what JSON.stringify writes, at any chunking", () => {
    fc.assert(
      fc.property(fc.array(wireDoc, { maxLength: 8 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 6 }), (docs, pretty, cuts) => {
        const value = { docs: docs.map((doc) => ({ ...doc, expectedRev: doc.rev - 1 })) };
        const body = Buffer.from(JSON.stringify(value, null, pretty ? 2 : undefined));
        expect(readInChunks(body, cuts.map((cut) => cut % (body.length + 1)))).toEqual(value.docs);
      }),
    );
  });

  it("handles strings with escaped quotes, backslashes and braces split across chunks", () => {
    // Extra keys inside a document are ignored by the schema; the scanner
    // must still find where the document ends.
    const body = Buffer.from('{"docs":[{"note":"a \\" } ] \\\\","id":"x","rev":2,"expectedRev":1,"data":"AAAA","nested":{"a":[1,{"b":"}"}]}}]}');
    for (let cut = 0; cut <= body.length; cut++) {
      expect(readInChunks(body, [cut])).toEqual([{ id: "x", rev: 2, expectedRev: 1, data: "AAAA" }]);
    }
  });

  it("refuses bodies of any other shape", () => {
    const bad = ["", "{}", '{"docs":{}}', '{"docs":[]', '{"docs":[]}x', '{"doc":[]}', '{"docs":[{"id":"a"}]}', '{"docs":[{}', "[]", '{"docs":[]],}'];
    for (const body of bad) {
      expect(() => readInChunks(Buffer.from(body), []), body).toThrow(HttpError);
    }
  });

  it("stops at the document limit", () => {
    const reader = new PushBodyReader(2);
    const doc = '{"id":"a","rev":1,"expectedRev":0,"data":""}';
    expect(() => reader.feed(Buffer.from(`{"docs":[${doc},${doc},${doc}]}`))).toThrow(/more than 2/);
  });
});
