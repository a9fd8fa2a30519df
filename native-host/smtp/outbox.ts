// What happens to a message once it is signed and encrypted: relayed to the
// provider while the client waits, and the client's answer follows from what
// the provider did. The rule is that no message is lost, none is silently
// half-sent, and none is sent twice by a client retrying:
//
// - every recipient taken by the provider: 250.
// - nobody taken, and the provider is unreachable or deferred at least one
//   recipient: 451 (4.4.1 when unreachable). Nothing went out, so the client
//   keeps the message and sending it again later is exactly right; this is
//   why an unreachable relay is not queued: Thunderbird tells the user at
//   once and keeps the message in its outbox.
// - nobody taken, every recipient refused for good: 550 (or the provider's
//   own 5xx code) with the provider's reply, so the user sees why.
// - some recipients taken, others not: the client must get 250, since a
//   4xx/5xx would make it send the whole message again to those who already
//   have it. The deferred recipients go to the persistent queue (retried,
//   bounced if it never works), the refused ones get a bounce in INBOX now,
//   and the 250 text says what happened.
import type { Bounce } from "./bounce";
import { type Delivery, deliverRound } from "./delivery";
import type { OutgoingQueue } from "./outgoing-queue";
import type { RelayError, SubmissionRelay } from "./relay";
import { SmtpReplyError } from "./smtp-reply";

export type Submission = {
  from: string;
  /** The message as the client submitted it (for a bounce). */
  original: Buffer;
  deliveries: Delivery[];
};

export type SubmissionOutcome = {
  delivered: string[];
  queued: string[];
  bounced: string[];
  /** The text of the 250 reply. */
  reply: string;
};

export class Outbox {
  constructor(
    private readonly relay: SubmissionRelay,
    private readonly queue: OutgoingQueue,
    private readonly bounce: (bounce: Bounce) => void,
  ) {}

  /** Relays a submission; resolves with the outcome for a 250, or throws the
   * SmtpReplyError the client must get (see the rule above). */
  async submit({ from, original, deliveries }: Submission): Promise<SubmissionOutcome> {
    const round = await deliverRound(this.relay, from, deliveries);
    const deferred = round.remaining.flatMap((delivery) => delivery.recipients);
    const refused = round.refused.map((failure) => failure.recipient);
    if (round.delivered.length === 0 && round.deferral) throw deferralReply(round.deferral, [...deferred, ...refused]);
    if (round.delivered.length === 0) throw refusalReply(round.refused);

    if (round.deferral) this.queue.enqueue({ from, original, deliveries: round.remaining, error: round.deferral.reason });
    if (round.refused.length > 0) {
      this.bounce({ from, original, failures: round.refused.map(({ recipient, error }) => ({ recipient, reason: error.reason })) });
    }
    const notes = [
      deferred.length > 0 ? `queued for ${deferred.join(", ")} (the provider deferred them; retrying)` : "",
      refused.length > 0 ? `refused for ${refused.join(", ")} (see the bounce in INBOX)` : "",
    ].filter(Boolean);
    const reply = `sent to ${round.delivered.length} recipient(s)${notes.length > 0 ? `; ${notes.join("; ")}` : ""}`;
    return { delivered: round.delivered, queued: deferred, bounced: refused, reply };
  }
}

/** Nothing was sent and trying later may work. */
function deferralReply(error: RelayError, recipients: string[]): SmtpReplyError {
  const enhanced = error.kind === "unreachable" ? "4.4.1" : (enhancedCodeOf(error.reply, "4") ?? "4.0.0");
  return new SmtpReplyError(451, enhanced, `not sent to anyone, try again later: ${describe(error)} (for ${recipients.join(", ")})`);
}

/** Nothing was sent and the provider refused every recipient for good. */
function refusalReply(refused: { recipient: string; error: RelayError }[]): SmtpReplyError {
  const first = refused[0]?.error;
  const code = Number(first?.reply?.slice(0, 3)) || 550;
  const enhanced = enhancedCodeOf(first?.reply ?? null, "5") ?? "5.0.0";
  const reasons = refused.map(({ recipient, error }) => `${recipient}: ${describe(error)}`).join("; ");
  return new SmtpReplyError(code >= 500 && code < 600 ? code : 550, enhanced, `not sent to anyone: ${reasons}`);
}

/** What went wrong, with the provider's own words when it said something. */
function describe(error: RelayError): string {
  return error.reply ? `${error.message}: "${error.reply}"` : error.message;
}

/** The RFC 3463 code in an SMTP reply such as "550 5.1.1 no such user". */
function enhancedCodeOf(reply: string | null, klass: "4" | "5"): string | null {
  const match = reply ? /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b/.exec(reply) : null;
  return match?.[1]?.startsWith(klass) ? match[1] : null;
}
