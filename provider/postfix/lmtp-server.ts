// Delivery from Postfix (LMTP on a Unix socket): Postfix has already refused
// unknown recipients (recipient-lookup.ts) and queues, retries and bounces
// for us. Each recipient gets its own reply (LMTP): the checks are made
// again (the key or quota may have changed), SPF/DKIM/DMARC are evaluated
// once, and each copy gets the Authentication-Results and trace fields
// before it is encrypted to that recipient's key and stored.
import type { Logger } from "pino";
import { SMTPServer } from "smtp-server";
import type { Clock } from "../options";
import type { LocalDelivery } from "../mx/local-delivery";
import { localRecipientHandlers } from "../mx/local-recipients";
import { answer, baseSmtpOptions, readMessage } from "../mx/smtp-common";
import { smtpRefusal } from "../mx/smtp-reply";
import type { Authenticator } from "./authentication";
import { traceFields } from "./trace-fields";

export function createLmtpServer(options: {
  delivery: LocalDelivery;
  authenticate: Authenticator;
  maxMessageBytes: number;
  clock: Clock;
  log: Logger;
}): SMTPServer {
  const { delivery, authenticate, clock, log } = options;
  const { recipients, onMailFrom, onRcptTo, onClose } = localRecipientHandlers(delivery, log, "5.1.2 Not a mailbox of this domain");
  return new SMTPServer({
    ...baseSmtpOptions(delivery.domain, options.maxMessageBytes, undefined),
    lmtp: true,
    banner: "Bitmask provider LMTP",
    disabledCommands: ["AUTH", "STARTTLS"],
    // Postfix tells the original client's address and HELO name; only
    // Postfix can reach this socket (unix-socket.ts).
    useXForward: true,
    onMailFrom,
    onRcptTo,
    onData: answer(log, async (stream, session) => {
      try {
        const raw = await readMessage(stream);
        const mailFrom = session.envelope.mailFrom;
        // Mail Postfix made itself (delay notices, bounces) or took from a
        // local program has no client to check: SPF and DMARC would fail it.
        const verdict =
          session.xForward?.get("SOURCE") === "LOCAL"
            ? { fields: `Authentication-Results: ${delivery.domain}; none (sent from the mail host itself)\r\n`, refusal: null }
            : await authenticate(raw, {
                ip: session.remoteAddress,
                helo: session.xForward?.get("HELO") as string | undefined,
                sender: mailFrom ? mailFrom.address : "",
              });
        if (verdict.refusal) {
          log.info({ event: "lmtp-dmarc-reject" }, "refused by the sender domain's DMARC policy");
          throw smtpRefusal(550, verdict.refusal);
        }
        const replies: (string | Error)[] = [];
        for (const recipient of recipients.get(session)) {
          const trace = traceFields({ domain: delivery.domain, transactionId: session.id, recipient: recipient.address, date: new Date(clock.now()) });
          try {
            await delivery.deliver([recipient], Buffer.concat([Buffer.from(verdict.fields + trace, "utf8"), raw]));
            replies.push(`2.0.0 <${recipient.address}> stored encrypted`);
          } catch (error) {
            if (!(error instanceof Error && "responseCode" in error)) throw error;
            replies.push(error);
          }
        }
        return replies;
      } finally {
        recipients.end(session);
      }
    }),
    onClose,
  });
}
