// Whole sessions of hostile input against a real server: random mixes of
// valid commands, broken commands, stray literals and raw bytes, in random
// chunks. The server must answer (no hang), never crash, keep the store
// intact, and serve a fresh client normally afterwards.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADDRESS, startImap } from "../helpers/imap-server";
import { plainMessage } from "../helpers/messages";
import { RawImap } from "../helpers/raw-imap";

let imap: Awaited<ReturnType<typeof startImap>>;
beforeAll(async () => {
  imap = await startImap();
  const inbox = imap.account.requireMailbox("INBOX");
  for (let n = 0; n < 5; n++) inbox.add(plainMessage(n));
});
afterAll(() => imap.stop());

/** Literals the script announces stay below the padding the sentinel sends,
 * so the sentinel always ends any literal still waiting for bytes. */
const MAX_FUZZ_LITERAL = 300;

const commands = [
  "NOOP", "CAPABILITY", "SELECT INBOX", "EXAMINE Archive", "FETCH 1:* (FLAGS UID)", "FETCH 1 BODY.PEEK[HEADER]",
  "UID FETCH 1:* (BODYSTRUCTURE ENVELOPE)", "STORE 1 +FLAGS (\\Seen)", "UID STORE 2 -FLAGS (\\Seen)", "COPY 1 Archive",
  "LIST \"\" *", "STATUS INBOX (MESSAGES UNSEEN)", "EXPUNGE", "UNSELECT", "CLOSE", "ENABLE QRESYNC", "ID NIL",
  "CREATE fuzz", "DELETE fuzz", "RENAME fuzz fuzz2", "APPEND INBOX {5+}\r\nhello", "FETCH 0 FLAGS", "FETCH *:1 (FLAGS",
  "STORE 1:* FLAGS.SILENT ()", "SEARCH ALL", "LIST (((( \"\" *", "FETCH 1 BODY[99.99.MIME]", "UID FETCH 4294967295 FLAGS",
];

const line = fc.oneof(
  fc.constantFrom(...commands).map((command) => Buffer.from(command)),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ maxLength: 100 }).map((text) => Buffer.from(text)),
  fc.nat({ max: MAX_FUZZ_LITERAL }).map((n) => Buffer.from(`APPEND INBOX {${n}}`)),
);

describe("IMAP session fuzzing", () => {
  it("survives random sessions and keeps serving", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 4 }), line), { maxLength: 25 }), fc.boolean(), async (script, login) => {
        const raw = await RawImap.connect(imap.port);
        try {
          if (login) await raw.command("L", `LOGIN ${ADDRESS} ${imap.token}`);
          const wire = Buffer.concat(script.map(([tag, body]) => Buffer.concat([Buffer.from(`${tag.replace(/\W/g, "x")} `), body, Buffer.from("\r\n")])));
          // Random chunking of the whole script.
          for (let at = 0; at < wire.length; ) {
            const size = 1 + Math.floor(Math.random() * 300);
            raw.write(wire.subarray(at, at + size));
            at += size;
          }
          // Whatever state the stream is in (even inside a literal), the padding
          // ends it and the sentinel gets an answer, or the server has closed the
          // connection cleanly; it never hangs.
          raw.write(Buffer.concat([Buffer.alloc(MAX_FUZZ_LITERAL + 1, 0x61), Buffer.from("\r\n\r\n}Z NOOP\r\n")]));
          await raw.readUntil((text) => /}Z (OK|BAD|NO)/.test(text) || raw.closed, 15_000);
        } finally {
          raw.close();
        }
      }),
      { numRuns: 100 },
    );
    const client = await RawImap.connect(imap.port);
    await client.command("a", `LOGIN ${ADDRESS} ${imap.token}`);
    expect(await client.command("b", "SELECT INBOX")).toMatch(/b OK/);
    expect(await client.command("c", "FETCH 1:* (UID RFC822.SIZE)")).toMatch(/c OK/);
    client.close();
    expect(imap.store.sql.pragma("integrity_check", { simple: true })).toBe("ok");
  }, 300_000);
});
