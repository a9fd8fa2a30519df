// Delivery to this provider's own users, shared by the MX and the submission
// relay: the recipient checks made at RCPT time, and the encryption of the
// accepted message to each recipient's published key before it is stored in
// their incoming queue. Plaintext mail is never written anywhere.
import type { Logger } from "pino";
import { encryptMail } from "../keys/public-key";
import type { Clock } from "../options";
import type { AccountStore, User } from "../storage/accounts";
import type { IncomingStore } from "../storage/incoming-store";
import type { KeyDirectoryStore } from "../storage/key-directory";
import type { Usage } from "../storage/usage";
import { type SmtpRefusal, smtpRefusal } from "./smtp-reply";

export type LocalRecipient = { address: string; user: User };

export class LocalDelivery {
  constructor(
    readonly domain: string,
    private readonly accounts: AccountStore,
    private readonly keyDirectory: KeyDirectoryStore,
    private readonly incoming: IncomingStore,
    private readonly usage: Usage,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  isLocal(address: string): boolean {
    return domainOf(address) === this.domain;
  }

  /** The RCPT TO decision for an address of this domain; `size` is the
   * client's declared message size (SIZE=), 0 when not given. */
  check(address: string, size: number): LocalRecipient | SmtpRefusal {
    const normalized = address.toLowerCase();
    const user = this.accounts.userByName(localPartOf(normalized));
    if (!user) return smtpRefusal(550, "5.1.1 No such user here");
    if (this.keyDirectory.get(normalized) === undefined) return smtpRefusal(450, "4.7.13 No public key found for this user");
    if (this.usage.used(user.id) >= this.usage.quotaBytes || this.usage.wouldExceed(user.id, size)) {
      return smtpRefusal(452, "4.2.2 Mailbox full");
    }
    return { address: normalized, user };
  }

  /** A local sender a bounce can go to (regardless of quota: a bounce must
   * not be lost), or null when they have no account or no key. */
  bounceRecipient(address: string): LocalRecipient | null {
    const normalized = address.toLowerCase();
    const user = this.isLocal(normalized) ? this.accounts.userByName(localPartOf(normalized)) : undefined;
    if (!user || this.keyDirectory.get(normalized) === undefined) return null;
    return { address: normalized, user };
  }

  /**
   * Encrypts `raw` to each recipient's key, then stores every copy in one
   * transaction, so a failure leaves nothing stored and the sender retries.
   * `inTransaction` runs inside that transaction (the relay queues its
   * remote recipients there).
   */
  async deliver(recipients: readonly LocalRecipient[], raw: Buffer, inTransaction: () => void = () => {}): Promise<void> {
    const copies: { userId: number; data: Buffer }[] = [];
    for (const recipient of recipients) {
      // Looked up again: the key may have changed since RCPT.
      const key = this.keyDirectory.get(recipient.address);
      if (key === undefined) throw smtpRefusal(451, "4.7.13 The recipient's public key went away; try again later");
      copies.push({ userId: recipient.user.id, data: Buffer.from(await encryptMail(raw, key), "utf8") });
    }
    this.incoming.add(copies, this.clock.now(), inTransaction);
    if (copies.length > 0) this.log.info({ event: "mx-stored", users: recipients.map((r) => r.user.username), bytes: raw.length }, "mail stored");
  }
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1).toLowerCase();
}

export function localPartOf(address: string): string {
  return address.slice(0, address.lastIndexOf("@")).toLowerCase();
}
