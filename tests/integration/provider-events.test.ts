// The provider's events route (GET /events): authenticated with the session
// token, "ready" first, then every "sync" and "incoming" event of the account
// to each of its streams and to no other account's; keep-alives; a bounded
// number of streams per account (a new one closes the oldest); a stream
// closed when its token expires. 200 streams at once all get their events,
// and the provider's memory is back at its baseline once they close and does
// not grow with the number of events sent.
import http from "node:http";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../provider/options";
import { type ProviderEvent, providerEvent } from "../../shared/provider-api";
import { eventually, newAccount, publishNewKey, push, request, startTestProvider, type TestProvider } from "../helpers/provider";

const KEEP_ALIVE_MS = 200;
const STREAMS_PER_ACCOUNT = 8;
const SESSION_TTL_MS = 60 * 60 * 1000;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** The provider's clock runs this far ahead of the real one (to expire tokens). */
let clockShift = 0;
let provider: TestProvider;

beforeAll(async () => {
  provider = await startTestProvider({
    limits: { eventKeepAliveMs: KEEP_ALIVE_MS, eventStreamsPerAccount: STREAMS_PER_ACCOUNT },
    sessionTtlMs: SESSION_TTL_MS,
    clock: { ...systemClock, now: () => Date.now() + clockShift },
  });
});

afterAll(async () => {
  await provider?.stop();
});

/** One device's stream, read as it comes: events, keep-alives and whether it closed. */
class Stream {
  readonly events: ProviderEvent[] = [];
  keepAlives = 0;
  closed = false;
  private pending = "";

  private constructor(readonly response: http.IncomingMessage) {
    response.setEncoding("utf8");
    response.on("data", (text: string) => this.feed(text));
    response.on("close", () => (this.closed = true));
  }

  static open(token: string): Promise<Stream> {
    return new Promise((resolve, reject) => {
      const req = http.get(`${provider.url}/events`, { headers: { authorization: `Bearer ${token}` }, agent: false });
      req.on("error", reject);
      req.on("response", (response) => {
        if (response.statusCode !== 200) reject(new Error(`GET /events answered ${response.statusCode}`));
        else resolve(new Stream(response));
      });
    });
  }

  private feed(text: string): void {
    this.pending += text;
    for (let end = this.pending.indexOf("\n\n"); end >= 0; end = this.pending.indexOf("\n\n")) {
      const block = this.pending.slice(0, end);
      this.pending = this.pending.slice(end + 2);
      if (block.startsWith(":")) this.keepAlives++;
      else this.events.push(providerEvent.parse(JSON.parse(block.replace(/^data: /, ""))));
    }
  }

  until(count: number, what: string): Promise<ProviderEvent[]> {
    return eventually(async () => (this.events.length >= count ? this.events : undefined), 10_000, what);
  }

  close(): void {
    this.response.destroy();
  }
}

const data = (n: number) => "A".repeat(n);

describe("GET /events", () => {
  it("refuses a request without a good token with 401", async () => {
    expect((await request(provider, "GET", "/events")).status).toBe(401);
    const wrong = await request(provider, "GET", "/events", { token: "A".repeat(43) });
    expect(wrong.status).toBe(401);
    expect((wrong.body as { error: string }).error).toMatch(/token/);
  });

  it("says where the account stands, then each push, to every stream of the account and no other", async () => {
    const alice = await newAccount(provider, "alice");
    const bob = await newAccount(provider, "bob");
    await push(provider, alice, [{ id: "a1", rev: 1, expectedRev: 0, data: data(10) }]);
    const [first, second, bobs] = await Promise.all([Stream.open(alice), Stream.open(alice), Stream.open(bob)]);
    try {
      for (const stream of [first, second]) {
        expect(await stream.until(1, "ready")).toEqual([{ type: "ready", generation: 1, incoming: false, keepAliveMs: KEEP_ALIVE_MS }]);
      }
      await push(provider, alice, [{ id: "a2", rev: 1, expectedRev: 0, data: data(10) }, { id: "a3", rev: 1, expectedRev: 0, data: data(10) }]);
      // A push that stores nothing (a conflict) moves nothing and says nothing.
      await push(provider, alice, [{ id: "a2", rev: 2, expectedRev: 0, data: data(10) }]);
      for (const stream of [first, second]) expect((await stream.until(2, "the push"))[1]).toEqual({ type: "sync", generation: 3 });
      await eventually(async () => (first.keepAlives > 0 && bobs.keepAlives > 0 ? true : undefined), 5_000, "keep-alives");
      expect(first.events).toHaveLength(2);
      expect(bobs.events).toEqual([{ type: "ready", generation: 0, incoming: false, keepAliveMs: KEEP_ALIVE_MS }]);
    } finally {
      for (const stream of [first, second, bobs]) stream.close();
    }
  });

  it("says when the MX stored mail, and ready says mail waits", async () => {
    const token = await newAccount(provider, "carol");
    await publishNewKey(provider, token, "carol@example.org");
    const stream = await Stream.open(token);
    try {
      await stream.until(1, "ready");
      const transport = nodemailer.createTransport({ host: "127.0.0.1", port: provider.mxPort, secure: false, ignoreTLS: true });
      try {
        await transport.sendMail({ envelope: { from: "x@example.net", to: ["carol@example.org"] }, raw: "Subject: hi\r\n\r\nhello\r\n" });
      } finally {
        transport.close();
      }
      expect((await stream.until(2, "incoming"))[1]).toEqual({ type: "incoming" });
    } finally {
      stream.close();
    }
    const again = await Stream.open(token);
    try {
      expect((await again.until(1, "ready"))[0]).toMatchObject({ type: "ready", incoming: true });
    } finally {
      again.close();
    }
  });

  it(`keeps ${STREAMS_PER_ACCOUNT} streams per account: one more closes the oldest`, async () => {
    const token = await newAccount(provider, "dave");
    const streams: Stream[] = [];
    try {
      for (let i = 0; i < STREAMS_PER_ACCOUNT; i++) streams.push(await Stream.open(token));
      await Promise.all(streams.map((stream) => stream.until(1, "ready")));
      streams.push(await Stream.open(token));
      await eventually(async () => (streams[0]!.closed ? true : undefined), 5_000, "the oldest stream closed");
      await push(provider, token, [{ id: "d1", rev: 1, expectedRev: 0, data: data(10) }]);
      for (const stream of streams.slice(1)) await stream.until(2, "the push on every stream kept");
      expect(streams.slice(1).every((stream) => !stream.closed)).toBe(true);
    } finally {
      for (const stream of streams) stream.close();
    }
  });

  it("closes a stream once its token has expired", async () => {
    const token = await newAccount(provider, "erin");
    const stream = await Stream.open(token);
    try {
      await stream.until(1, "ready");
      clockShift = SESSION_TTL_MS + 1000;
      await eventually(async () => (stream.closed ? true : undefined), 5_000, "the expired stream closed");
    } finally {
      clockShift = 0;
      stream.close();
    }
  });
});

describe("200 streams on one provider", () => {
  const ACCOUNTS = 200 / STREAMS_PER_ACCOUNT;

  function heapUsed(): number {
    for (let i = 0; i < 4; i++) gc();
    return process.memoryUsage().heapUsed;
  }

  it("each event reaches all of them, memory does not grow per event, and is back at its baseline after they close", async () => {
    const tokens: string[] = [];
    for (let i = 0; i < ACCOUNTS; i++) tokens.push(await newAccount(provider, `many${i}`));
    /** Events sent to the streams of this cycle. */
    let generation = 0;
    let documents = 0;
    /** One push per account; every stream of it must hear it. */
    const pushToAll = async (streams: Stream[][]) => {
      generation++;
      documents++;
      await Promise.all(tokens.map((token) => push(provider, token, [{ id: `doc-${documents}`, rev: 1, expectedRev: 0, data: data(10) }])));
      for (const group of streams) for (const stream of group) await stream.until(1 + generation, `event ${generation} on every stream`);
    };
    const cycle = async (events: number) => {
      generation = 0;
      const streams = await Promise.all(tokens.map((token) => Promise.all(Array.from({ length: STREAMS_PER_ACCOUNT }, () => Stream.open(token)))));
      try {
        for (const group of streams) for (const stream of group) await stream.until(1, "ready");
        for (let i = 0; i < events; i++) await pushToAll(streams);
        expect(streams.flat().every((stream) => !stream.closed)).toBe(true);
        return heapUsed();
      } finally {
        for (const stream of streams.flat()) stream.close();
        await eventually(async () => (streams.flat().every((stream) => stream.closed) ? true : undefined), 10_000, "every stream closed");
      }
    };
    // A first cycle warms up what stays anyway (compiled code, prepared statements).
    await cycle(1);
    const baseline = heapUsed();
    const afterFew = await cycle(2);
    const afterMany = await cycle(20);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = heapUsed();
    // 200 open streams cost some memory; 10 times the events cost none more.
    expect(afterMany - afterFew).toBeLessThan(2 * 1024 * 1024);
    expect(after - baseline).toBeLessThan(2 * 1024 * 1024);
  }, 180_000);
});

describe("POST /incoming/delete", () => {
  it("refuses a malformed list with 400 and no token with 401, deleting nothing; ids not there are fine", async () => {
    const token = await newAccount(provider, "frank");
    await publishNewKey(provider, token, "frank@example.org");
    const transport = nodemailer.createTransport({ host: "127.0.0.1", port: provider.mxPort, secure: false, ignoreTLS: true });
    try {
      await transport.sendMail({ envelope: { from: "x@example.net", to: ["frank@example.org"] }, raw: "Subject: keep\r\n\r\nkeep me\r\n" });
    } finally {
      transport.close();
    }
    const queued = async () => (await request(provider, "GET", "/incoming", { token })).body as { docs: { id: string }[] };
    const ids = (await queued()).docs.map((doc) => doc.id);
    expect(ids).toHaveLength(1);
    for (const body of [{}, { ids: [] }, { ids: ["not base64url!"] }, { ids: ids[0] }, { ids: Array(1001).fill(ids[0]) }]) {
      const result = await request(provider, "POST", "/incoming/delete", { token, json: body });
      expect(result.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect((result.body as { error: string }).error).toMatch(/ids/);
    }
    expect((await request(provider, "POST", "/incoming/delete", { token, body: "{not json", contentType: "application/json" })).status).toBe(400);
    expect((await request(provider, "POST", "/incoming/delete", { json: { ids } })).status).toBe(401);
    expect((await queued()).docs.map((doc) => doc.id)).toEqual(ids);
    expect((await request(provider, "POST", "/incoming/delete", { token, json: { ids: ["gone", "elsewhere"] } })).status).toBe(204);
    expect((await queued()).docs.map((doc) => doc.id)).toEqual(ids);
    expect((await request(provider, "POST", "/incoming/delete", { token, json: { ids } })).status).toBe(204);
    expect((await queued()).docs).toEqual([]);
  });
});
