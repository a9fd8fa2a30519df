// The outgoing queue: kept in the encrypted store across restarts, retried
// on its backoff schedule, and bounced into INBOX when the provider refuses
// for good or the delivery is still failing after QUEUE_GIVE_UP_AFTER_MS.
// The relay is the recording TLS sink; time is a hand-driven clock.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Bounce } from "../../native-host/smtp/bounce";
import { deliverBounce } from "../../native-host/smtp/bounce";
import { QUEUE_GIVE_UP_AFTER_MS, QUEUE_RETRY_DELAYS_MS } from "../../native-host/smtp/limits";
import { OutgoingQueue } from "../../native-host/smtp/outgoing-queue";
import { SmtpSubmissionRelay } from "../../native-host/smtp/relay";
import { ManualClock, SENDER } from "../helpers/smtp-gateway";
import { SmtpSink, selfSignedCertificate } from "../helpers/smtp-sink";
import { openTempAccount } from "../helpers/temp-store";

const credential = { user: SENDER, pass: "provider-session-token" };
const original = Buffer.from(`From: ${SENDER}\r\nTo: bob@example.net\r\nSubject: Queued\r\n\r\nHello.\r\n`);
const prepared = (to: string) => Buffer.from(`From: ${SENDER}\r\nTo: ${to}\r\nSubject: prepared for ${to}\r\n\r\nsigned or encrypted\r\n`);

describe("the outgoing queue", () => {
  let sink: SmtpSink;
  let temp: Awaited<ReturnType<typeof openTempAccount>>;
  let clock: ManualClock;
  let bounces: Bounce[];
  const queues: OutgoingQueue[] = [];

  beforeAll(async () => {
    sink = new SmtpSink({ tls: "implicit", certificate: await selfSignedCertificate(), credential });
    await sink.start();
  });
  afterAll(() => sink.stop());

  beforeEach(async () => {
    temp = await openTempAccount();
    clock = new ManualClock();
    bounces = [];
    sink.received.length = 0;
    sink.recipientReply = () => null;
  });
  afterEach(async () => {
    for (const queue of queues.splice(0)) await queue.stop();
    temp.close();
  });

  function startQueue(): OutgoingQueue {
    const relay = new SmtpSubmissionRelay({ host: "127.0.0.1", port: sink.port, tls: "implicit", ca: sink.ca, credential: () => credential });
    const bounce = (failed: Bounce) => {
      bounces.push(failed);
      deliverBounce(temp.account, failed);
    };
    const queue = new OutgoingQueue({ store: temp.store, relay, bounce, clock });
    queues.push(queue);
    queue.start();
    return queue;
  }

  /** Moves the clock to the next due retry and waits for that retry. */
  async function nextRetry(queue: OutgoingQueue): Promise<void> {
    const due = Math.min(...queue.pending().map((entry) => entry.nextAttemptAt));
    clock.advance(due - clock.now());
    await queue.retryDue();
  }

  it("survives a restart: what one run queued, the next delivers", async () => {
    const first = startQueue();
    first.enqueue({ from: SENDER, original, deliveries: [{ recipients: ["bob@example.net"], message: prepared("bob") }], error: "451 4.2.1 later" });
    await first.stop();

    const second = startQueue();
    expect(second.pending()).toMatchObject([{ recipients: ["bob@example.net"], attempts: 0 }]);
    await nextRetry(second);
    expect(sink.received).toEqual([{ from: SENDER, to: ["bob@example.net"], raw: prepared("bob") }]);
    expect(second.pending()).toEqual([]);
    expect(temp.store.allOfType("outgoing")).toEqual([]);
  });

  it("retries on its backoff schedule while the provider defers", async () => {
    sink.recipientReply = () => "451 4.3.2 busy";
    const queue = startQueue();
    const queuedAt = clock.now();
    queue.enqueue({ from: SENDER, original, deliveries: [{ recipients: ["bob@example.net"], message: prepared("bob") }], error: "451 4.3.2 busy" });
    const waits: number[] = [];
    let last = queuedAt;
    for (let attempt = 0; attempt < QUEUE_RETRY_DELAYS_MS.length + 1; attempt++) {
      const [entry] = queue.pending();
      waits.push(entry!.nextAttemptAt - last);
      last = entry!.nextAttemptAt;
      await nextRetry(queue);
    }
    expect(waits).toEqual([...QUEUE_RETRY_DELAYS_MS, QUEUE_RETRY_DELAYS_MS[QUEUE_RETRY_DELAYS_MS.length - 1]]);
    expect(queue.pending()).toMatchObject([{ attempts: QUEUE_RETRY_DELAYS_MS.length + 1, lastError: "451 4.3.2 busy" }]);
    expect(sink.received).toEqual([]);
  });

  it("bounces a recipient the provider refuses for good on a retry, and keeps trying the others", async () => {
    const queue = startQueue();
    queue.enqueue({
      from: SENDER,
      original,
      deliveries: [
        { recipients: ["carol@example.com"], message: prepared("carol") },
        { recipients: ["dave@example.org"], message: prepared("dave") },
      ],
      error: "451 4.2.1 later",
    });
    sink.recipientReply = (address) => (address === "carol@example.com" ? "550 5.1.1 carol has left" : "451 4.2.1 still later");
    await nextRetry(queue);
    expect(bounces).toEqual([{ from: SENDER, original, failures: [{ recipient: "carol@example.com", reason: "550 5.1.1 carol has left" }] }]);
    expect(queue.pending()).toMatchObject([{ recipients: ["dave@example.org"], attempts: 1 }]);
  });

  it("gives up after QUEUE_GIVE_UP_AFTER_MS of an unreachable relay, with a bounce in INBOX naming the recipient", async () => {
    const queue = startQueue();
    queue.enqueue({ from: SENDER, original, deliveries: [{ recipients: ["bob@example.net"], message: prepared("bob") }], error: "unreachable" });
    await sink.stop();
    try {
      const queuedAt = clock.now();
      while (queue.pending().length > 0) await nextRetry(queue);
      expect(clock.now() - queuedAt).toBeGreaterThanOrEqual(QUEUE_GIVE_UP_AFTER_MS);
      expect(clock.now() - queuedAt).toBeLessThan(QUEUE_GIVE_UP_AFTER_MS + QUEUE_RETRY_DELAYS_MS[QUEUE_RETRY_DELAYS_MS.length - 1]!);
    } finally {
      await sink.start();
    }
    expect(bounces).toHaveLength(1);
    expect(bounces[0]!.failures).toMatchObject([{ recipient: "bob@example.net", reason: expect.stringMatching(/^still not delivered after 5 days: .*unreachable/) }]);
    const inbox = temp.account.requireMailbox("INBOX");
    const bounce = inbox.get(inbox.uids()[0]!)!.raw().toString("utf8");
    expect(bounce).toContain("To: <alice@example.org>");
    expect(bounce).toContain("Subject: Undelivered Mail Returned to Sender");
    expect(bounce).toContain("bob@example.net: still not delivered after 5 days");
    expect(bounce).toContain(original.toString());
    expect(temp.store.allOfType("outgoing")).toEqual([]);
  });
});
