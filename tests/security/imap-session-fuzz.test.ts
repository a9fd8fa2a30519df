// Whole sessions of hostile input against a real server: random mixes of
// valid commands, broken commands, stray literals and raw bytes, in random
// chunks. The server must answer (no hang), never crash, never throw inside
// a command, keep the store intact, and serve a fresh client normally
// afterwards.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADDRESS, startImap } from "../helpers/imap-server";
import { fuzzSessions } from "../helpers/imap-session-fuzz";
import { plainMessage } from "../helpers/messages";
import { RawImap } from "../helpers/raw-imap";

let imap: Awaited<ReturnType<typeof startImap>>;
beforeAll(async () => {
  imap = await startImap();
  const inbox = imap.account.requireMailbox("INBOX");
  for (let n = 0; n < 5; n++) inbox.add(plainMessage(n));
});
afterAll(() => imap.stop());

const commands = [
  "NOOP", "CAPABILITY", "SELECT INBOX", "EXAMINE Archive", "FETCH 1:* (FLAGS UID)", "FETCH 1 BODY.PEEK[HEADER]",
  "UID FETCH 1:* (BODYSTRUCTURE ENVELOPE)", "STORE 1 +FLAGS (\\Seen)", "UID STORE 2 -FLAGS (\\Seen)", "COPY 1 Archive",
  "LIST \"\" *", "STATUS INBOX (MESSAGES UNSEEN)", "EXPUNGE", "UNSELECT", "CLOSE", "ENABLE QRESYNC", "ID NIL",
  "CREATE fuzz", "DELETE fuzz", "RENAME fuzz fuzz2", "APPEND INBOX {5+}\r\nhello", "FETCH 0 FLAGS", "FETCH *:1 (FLAGS",
  "STORE 1:* FLAGS.SILENT ()", "SEARCH ALL", "LIST (((( \"\" *", "FETCH 1 BODY[99.99.MIME]", "UID FETCH 4294967295 FLAGS",
];

describe("IMAP session fuzzing", () => {
  it("survives random sessions and keeps serving", async () => {
    await fuzzSessions(imap, commands);
    const client = await RawImap.connect(imap.port);
    await client.command("a", `LOGIN ${ADDRESS} ${imap.token}`);
    expect(await client.command("b", "SELECT INBOX")).toMatch(/b OK/);
    expect(await client.command("c", "FETCH 1:* (UID RFC822.SIZE)")).toMatch(/c OK/);
    client.close();
    expect(imap.store.sql.pragma("integrity_check", { simple: true })).toBe("ok");
  }, 300_000);
});
