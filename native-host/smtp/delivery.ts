// One round of relaying: each prepared copy to each of its recipients, one
// envelope per recipient (so no recipient, Bcc or not, shows up in another's
// envelope or Received line). Used both at submission time (outbox.ts) and
// for the retries of the queue (outgoing-queue.ts).
import { RelayError, type SubmissionRelay } from "./relay";

/** A prepared message and the recipients it is for. */
export type Delivery = { recipients: string[]; message: Buffer };

export type RecipientFailure = { recipient: string; error: RelayError };

export type DeliveryRound = {
  delivered: string[];
  /** Refused for good: these get a bounce. */
  refused: RecipientFailure[];
  /** Still to do (deferred, or not tried because the relay became unreachable). */
  remaining: Delivery[];
  /** Why the remaining ones are not delivered yet; null when none remain. */
  deferral: RelayError | null;
};

export async function deliverRound(relay: SubmissionRelay, from: string, deliveries: readonly Delivery[]): Promise<DeliveryRound> {
  const round: DeliveryRound = { delivered: [], refused: [], remaining: [], deferral: null };
  for (const delivery of deliveries) {
    const deferredRecipients: string[] = [];
    for (const recipient of delivery.recipients) {
      // Once the relay is unreachable, the rest would only wait for the same timeout.
      if (round.deferral?.kind === "unreachable") {
        deferredRecipients.push(recipient);
        continue;
      }
      try {
        await relay.submit({ from, to: [recipient] }, delivery.message);
        round.delivered.push(recipient);
      } catch (caught) {
        const error = asRelayError(caught);
        if (error.temporary) {
          deferredRecipients.push(recipient);
          round.deferral = error;
        } else round.refused.push({ recipient, error });
      }
    }
    if (deferredRecipients.length > 0) round.remaining.push({ recipients: deferredRecipients, message: delivery.message });
  }
  return round;
}

/** A relay that fails in a way it did not classify is treated as
 * unreachable: the message is kept and retried, never dropped. */
function asRelayError(error: unknown): RelayError {
  if (error instanceof RelayError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RelayError("unreachable", `relaying failed: ${message}`, null, { cause: error });
}
