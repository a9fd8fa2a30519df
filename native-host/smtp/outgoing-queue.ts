// The persistent retry queue: deliveries the provider deferred after the
// client already had its 250 (see outbox.ts for when that happens). Each
// queued submission is one `outgoing` document in the encrypted store, so it
// survives a restart; it is retried with growing delays, and when it still
// fails after QUEUE_GIVE_UP_AFTER_MS, or the provider refuses it for good,
// the recipients concerned are named in a bounce in INBOX.
import { randomBytes } from "node:crypto";
import type { ContentOf } from "../../shared/documents";
import type { Bounce } from "./bounce";
import { type Delivery, deliverRound } from "./delivery";
import { QUEUE_GIVE_UP_AFTER_MS, QUEUE_RETRY_DELAYS_MS } from "./limits";
import type { SubmissionRelay } from "./relay";

export type OutgoingContent = ContentOf<"outgoing">;

/** The document store as the queue uses it (native-host/store's
 * DocumentStore fits): SMTP keeps to this much and never reaches SQL. */
export interface QueueStore {
  put(type: "outgoing", id: string, content: OutgoingContent): unknown;
  delete(id: string): void;
  allOfType(type: "outgoing"): { id: string; content: OutgoingContent | null }[];
  /** Runs fn in one transaction; the bounce (added to INBOX in the same
   * store) and the queue update commit together, so a crash between them
   * can neither lose a bounce nor bounce twice. */
  transaction<T>(fn: () => T): T;
}

/** Time as the queue sees it; tests drive it by hand. */
export type QueueClock = {
  now(): number;
  /** Calls back once after `delayMs`; returns a function that cancels it. */
  setTimer(delayMs: number, callback: () => void): () => void;
};

export const systemClock: QueueClock = {
  now: () => Date.now(),
  setTimer(delayMs, callback) {
    const timer = setTimeout(callback, delayMs);
    // A pending retry must not keep the daemon alive on shutdown.
    timer.unref();
    return () => clearTimeout(timer);
  },
};

export type QueueOptions = {
  store: QueueStore;
  relay: SubmissionRelay;
  /** Puts a bounce in INBOX (bounce.ts deliverBounce). */
  bounce(bounce: Bounce): void;
  clock?: QueueClock;
  /** A retry run that failed for another reason than the relay (the store,
   * a bug): reported here, and the queue keeps its schedule. */
  onError?(error: unknown): void;
};

export type QueuedSubmission = { from: string; original: Buffer; deliveries: Delivery[]; error: string };

export class OutgoingQueue {
  private cancelTimer: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  private readonly store: QueueStore;
  private readonly relay: SubmissionRelay;
  private readonly bounce: (bounce: Bounce) => void;
  private readonly clock: QueueClock;
  private readonly onError: (error: unknown) => void;

  constructor(options: QueueOptions) {
    this.store = options.store;
    this.relay = options.relay;
    this.bounce = options.bounce;
    this.clock = options.clock ?? systemClock;
    this.onError = options.onError ?? (() => {});
  }

  /** Starts retrying, including what an earlier run left in the store. */
  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Stops the timer and waits for a retry under way to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
    await this.running;
  }

  /** Queues deliveries that failed for now; the first retry is after the first delay. */
  enqueue({ from, original, deliveries, error }: QueuedSubmission): string {
    const id = `Q-${randomBytes(12).toString("hex")}`;
    const now = this.clock.now();
    this.store.put("outgoing", id, {
      from,
      original: original.toString("base64"),
      deliveries: deliveries.map(({ recipients, message }) => ({ recipients, message: message.toString("base64") })),
      queuedAt: now,
      attempts: 0,
      nextAttemptAt: now + retryDelay(0),
      lastError: error,
    });
    this.schedule();
    return id;
  }

  /** What is queued, for `bitmaskctl` and tests (without the message bytes). */
  pending(): { id: string; from: string; recipients: string[]; attempts: number; nextAttemptAt: number; lastError: string }[] {
    return this.queued().map(({ id, content }) => ({
      id,
      from: content.from,
      recipients: content.deliveries.flatMap((delivery) => delivery.recipients),
      attempts: content.attempts,
      nextAttemptAt: content.nextAttemptAt,
      lastError: content.lastError,
    }));
  }

  /** Retries every queued submission that is due; one run at a time. */
  retryDue(): Promise<void> {
    this.running ??= this.retryDueNow().finally(() => {
      this.running = null;
      this.schedule();
    });
    return this.running;
  }

  private async retryDueNow(): Promise<void> {
    for (const { id, content } of this.queued()) {
      if (content.nextAttemptAt > this.clock.now()) continue;
      try {
        await this.retry(id, content);
      } catch (error) {
        this.onError(error);
        this.postpone(id, content, content.deliveries, error instanceof Error ? error.message : String(error));
      }
    }
  }

  private async retry(id: string, content: OutgoingContent): Promise<void> {
    const deliveries = content.deliveries.map(({ recipients, message }) => ({ recipients, message: Buffer.from(message, "base64") }));
    const round = await deliverRound(this.relay, content.from, deliveries);
    const original = Buffer.from(content.original, "base64");
    const failures = round.refused.map(({ recipient, error }) => ({ recipient, reason: error.reason }));
    const now = this.clock.now();
    const givingUp = round.remaining.length > 0 && now - content.queuedAt >= QUEUE_GIVE_UP_AFTER_MS;
    if (givingUp) {
      const reason = `still not delivered after ${formatDuration(now - content.queuedAt)}: ${round.deferral?.reason}`;
      for (const recipient of round.remaining.flatMap((delivery) => delivery.recipients)) failures.push({ recipient, reason });
    }
    this.store.transaction(() => {
      if (failures.length > 0) this.bounce({ from: content.from, original, failures });
      if (round.remaining.length === 0 || givingUp) {
        this.store.delete(id);
        return;
      }
      const remaining = round.remaining.map(({ recipients, message }) => ({ recipients, message: message.toString("base64") }));
      this.postpone(id, content, remaining, round.deferral?.reason ?? content.lastError);
    });
  }

  /** Writes back what is still to deliver, due after the next delay. */
  private postpone(id: string, content: OutgoingContent, deliveries: OutgoingContent["deliveries"], lastError: string): void {
    const attempts = content.attempts + 1;
    this.store.put("outgoing", id, { ...content, deliveries, attempts, nextAttemptAt: this.clock.now() + retryDelay(attempts), lastError });
  }

  private queued(): { id: string; content: OutgoingContent }[] {
    return this.store.allOfType("outgoing").flatMap(({ id, content }) => (content ? [{ id, content }] : []));
  }

  /** Arms the timer for the earliest due retry (none while a run is under way:
   * the run re-arms it when it ends). */
  private schedule(): void {
    if (this.stopped || this.running) return;
    this.cancelTimer?.();
    this.cancelTimer = null;
    const due = this.queued().map(({ content }) => content.nextAttemptAt);
    if (due.length === 0) return;
    const delay = Math.max(0, Math.min(...due) - this.clock.now());
    this.cancelTimer = this.clock.setTimer(delay, () => void this.retryDue().catch(this.onError));
  }
}

function retryDelay(attempts: number): number {
  return QUEUE_RETRY_DELAYS_MS[Math.min(attempts, QUEUE_RETRY_DELAYS_MS.length - 1)]!;
}

function formatDuration(ms: number): string {
  const hours = Math.round(ms / 3_600_000);
  return hours >= 48 ? `${Math.round(hours / 24)} days` : `${hours} hours`;
}
