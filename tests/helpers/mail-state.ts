// What a device holds, in a form two devices can be compared by: every
// mailbox (name, UIDVALIDITY, subscription) and in it every message by
// Message-ID with a hash of its exact bytes and its flags. UIDs are per
// device and left out.
import { createHash } from "node:crypto";
import type { Account } from "../../native-host/mail/account";

export type MessageState = { messageId: string | null; sha256: string; flags: string[] };
export type MailboxState = { name: string; uidValidity: number; subscribed: boolean; messages: MessageState[] };

export const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

export function mailState(mail: Account): MailboxState[] {
  return mail.list().map((info) => {
    const box = mail.requireMailbox(info.name);
    const messages = box
      .messages(box.uids())
      .map((message) => ({ messageId: message.messageId, sha256: sha256(message.raw()), flags: [...message.flags].sort() }))
      .sort((a, b) => compare(`${a.messageId} ${a.sha256}`, `${b.messageId} ${b.sha256}`));
    return { name: info.name, uidValidity: info.uidValidity, subscribed: info.subscribed, messages };
  });
}

/** How many times each Message-ID is in the mailbox. */
export function messageIdCounts(mail: Account, mailbox = "INBOX"): Map<string, number> {
  const counts = new Map<string, number>();
  const box = mail.requireMailbox(mailbox);
  for (const message of box.messages(box.uids())) {
    const id = message.messageId ?? "(none)";
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
