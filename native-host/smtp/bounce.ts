// The bounce: when a message accepted from the client cannot be delivered to
// some recipients, a message in INBOX says so, naming each recipient with
// the reason, and carries the original as the client submitted it, so the
// user can send it again. (The client already had its 250; this is how the
// failure reaches the user instead of vanishing.)
import { randomBytes } from "node:crypto";
import type { Account } from "../mail/account";
import { decodeHeaderValue } from "../mail/searchable-text";
import { fieldValue, findField, formatEntity, multipartBody, newBoundary, newField, parseEntity, toCrlf } from "../pgp/mime-entity";

export const BOUNCE_FROM = "Bitmask Mail <bounce@localhost>";

export type BounceFailure = { recipient: string; reason: string };

export type Bounce = {
  /** The sender, to whom the bounce is addressed. */
  from: string;
  /** The message as the client submitted it. */
  original: Buffer;
  failures: readonly BounceFailure[];
};

/** Adds the bounce to INBOX, unread. */
export function deliverBounce(account: Pick<Account, "requireMailbox">, bounce: Bounce, now = new Date()): void {
  account.requireMailbox("INBOX").add(bounceMessage(bounce, now), { flags: [] });
}

export function bounceMessage({ from, original, failures }: Bounce, now: Date): Buffer {
  const originalSubject = findField(parseEntity(toCrlf(original)).fields, "Subject");
  const subject = originalSubject ? decodeHeaderValue(fieldValue(originalSubject)) : "(no subject)";
  const explanation = [
    "Bitmask Mail could not deliver your message to these recipients:",
    "",
    ...failures.map(({ recipient, reason }) => `  ${recipient}: ${reason}`),
    "",
    `Subject of your message: ${subject}`,
    "The original message is attached; you can send it again.",
    "",
  ].join("\r\n");
  const boundary = newBoundary();
  const textPart = formatEntity({
    fields: [newField("Content-Type", "text/plain; charset=utf-8"), newField("Content-Transfer-Encoding", "8bit")],
    body: Buffer.from(explanation, "utf8"),
  });
  const originalPart = formatEntity({
    fields: [
      newField("Content-Type", "message/rfc822"),
      newField("Content-Description", "Undelivered message"),
      newField("Content-Disposition", 'attachment; filename="original.eml"'),
    ],
    body: toCrlf(original),
  });
  return formatEntity({
    fields: [
      newField("From", BOUNCE_FROM),
      newField("To", `<${from}>`),
      newField("Subject", "Undelivered Mail Returned to Sender"),
      newField("Date", now.toUTCString().replace("GMT", "+0000")),
      newField("Message-ID", `<bounce-${randomBytes(12).toString("hex")}@localhost>`),
      newField("Auto-Submitted", "auto-replied"),
      newField("MIME-Version", "1.0"),
      newField("Content-Type", `multipart/mixed; boundary="${boundary}"`),
    ],
    body: multipartBody(boundary, "This is a multi-part message in MIME format.", [textPart, originalPart]),
  });
}
