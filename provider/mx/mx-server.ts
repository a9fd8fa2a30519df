// The MX: receives mail for this provider's domain from anywhere (no AUTH),
// refuses what it cannot deliver at RCPT time, and stores the rest encrypted
// to each recipient's key (LocalDelivery).
import type { Logger } from "pino";
import { SMTPServer } from "smtp-server";
import type { LocalDelivery } from "./local-delivery";
import { localRecipientHandlers } from "./local-recipients";
import { answer, baseSmtpOptions, readMessage } from "./smtp-common";

export function createMxServer(options: {
  delivery: LocalDelivery;
  maxMessageBytes: number;
  tls: { cert: string; key: string } | undefined;
  log: Logger;
}): SMTPServer {
  const { delivery, log } = options;
  const { recipients, onMailFrom, onRcptTo, onClose } = localRecipientHandlers(delivery, log, "5.7.1 Relaying denied");
  return new SMTPServer({
    ...baseSmtpOptions(delivery.domain, options.maxMessageBytes, options.tls),
    banner: "Bitmask provider MX",
    disabledCommands: ["AUTH"],
    onMailFrom,
    onRcptTo,
    onData: answer(log, async (stream, session) => {
      try {
        const raw = await readMessage(stream);
        await delivery.deliver(recipients.get(session), raw);
        log.info({ event: "mx-accepted", recipients: recipients.get(session).length, bytes: raw.length }, "mail accepted");
        return "2.0.0 Accepted, stored encrypted";
      } finally {
        recipients.end(session);
      }
    }),
    onClose,
  });
}
