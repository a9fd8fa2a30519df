// Whole IMAP sessions of hostile input against a real server (see
// tests/security/imap-session-fuzz.test.ts). Everything random comes from
// fast-check, chunking included, so a failure replays from the seed and path
// fast-check prints; a command that throws fails the run, not only a hang.
import fc from "fast-check";
import { ADDRESS, type startImap } from "./imap-server";
import { RawImap } from "./raw-imap";

type Imap = Awaited<ReturnType<typeof startImap>>;

/** Literals the script announces stay below the padding the sentinel sends,
 * so the sentinel always ends any literal still waiting for bytes. */
const MAX_FUZZ_LITERAL = 300;
/** Chunk sizes the script is written in, cycled over the whole script. */
const MAX_CHUNK = 300;

const line = (commands: readonly string[]) =>
  fc.oneof(
    fc.constantFrom(...commands).map((command) => Buffer.from(command)),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    fc.string({ maxLength: 100 }).map((text) => Buffer.from(text)),
    fc.nat({ max: MAX_FUZZ_LITERAL }).map((n) => Buffer.from(`APPEND INBOX {${n}}`)),
  );

type Session = { script: [string, Buffer][]; login: boolean; chunks: number[] };

const session = (commands: readonly string[]): fc.Arbitrary<Session> =>
  fc.record({
    script: fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 4 }), line(commands)), { maxLength: 25 }),
    login: fc.boolean(),
    chunks: fc.array(fc.integer({ min: 1, max: MAX_CHUNK }), { minLength: 1, maxLength: 20 }),
  });

/** Runs random sessions mixing `commands` with broken commands, stray
 * literals and raw bytes. Each must get an answer to a final sentinel (or a
 * clean close), and no command may throw inside the server (a throw answers
 * NO [SERVERBUG], which alone would look like a handled error). */
export async function fuzzSessions(imap: Imap, commands: readonly string[], parameters: fc.Parameters<[Session]> = {}): Promise<void> {
  await fc.assert(
    fc.asyncProperty(session(commands), async ({ script, login, chunks }) => {
      const eventsBefore = imap.events.length;
      const raw = await RawImap.connect(imap.port);
      try {
        if (login) await raw.command("L", `LOGIN ${ADDRESS} ${imap.token}`);
        const wire = Buffer.concat(script.map(([tag, body]) => Buffer.concat([Buffer.from(`${tag.replace(/\W/g, "x")} `), body, Buffer.from("\r\n")])));
        for (let at = 0, n = 0; at < wire.length; n++) {
          const size = chunks[n % chunks.length]!;
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
      // Commands run in order, so every command before the sentinel has
      // finished and reported any throw by now.
      const thrown = imap.events.slice(eventsBefore).filter((event) => event.type === "error");
      if (thrown.length > 0) {
        throw new Error(`the server threw: ${thrown.map((event) => `${event.command}: ${event.error}`).join("\n")}`);
      }
    }),
    { numRuns: 100, ...parameters },
  );
}
