// Serialising IMAP response data (RFC 3501 9: atom, number, NIL, quoted
// string, literal, parenthesised list). A string is sent quoted when that is
// allowed and literal otherwise, so any byte sequence can be sent exactly.
// The result is binary text (one char per byte, latin1), made into bytes
// once, with the rest of its response.

/** An atom sent as is (flags, keywords, FETCH item names). */
export type Atom = { atom: string };
/** Response data: null is NIL; a string is a binary string (one char per byte). */
export type ImapData = null | number | string | Buffer | Atom | ImapData[];

export const atom = (text: string): Atom => ({ atom: text });

const QUOTABLE_MAX = 1024;

/** True when the bytes may travel as a quoted string: 7-bit, no CR, LF or NUL. */
function quotable(text: string): boolean {
  if (text.length > QUOTABLE_MAX) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0 || code === 0x0a || code === 0x0d || code > 0x7f) return false;
  }
  return true;
}

export function encodeString(text: string): string {
  if (quotable(text)) return `"${text.replace(/[\\"]/g, "\\$&")}"`;
  return `{${text.length}}\r\n${text}`;
}

export function encode(data: ImapData): string {
  if (data === null) return "NIL";
  if (typeof data === "number") return String(data);
  if (typeof data === "string") return encodeString(data);
  if (Buffer.isBuffer(data)) return `{${data.length}}\r\n${data.toString("latin1")}`;
  if (Array.isArray(data)) return `(${data.map(encode).join(" ")})`;
  return data.atom;
}
