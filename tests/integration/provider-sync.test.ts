// The provider's sync store: push with expected revisions, pull by
// generation, batches, the quota, the request limit and a 20 MB document.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DocumentCipher } from "../../shared/crypto/document-cipher";
import { changesResponse, pushResponse } from "../../shared/provider-api";
import { changes, expectBody, newAccount, push, request, startTestProvider, type TestProvider } from "../helpers/provider";

let provider: TestProvider;
beforeAll(async () => {
  provider = await startTestProvider({ limits: { changesByteBudget: 4 * 1024 * 1024 } });
});
afterAll(() => provider.stop());

const data = (bytes: number) => randomBytes(bytes).toString("base64url");

describe("push and pull", () => {
  it("stores sealed documents and returns them by generation", async () => {
    const token = await newAccount(provider, "alice");
    const cipher = await DocumentCipher.create(randomBytes(64));
    const sealed = await cipher.seal({
      id: "mailbox-1",
      rev: 1,
      type: "mailbox",
      content: { name: "INBOX", uidValidity: 1, subscribed: true, specialUse: null, created: 0 },
    });
    const pushed = await push(provider, token, [{ ...sealed, expectedRev: 0 }]);
    expect(pushed).toEqual({ generation: 1, results: [{ id: sealed.id, status: "stored", rev: 1, gen: 1 }] });

    const pulled = await changes(provider, token, 0);
    expect(pulled).toEqual({ generation: 1, more: false, docs: [{ ...sealed, gen: 1 }] });
    expect((await cipher.open(pulled.docs[0]!)).id).toBe("mailbox-1");
    expect(await changes(provider, token, 1)).toEqual({ generation: 1, more: false, docs: [] });
  });

  it("keeps each user's documents apart", async () => {
    const bob = await newAccount(provider, "bob");
    const carol = await newAccount(provider, "carol");
    await push(provider, bob, [{ id: "shared-id", rev: 1, expectedRev: 0, data: data(10) }]);
    expect((await changes(provider, carol, 0)).docs).toEqual([]);
    expect((await push(provider, carol, [{ id: "shared-id", rev: 1, expectedRev: 0, data: data(10) }])).results[0]?.status).toBe("stored");
  });

  it("reports conflicts per document with the current revision, storing the rest", async () => {
    const token = await newAccount(provider, "dave");
    await push(provider, token, [{ id: "a", rev: 1, expectedRev: 0, data: data(10) }]);
    const result = await push(provider, token, [
      { id: "a", rev: 2, expectedRev: 0, data: data(10) }, // stale: someone else stored rev 1
      { id: "b", rev: 1, expectedRev: 0, data: data(10) },
      { id: "a", rev: 5, expectedRev: 1, data: data(10) },
      { id: "c", rev: 3, expectedRev: 2, data: data(10) }, // expects a document that is not there
    ]);
    expect(result).toEqual({
      generation: 3,
      results: [
        { id: "a", status: "conflict", rev: 1 },
        { id: "b", status: "stored", rev: 1, gen: 2 },
        { id: "a", status: "stored", rev: 5, gen: 3 },
        { id: "c", status: "conflict", rev: 0 },
      ],
    });
    // Only the newest version of each document, in generation order.
    expect((await changes(provider, token, 0)).docs.map((doc) => [doc.id, doc.rev, doc.gen])).toEqual([
      ["b", 1, 2],
      ["a", 5, 3],
    ]);
  });

  it("pages through many changes with `more`", async () => {
    const token = await newAccount(provider, "erin");
    const docs = Array.from({ length: 250 }, (_, i) => ({ id: `doc-${i}`, rev: 1, expectedRev: 0, data: data(50) }));
    expect((await push(provider, token, docs)).generation).toBe(250);
    const seen: string[] = [];
    let since = 0;
    for (let round = 0; round < 10; round++) {
      const page = await changes(provider, token, since, 100);
      seen.push(...page.docs.map((doc) => doc.id));
      since = page.generation;
      if (!page.more) break;
    }
    expect(seen).toEqual(docs.map((doc) => doc.id));
    expect(since).toBe(250);
  });

  it("stops a response at the byte budget, but always sends one document", async () => {
    const token = await newAccount(provider, "frank");
    await push(provider, token, [
      { id: "big-1", rev: 1, expectedRev: 0, data: data(3 * 1024 * 1024) },
      { id: "big-2", rev: 1, expectedRev: 0, data: data(3 * 1024 * 1024) },
      { id: "huge", rev: 1, expectedRev: 0, data: data(5 * 1024 * 1024) },
    ]);
    const first = await changes(provider, token, 0);
    expect(first.docs.map((doc) => doc.id)).toEqual(["big-1"]);
    expect(first).toMatchObject({ more: true, generation: 1 });
    const second = await changes(provider, token, 1);
    expect(second.docs.map((doc) => doc.id)).toEqual(["big-2"]);
    const third = await changes(provider, token, 2);
    expect(third.docs.map((doc) => doc.id)).toEqual(["huge"]);
    expect(third).toMatchObject({ more: false, generation: 3 });
  });

  it("round-trips a 20 MB document (32 MiB once sealed and padded)", async () => {
    const cipher = await DocumentCipher.create(randomBytes(64));
    const body = new Uint8Array(randomBytes(20 * 1024 * 1024));
    const sealed = await cipher.seal({ id: "C-big", rev: 1, type: "content", content: body });
    // Logged in after sealing: sealing blocks this process (and so the
    // in-process provider) long enough for a kept-alive connection to time out.
    const token = await newAccount(provider, "gina");
    expect(sealed.data.length).toBeGreaterThan(20 * 1024 * 1024);
    expect((await push(provider, token, [{ ...sealed, expectedRev: 0 }])).results[0]?.status).toBe("stored");
    const pulled = await changes(provider, token, 0);
    expect(pulled.docs[0]?.data === sealed.data).toBe(true);
    const opened = await cipher.open(pulled.docs[0]!);
    expect(Buffer.from(opened.content as Uint8Array).equals(body)).toBe(true);
  });
});

describe("limits", () => {
  const QUOTA = 1024 * 1024;
  const MAX_PUSH = 2 * 1024 * 1024;
  let provider: TestProvider;
  beforeAll(async () => {
    provider = await startTestProvider({ limits: { quotaBytes: QUOTA, maxPushBytes: MAX_PUSH } });
  });
  afterAll(() => provider.stop());

  it("answers 507 and stores nothing when a push would exceed the quota", async () => {
    const token = await newAccount(provider, "henry");
    await push(provider, token, [{ id: "a", rev: 1, expectedRev: 0, data: data(700 * 1024) }]);
    const over = await request(provider, "POST", "/sync/push", {
      token,
      json: { docs: [{ id: "b", rev: 1, expectedRev: 0, data: data(1024) }, { id: "c", rev: 1, expectedRev: 0, data: data(400 * 1024) }] },
    });
    expect(over.status).toBe(507);
    expect((await changes(provider, token, 0)).docs.map((doc) => doc.id)).toEqual(["a"]);
    // Replacing the big document with a small one frees space.
    expect((await push(provider, token, [{ id: "a", rev: 2, expectedRev: 1, data: data(10) }])).results[0]?.status).toBe("stored");
    expect((await push(provider, token, [{ id: "c", rev: 1, expectedRev: 0, data: data(400 * 1024) }])).results[0]?.status).toBe("stored");
  });

  it("refuses a body over the push limit with 413", async () => {
    const token = await newAccount(provider, "iris");
    const result = await request(provider, "POST", "/sync/push", { token, json: { docs: [{ id: "a", rev: 1, expectedRev: 0, data: data(MAX_PUSH) }] } });
    expect(result.status).toBe(413);
  });

  it("refuses malformed pushes with 400 and stores nothing", async () => {
    const token = await newAccount(provider, "jack");
    const bad = [
      '{"docs":[{"id":"a","rev":1,"expectedRev":0,"data":"AAAA"}',
      '{"docs":[{"id":"a","rev":1,"expectedRev":0,"data":"not base64!"}]}',
      '{"docs":[{"id":"a","rev":1,"expectedRev":1,"data":"AAAA"}]}',
      '{"docs":[{"id":"a","rev":1,"expectedRev":0,"data":"AAAA"}],"extra":1}',
      '{"docs":[1]}',
      "[]",
    ];
    for (const body of bad) {
      expect((await request(provider, "POST", "/sync/push", { token, body, contentType: "application/json" })).status, body).toBe(400);
    }
    expect(expectBody(await request(provider, "GET", "/sync/changes", { token }), 200, changesResponse).docs).toEqual([]);
    expect(expectBody(await request(provider, "POST", "/sync/push", { token, json: { docs: [] } }), 200, pushResponse)).toEqual({ generation: 0, results: [] });
  });
});
