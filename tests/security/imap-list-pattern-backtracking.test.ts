// A LIST pattern made to backtrack: "%%%...%z". Matched with a regular
// expression of one "[^/]*" per "%", a name without a "z" makes the engine
// try every way to split the name among the wildcards: 60 "%" took 30 s,
// and 3,000 would outlast the universe, with every other client of the
// daemon waiting (one event loop). RFC 3501 6.3.8 defines "%" to match
// "zero or more characters" other than the delimiter, nothing more costly.
// The bound below is generous for a linear matcher (milliseconds) and
// unreachable for a backtracking one.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADDRESS, startImap } from "../helpers/imap-server";
import { RawImap } from "../helpers/raw-imap";

const WILDCARDS = 3000;
const BOUND_MS = 10_000;

let imap: Awaited<ReturnType<typeof startImap>>;

beforeAll(async () => {
  imap = await startImap();
  for (let i = 0; i < 50; i++) imap.account.createMailbox(`A-rather-long-folder-name-without-the-letter-${i}`);
});

afterAll(async () => {
  await imap?.stop();
});

async function loggedIn(): Promise<RawImap> {
  const raw = await RawImap.connect(imap.port);
  expect(await raw.command("L", `LOGIN ${ADDRESS} ${imap.token}`)).toMatch(/L OK/);
  return raw;
}

describe("LIST pattern backtracking", () => {
  it(`answers LIST "" "${"%".repeat(3)}...%z" of ${WILDCARDS} wildcards, and another client meanwhile`, async () => {
    const attacker = await loggedIn();
    const other = await loggedIn();
    try {
      const pattern = `"${"%".repeat(WILDCARDS)}z"`;
      const list = attacker.command("l", `LIST "" ${pattern}`, BOUND_MS);
      const noop = other.command("n", "NOOP", BOUND_MS);
      // Nothing matches (no name has a "z"), and both are answered in time.
      expect(await list).toBe("l OK LIST completed\r\n");
      expect(await noop).toMatch(/^n OK/);
      // The same pattern ending in a letter the names have matches every one of them.
      const matching = await attacker.command("m", `LIST "" "${"%".repeat(WILDCARDS)}9"`, BOUND_MS);
      expect(matching.match(/\* LIST /g)).toHaveLength(5);
      expect(await attacker.command("s", `LIST "" "${"*%".repeat(WILDCARDS / 2)}/"`, BOUND_MS)).toBe("s OK LIST completed\r\n");
    } finally {
      attacker.close();
      other.close();
    }
  });
});
