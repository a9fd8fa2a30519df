// Works through the relay queue: delivers each due recipient through its
// domain's route, retries temporary failures after the configured delays,
// and after a permanent failure or the last retry puts a bounce in the
// sender's incoming queue (encrypted like any incoming mail).
import type { Logger } from "pino";
import { domainOf, type LocalDelivery } from "../mx/local-delivery";
import type { Clock, Route } from "../options";
import type { DueRecipient, RelayMessage, RelayQueue } from "../storage/relay-queue";
import { bounceMessage } from "./bounce";
import type { MessageSigner } from "./dkim-signer";
import { deliverToRoute, type Outcome } from "./outbound-smtp";

export class RelayWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private runAgain = false;
  private stopped = false;

  constructor(
    private readonly options: {
      queue: RelayQueue;
      routes: ReadonlyMap<string, Route>;
      /** Takes mail for every domain without a static route (Postfix). */
      smarthost?: Route;
      /** Signs each message before it leaves (DKIM). */
      sign?: MessageSigner;
      delivery: LocalDelivery;
      retryDelaysMs: readonly number[];
      clock: Clock;
      log: Logger;
    },
  ) {}

  hasRoute(address: string): boolean {
    return this.options.smarthost !== undefined || this.options.routes.has(domainOf(address));
  }

  /** Look at the queue now (after new mail was queued, or at start). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.runAgain = true;
      return;
    }
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    this.running = this.runDue()
      .catch((error: unknown) => this.options.log.error({ event: "relay-error", err: String(error) }, "relay run failed"))
      .finally(() => {
        this.running = null;
        if (this.runAgain) {
          this.runAgain = false;
          this.wake();
        } else this.scheduleNext();
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    const { clock, queue } = this.options;
    const next = queue.nextDueAt();
    if (next === null) return;
    this.timer = clock.setTimeout(() => this.wake(), Math.max(0, next - clock.now()));
  }

  private async runDue(): Promise<void> {
    const { queue, clock } = this.options;
    // One SMTP transaction per message and domain.
    const groups = new Map<string, DueRecipient[]>();
    for (const due of queue.due(clock.now())) {
      const key = `${due.messageId} ${domainOf(due.recipient)}`;
      groups.set(key, [...(groups.get(key) ?? []), due]);
    }
    for (const recipients of groups.values()) {
      const first = recipients[0];
      const message = first && queue.message(first.messageId);
      if (message) await this.attempt(message, recipients);
    }
  }

  private async attempt(message: RelayMessage, recipients: DueRecipient[]): Promise<void> {
    const { routes, smarthost, sign, delivery, log } = this.options;
    const domain = domainOf(recipients[0]?.recipient ?? "");
    const route = routes.get(domain) ?? smarthost;
    const outcomes: Map<string, Outcome> = route
      ? await deliverToRoute(
          route,
          delivery.domain,
          message.mailFrom,
          recipients.map((r) => r.recipient),
          sign ? await sign(message.message) : message.message,
        )
      : new Map(recipients.map((r) => [r.recipient, { kind: "permanent", reason: "550 5.1.2 No route to the recipient's domain" }]));
    for (const recipient of recipients) {
      const outcome = outcomes.get(recipient.recipient) ?? { kind: "temporary", reason: "no answer for this recipient" };
      log.info({ event: "relay-attempt", queueId: message.id, domain, attempt: recipient.attempts + 1, outcome: outcome.kind }, "relay attempt");
      await this.settle(message, recipient, outcome);
    }
  }

  private async settle(message: RelayMessage, recipient: DueRecipient, outcome: Outcome): Promise<void> {
    const { queue, retryDelaysMs, clock } = this.options;
    if (outcome.kind === "delivered") {
      queue.finish(message.id, recipient.recipient);
      return;
    }
    const attempts = recipient.attempts + 1;
    const delay = retryDelaysMs[attempts - 1];
    if (outcome.kind === "temporary" && delay !== undefined) {
      queue.scheduleRetry(message.id, recipient.recipient, attempts, clock.now() + delay, outcome.reason);
      return;
    }
    try {
      await this.bounce(message, recipient.recipient, outcome.reason);
    } catch (error) {
      // Kept in the queue it would be retried at once, forever.
      this.options.log.error({ event: "bounce-failed", queueId: message.id, err: String(error) }, "bounce could not be stored");
    }
    queue.finish(message.id, recipient.recipient);
  }

  private async bounce(message: RelayMessage, recipient: string, reason: string): Promise<void> {
    const { delivery, clock, log } = this.options;
    const sender = delivery.bounceRecipient(message.mailFrom);
    if (!sender) {
      // Nowhere to put it encrypted (the sender removed their key or account).
      log.warn({ event: "bounce-dropped", queueId: message.id }, "bounce dropped: sender has no key");
      return;
    }
    const raw = bounceMessage({
      domain: delivery.domain,
      sender: message.mailFrom,
      recipient,
      reason,
      original: message.message,
      date: new Date(clock.now()),
    });
    await delivery.deliver([sender], raw);
    log.info({ event: "bounced", queueId: message.id, user: sender.user.username }, "bounce stored");
  }
}
