// The attack: SEARCH with 9,000 nested NOTs answered "Maximum call stack
// size exceeded" (caught, but only by luck of where the stack ran out), and
// a date like 31-Feb-2020 was taken as 2-Mar-2020. Now the parser limits the
// nesting with a clear BAD, and refuses days that do not exist.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_SEARCH_DEPTH } from "../../native-host/imap/limits";
import { ADDRESS, startImap } from "../helpers/imap-server";
import { plainMessage } from "../helpers/messages";
import { RawImap } from "../helpers/raw-imap";

let imap: Awaited<ReturnType<typeof startImap>>;
let client: RawImap;

beforeAll(async () => {
  imap = await startImap();
  imap.account.requireMailbox("INBOX").add(plainMessage(1), { internalDate: new Date(Date.UTC(2020, 1, 29, 12)) });
  client = await RawImap.connect(imap.port);
  expect(await client.command("a", `LOGIN ${ADDRESS} ${imap.token}`)).toMatch(/^a OK/m);
  expect(await client.command("b", "SELECT INBOX")).toMatch(/^b OK/m);
});

afterAll(async () => {
  client?.close();
  await imap?.stop();
});

describe("SEARCH", () => {
  it("with 9,000 nested NOTs is refused by the parser, and the session goes on", async () => {
    const answer = await client.command("c", `SEARCH ${"NOT ".repeat(9_000)}ALL`);
    expect(answer).toMatch(new RegExp(`^c BAD .*nested deeper than ${MAX_SEARCH_DEPTH} levels`, "m"));
    expect(answer).not.toMatch(/call stack/i);
    expect(await client.command("d", "SEARCH ALL")).toMatch(/^\* SEARCH 1\r\nd OK/m);
  });

  it("nested as deep as allowed still answers", async () => {
    const even = MAX_SEARCH_DEPTH - (MAX_SEARCH_DEPTH % 2);
    expect(await client.command("e", `SEARCH ${"NOT ".repeat(even)}ALL`)).toMatch(/^\* SEARCH 1\r\ne OK/m);
    expect(await client.command("f", `SEARCH ${"(".repeat(20)}OR SEEN ALL${")".repeat(20)}`)).toMatch(/^\* SEARCH 1\r\nf OK/m);
  });

  it("refuses 31-Feb-2020 and other days that do not exist", async () => {
    for (const day of ["31-Feb-2020", "30-Feb-2020", "31-Apr-2021", "0-Jan-2020", "29-Feb-2021"]) {
      expect(await client.command("g", `SEARCH ON ${day}`)).toMatch(new RegExp(`^g BAD .*invalid date "${day}"`, "m"));
    }
    expect(await client.command("h", "SEARCH ON 29-Feb-2020")).toMatch(/^\* SEARCH 1\r\nh OK/m);
  });
});
