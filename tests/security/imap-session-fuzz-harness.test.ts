// The session fuzz harness itself: a command that throws inside the server
// answers NO [SERVERBUG] like a handled failure would, so the harness must
// catch it from the server's error events; and a failure must replay from
// the seed and path fast-check reports.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANY_STATE, type CommandSpec, defineCommand } from "../../native-host/imap/command";
import { commandsByName } from "../../native-host/imap/commands";
import { startImap } from "../helpers/imap-server";
import { fuzzSessions } from "../helpers/imap-session-fuzz";

/** A command with a bug: it throws what no command handler expects. */
const broken = defineCommand({
  name: "XBROKEN",
  states: ANY_STATE,
  parse: (args) => args.end(),
  run: () => {
    throw new TypeError("XBROKEN reads a property of undefined");
  },
});

let imap: Awaited<ReturnType<typeof startImap>>;
beforeAll(async () => {
  imap = await startImap();
  // The registry is read-only to the daemon; this test file runs in its own
  // process, so adding a command here touches no other test.
  (commandsByName as Map<string, CommandSpec<unknown>>).set(broken.name, broken as CommandSpec<unknown>);
});
afterAll(async () => {
  (commandsByName as Map<string, CommandSpec<unknown>>).delete(broken.name);
  await imap.stop();
});

/** The seed and path fast-check prints for a failed property. */
function replayFrom(message: string): { seed: number; path: string } {
  const found = /seed: (-?\d+), path: "([\d:]+)"/.exec(message);
  if (!found) throw new Error(`no seed and path in: ${message.slice(0, 500)}`);
  return { seed: Number(found[1]), path: found[2]! };
}

describe("IMAP session fuzz harness", () => {
  it("passes sessions whose commands only fail in the ways a client is told", async () => {
    await fuzzSessions(imap, ["NOOP", "FETCH 0 FLAGS", "SELECT nosuch"], { numRuns: 10 });
  }, 120_000);

  it("fails when a command throws inside the server, and the failure replays from its seed", async () => {
    const failure = await fuzzSessions(imap, ["XBROKEN"], { seed: 16 }).then(
      () => null,
      (error: Error) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    // fast-check's message holds the seed and the shrunk session; its cause, the harness's report.
    expect((failure?.cause as Error).message).toMatch(/the server threw: XBROKEN: TypeError: XBROKEN reads a property of undefined/);

    const replay = await fuzzSessions(imap, ["XBROKEN"], { ...replayFrom(failure!.message), endOnFailure: true }).then(
      () => null,
      (error: Error) => error,
    );
    expect((replay?.cause as Error).message).toMatch(/the server threw: XBROKEN: TypeError/);
    const counterexample = (message: string) => /Counterexample: (.*)/.exec(message)?.[1];
    expect(counterexample(replay!.message)).toBe(counterexample(failure!.message));
  }, 300_000);
});
