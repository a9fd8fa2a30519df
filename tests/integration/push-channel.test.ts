// The daemon's side of the event stream against a server that misbehaves
// (real sockets on loopback): an event that is not JSON, one the API does not
// know, one too long, a stream that falls silent after saying keep-alives
// would come, a refusal. Each is reported once, clearly, and the channel
// goes down and tries again; a good stream after that brings it up.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_PUSH_EVENT_BYTES } from "../../native-host/limits";
import { ProviderClient } from "../../native-host/sync/provider-client";
import { PushChannel, type PushState } from "../../native-host/sync/push-channel";
import type { ProviderEvent } from "../../shared/provider-api";
import { eventually } from "../helpers/provider";

const READY = `data: ${JSON.stringify({ type: "ready", generation: 7, incoming: false, keepAliveMs: 100 })}\n\n`;

let server: http.Server | null = null;
let channel: PushChannel | null = null;

afterEach(async () => {
  await channel?.stop();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  channel = null;
  server = null;
});

/** A server whose n-th /events request (from 0) gets `answers[n]` (the last one repeats). */
async function serve(answers: ((res: http.ServerResponse) => void)[]): Promise<string> {
  let n = 0;
  server = http.createServer((_req, res) => answers[Math.min(n++, answers.length - 1)]!(res));
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const stream = (text: string) => (res: http.ServerResponse) => {
  res.writeHead(200, { "content-type": "text/event-stream" });
  res.write(text);
};

function listen(url: string) {
  const client = new ProviderClient({ url });
  const seen = { events: [] as ProviderEvent[], states: [] as PushState[], problems: [] as string[] };
  channel = new PushChannel(
    { openEvents: (signal) => client.openStream("/events", "token", signal) },
    {
      onEvent: (event) => seen.events.push(event),
      onState: (state) => seen.states.push(state),
      onProblem: (message) => seen.problems.push(message),
    },
  );
  channel.start();
  return seen;
}

describe("the push channel against a misbehaving stream", () => {
  const cases: [string, string, RegExp][] = [
    ["an event that is not JSON", `${READY}data: {oops\n\n`, /not JSON: \{oops/],
    ["an event the API does not know", `${READY}data: {"type":"surprise"}\n\n`, /does not know: \{"type":"surprise"\}/],
    ["an event too long", `${READY}data: ${"x".repeat(MAX_PUSH_EVENT_BYTES + 10)}`, new RegExp(`longer than ${MAX_PUSH_EVENT_BYTES} bytes`)],
    ["silence after ready (no keep-alives)", READY, /silent for 1200 ms/],
  ];
  for (const [what, text, problem] of cases) {
    it(`${what}: said once, the channel goes down, and a good stream brings it back up`, async () => {
      const url = await serve([stream(text), stream(`${READY}data: {"type":"incoming"}\n\n: keep-alive\n\n`)]);
      const seen = listen(url);
      await eventually(async () => (seen.states.includes("down") && channel!.state === "up" ? true : undefined), 10_000, "down, then up again");
      expect(seen.problems).toHaveLength(1);
      expect(seen.problems[0]).toMatch(problem);
      expect(seen.events.at(-1)).toEqual({ type: "incoming" });
      expect(seen.events.filter((event) => event.type !== "ready" && event.type !== "incoming")).toEqual([]);
    });
  }

  it("a refusal (401) keeps it down, retrying, said once", async () => {
    const url = await serve([(res) => res.writeHead(401).end('{"error":"no"}')]);
    const seen = listen(url);
    await eventually(async () => (seen.states.includes("down") ? true : undefined), 10_000, "down");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(channel!.state).toBe("down");
    expect(seen.problems).toEqual(["the provider answered 401 to GET /events"]);
  });
});
