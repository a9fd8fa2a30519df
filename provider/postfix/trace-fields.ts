// The trace fields the provider adds to each recipient's copy before it is
// encrypted (RFC 5321 4.4): Received for the hop from Postfix to us, and
// Delivered-To naming the mailbox it was delivered to.

export function traceFields(options: { domain: string; transactionId: string; recipient: string; date: Date }): string {
  const { domain, transactionId, recipient, date } = options;
  const when = date.toUTCString().replace("GMT", "+0000");
  return `Received: from localhost (Postfix) by ${domain} (Bitmask provider) with LMTP id ${transactionId}\r\n\tfor <${recipient}>; ${when}\r\nDelivered-To: ${recipient}\r\n`;
}
