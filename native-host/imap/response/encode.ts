// Serialising IMAP response data (RFC 3501 9: atom, number, NIL, quoted
// string, literal, parenthesised list). A string is sent quoted when that is
// allowed and literal otherwise, so any byte sequence can be sent exactly.

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

export function encodeString(text: string): Buffer {
  if (quotable(text)) return Buffer.from(`"${text.replace(/[\\"]/g, "\\$&")}"`, "latin1");
  const bytes = Buffer.from(text, "latin1");
  return Buffer.concat([Buffer.from(`{${bytes.length}}\r\n`), bytes]);
}

export function encodeLiteral(bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`{${bytes.length}}\r\n`), bytes]);
}

export function encode(data: ImapData): Buffer {
  const out: Buffer[] = [];
  write(data, out);
  return Buffer.concat(out);
}

function write(data: ImapData, out: Buffer[]): void {
  if (data === null) out.push(Buffer.from("NIL"));
  else if (typeof data === "number") out.push(Buffer.from(String(data)));
  else if (typeof data === "string") out.push(encodeString(data));
  else if (Buffer.isBuffer(data)) out.push(encodeLiteral(data));
  else if (Array.isArray(data)) {
    out.push(Buffer.from("("));
    data.forEach((item, i) => {
      if (i > 0) out.push(Buffer.from(" "));
      write(item, out);
    });
    out.push(Buffer.from(")"));
  } else out.push(Buffer.from(data.atom, "latin1"));
}
