// The bounce a sender gets when relayed mail could not be delivered: a
// delivery status notification (RFC 3464) with the original headers but not
// the original body.
import { randomBytes } from "node:crypto";

export function bounceMessage(options: {
  domain: string;
  sender: string;
  recipient: string;
  reason: string;
  original: Buffer;
  date: Date;
}): Buffer {
  const { domain, sender, recipient, reason, original, date } = options;
  const boundary = `bounce-${randomBytes(12).toString("hex")}`;
  const headerEnd = original.indexOf("\r\n\r\n");
  const originalHeaders = (headerEnd === -1 ? original : original.subarray(0, headerEnd + 2)).toString("latin1");
  const oneLine = reason.replace(/[\r\n]+/g, " ").trim();
  const status = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(oneLine)?.[1] ?? "5.0.0";
  const lines = [
    `From: Mail Delivery System <mailer-daemon@${domain}>`,
    `To: <${sender}>`,
    `Subject: Undelivered Mail Returned to Sender`,
    `Date: ${date.toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${randomBytes(16).toString("hex")}@${domain}>`,
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "",
    `Your message could not be delivered to ${recipient}.`,
    "",
    `The last attempt failed with: ${oneLine}`,
    "",
    `--${boundary}`,
    "Content-Type: message/delivery-status",
    "",
    `Reporting-MTA: dns; ${domain}`,
    "",
    `Final-Recipient: rfc822; ${recipient}`,
    "Action: failed",
    `Status: ${status.startsWith("4") ? "5" + status.slice(1) : status}`,
    `Diagnostic-Code: smtp; ${oneLine}`,
    "",
    `--${boundary}`,
    "Content-Type: text/rfc822-headers",
    "",
    originalHeaders.replace(/\r?\n$/, ""),
    "",
    `--${boundary}--`,
    "",
  ];
  return Buffer.from(lines.join("\r\n"), "latin1");
}
