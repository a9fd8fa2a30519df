// The envelope handling the MX and the LMTP service share: a transaction
// starts at MAIL FROM and each RCPT TO gets the local delivery's checks.
import type { Logger } from "pino";
import type { LocalDelivery, LocalRecipient } from "./local-delivery";
import { answer, declaredSize, Transactions } from "./smtp-common";
import { smtpRefusal } from "./smtp-reply";

export function localRecipientHandlers(delivery: LocalDelivery, log: Logger, notLocal: string) {
  const recipients = new Transactions<LocalRecipient[]>(() => []);
  return {
    recipients,
    onMailFrom: answer(log, async (_address: unknown, session: Parameters<typeof recipients.begin>[0]) => {
      recipients.begin(session);
      return undefined;
    }),
    onRcptTo: answer(log, async (address: { address: string }, session: Parameters<typeof recipients.begin>[0]) => {
      if (!delivery.isLocal(address.address)) throw smtpRefusal(550, notLocal);
      const checked = delivery.check(address.address, declaredSize(session));
      if (checked instanceof Error) throw checked;
      recipients.get(session).push(checked);
      return undefined;
    }),
    onClose: (session: Parameters<typeof recipients.end>[0]) => recipients.end(session),
  };
}
