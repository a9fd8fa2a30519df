// IMAP4rev1 sends mailbox names in modified UTF-7 (RFC 3501 5.1.3); the mail
// API keeps real Unicode names, so every other client sees "Entwürfe", not
// "Entw&APw-rfe". Names that are not valid modified UTF-7 are kept as sent.

export function decodeMailboxName(wire: string): string {
  return wire.replace(/&([A-Za-z0-9+,]*)-/g, (whole, encoded: string) => {
    if (encoded === "") return "&";
    const bytes = Buffer.from(encoded.replace(/,/g, "/"), "base64");
    if (bytes.length % 2 !== 0) return whole;
    let text = "";
    for (let i = 0; i < bytes.length; i += 2) text += String.fromCharCode(bytes.readUInt16BE(i));
    return text;
  });
}

export function encodeMailboxName(name: string): string {
  let out = "";
  let pending = "";
  const flush = () => {
    if (!pending) return;
    const bytes = Buffer.alloc(pending.length * 2);
    for (let i = 0; i < pending.length; i++) bytes.writeUInt16BE(pending.charCodeAt(i), i * 2);
    out += "&" + bytes.toString("base64").replace(/=+$/, "").replace(/\//g, ",") + "-";
    pending = "";
  };
  for (const char of name) {
    const code = char.charCodeAt(0);
    if (code >= 0x20 && code <= 0x7e) {
      flush();
      out += char === "&" ? "&-" : char;
    } else {
      pending += char;
    }
  }
  flush();
  return out;
}
