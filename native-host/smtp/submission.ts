// The one outgoing path: what the SMTP gateway does with a message once its
// client has named the recipients, and what the control API's mail.send does
// with a message composed in the web reader or bitmaskctl. Each recipient's
// key is looked up (under "always encrypt" a recipient without one is
// refused), the message is signed and encrypted per recipient, key use is
// recorded, and the copies go to the Outbox.
import type { PublicKeyInfo } from "../keys/keymanager-api";
import type { Sender } from "./gateway";
import type { SubmissionOutcome } from "./outbox";
import { prepareDeliveries } from "./outgoing-message";
import { SmtpReplyError } from "./smtp-reply";

/** A recipient and the key found for it (null: none, the copy is only signed). */
export type Recipient = { address: string; found: PublicKeyInfo | null };

export type Submitted = { outcome: SubmissionOutcome; encrypted: number; signedOnly: number };

/** Under "always encrypt", a recipient without a key: 550, naming it and why no key was taken. */
export class NoEncryptionKeyRefusal extends SmtpReplyError {
  constructor(readonly address: string, reasons: string[]) {
    const why = reasons.length > 0 ? ` (${reasons.join("; ")})` : "";
    super(550, "5.7.1", `no encryption key for <${address}>${why}, and this account sends only encrypted mail`);
    this.name = "NoEncryptionKeyRefusal";
  }
}

export async function lookUpRecipient(sender: Sender, address: string): Promise<Recipient> {
  const { key, refusals } = await sender.keys.findEncryptionKey(address);
  if (!key && sender.alwaysEncrypt()) throw new NoEncryptionKeyRefusal(address, refusals.map((refusal) => refusal.reason));
  return { address, found: key };
}

export async function submitMessage(sender: Sender, message: Buffer, recipients: readonly Recipient[]): Promise<Submitted> {
  const [own, autocrypt] = await Promise.all([sender.keys.ownKey(), sender.keys.autocryptHeader()]);
  const prepared = await prepareDeliveries(
    message,
    own,
    recipients.map(({ address, found }) => ({ address, key: found?.key ?? null })),
    autocrypt,
  );
  for (const { address, found } of recipients) {
    if (found && prepared.encryptedByUs) await sender.keys.recordKeyUse(address, found.fingerprint, "encryption");
  }
  const outcome = await sender.outbox.submit({ from: sender.address, original: message, deliveries: prepared.deliveries });
  return { outcome, encrypted: prepared.encrypted, signedOnly: prepared.signedOnly };
}
