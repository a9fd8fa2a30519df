// The attack: clients issue `FETCH 1:* BODY[]` and stop reading. The
// daemon produced whole batches of messages into each socket's buffer
// anyway, about 50 MB per reader (16 readers: 1.46 GB). FETCH now stops
// producing while the client lags (backpressure), and a session that holds
// too much unread output ends.
//
// Scaled down: 4 readers and a mailbox of 40 messages of 400 KB (16 MB),
// which unfixed cost about 16 MB of buffered output per reader; fixed, each
// holds about a megabyte and one message.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUTPUT_BACKLOG_BYTES } from "../../native-host/imap/limits";
import { ADDRESS, startImap } from "../helpers/imap-server";
import { RawImap } from "../helpers/raw-imap";

const MESSAGES = 40;
const MESSAGE_BYTES = 400 * 1024;
const READERS = 4;
/** An attachment, not text: the search index leaves its body alone, so the mailbox fills quickly. */
const ATTACHMENT = "MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n";

let imap: Awaited<ReturnType<typeof startImap>>;

beforeAll(async () => {
  imap = await startImap();
  const inbox = imap.account.requireMailbox("INBOX");
  for (let n = 1; n <= MESSAGES; n++) {
    const body = randomBytes((MESSAGE_BYTES * 3) / 4).toString("base64").replace(/.{76}/g, "$&\r\n");
    inbox.add(Buffer.from(`From: a@example.org\r\nSubject: message ${n}\r\nMessage-ID: <m${n}@example.org>\r\n${ATTACHMENT}\r\n${body}\r\n`));
  }
}, 120_000);

afterAll(() => imap?.stop());

/** Bytes the process holds in buffers outside the JS heap (socket write queues among them). */
function bufferedBytes(): number {
  return process.memoryUsage().arrayBuffers;
}

describe("readers that stop reading in the middle of FETCH 1:* BODY[]", () => {
  it("cost the daemon a backlog each, not the mailbox, and get everything once they read again", async () => {
    const readers: RawImap[] = [];
    for (let n = 0; n < READERS; n++) {
      const reader = await RawImap.connect(imap.port);
      expect(await reader.command("a", `LOGIN ${ADDRESS} ${imap.token}`)).toMatch(/^a OK/m);
      expect(await reader.command("b", "SELECT INBOX")).toMatch(/^b OK/m);
      readers.push(reader);
    }
    const before = bufferedBytes();
    for (const reader of readers) {
      reader.pause();
      reader.write("c FETCH 1:* BODY[]\r\n");
    }
    // Give the server time to produce all it would: unfixed, every batch of messages.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const grown = bufferedBytes() - before;
    // Each reader costs the backlog and a message or two beyond it; producing
    // the whole answer for every reader costs the mailbox each. The line sits
    // halfway between, for the process allocates other buffers meanwhile.
    expect(READERS * (OUTPUT_BACKLOG_BYTES + 2 * MESSAGE_BYTES)).toBeLessThan((READERS * MESSAGES * MESSAGE_BYTES) / 2);
    expect(grown).toBeLessThan((READERS * MESSAGES * MESSAGE_BYTES) / 2);

    // The FETCH was only waiting: a reader that reads again gets every message.
    readers[0]!.resume();
    const answer = await readers[0]!.readUntil((text) => /\r\nc OK[^\r\n]*\r\n$/.test(text), 60_000);
    expect(answer.match(/^\* \d+ FETCH \(BODY\[\] \{\d+\}\r\n/gm)).toHaveLength(MESSAGES);
    for (const reader of readers) reader.close();
  }, 120_000);
});
