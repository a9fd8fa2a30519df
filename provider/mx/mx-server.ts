// The MX: receives mail for this provider's domain from anywhere (no AUTH),
// refuses what it cannot deliver at RCPT time, and stores the rest encrypted
// to each recipient's key (LocalDelivery).
import type { Logger } from "pino";
import { SMTPServer } from "smtp-server";
import { type LocalDelivery, type LocalRecipient } from "./local-delivery";
import { answer, baseSmtpOptions, declaredSize, readMessage, Transactions } from "./smtp-common";
import { smtpRefusal } from "./smtp-reply";

export function createMxServer(options: {
  delivery: LocalDelivery;
  maxMessageBytes: number;
  tls: { cert: string; key: string } | undefined;
  log: Logger;
}): SMTPServer {
  const { delivery, log } = options;
  const recipients = new Transactions<LocalRecipient[]>(() => []);
  return new SMTPServer({
    ...baseSmtpOptions(delivery.domain, options.maxMessageBytes, options.tls),
    banner: "Bitmask provider MX",
    disabledCommands: ["AUTH"],
    onMailFrom: answer(log, async (_address, session) => {
      recipients.begin(session);
      return undefined;
    }),
    onRcptTo: answer(log, async (address, session) => {
      if (!delivery.isLocal(address.address)) throw smtpRefusal(550, "5.7.1 Relaying denied");
      const checked = delivery.check(address.address, declaredSize(session));
      if (checked instanceof Error) throw checked;
      recipients.get(session).push(checked);
      return undefined;
    }),
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
    onClose: (session) => recipients.end(session),
  });
}
