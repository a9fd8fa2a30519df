// Small raw messages for tests of the mail model (the fixture corpus covers
// the odd shapes; these are the plain ones tests need by the hundred).

export function plainMessage(n: number, extra = ""): Buffer {
  return Buffer.from(
    `From: Sender ${n} <sender${n}@example.org>\r\nTo: alice@example.org\r\nSubject: Message ${n}\r\n` +
      `Message-ID: <msg${n}@example.org>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nBody of message ${n}.\r\n${extra}`,
  );
}

/** A multipart/mixed message with one text part and one base64 attachment. */
export function messageWithAttachment(n: number, attachment: Buffer, name = "file.bin"): Buffer {
  const base64 = attachment.toString("base64").replace(/.{76}/g, "$&\r\n");
  return Buffer.from(
    `From: sender${n}@example.org\r\nTo: alice@example.org\r\nSubject: Attachment ${n}\r\n` +
      `Message-ID: <att${n}@example.org>\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: multipart/mixed; boundary="b${n}"\r\n\r\n` +
      `--b${n}\r\nContent-Type: text/plain\r\n\r\nSee attached (${n}).\r\n` +
      `--b${n}\r\nContent-Type: application/octet-stream; name="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n` +
      `${base64}\r\n--b${n}--\r\n`,
  );
}
