// FETCH ENVELOPE (RFC 3501 7.4.2): ten fields read from a message's header
// block, values as written (unfolded, RFC 2047 encoded words left encoded).
//
// Where RFC 3501 leaves a choice open (which of two duplicate fields counts,
// how to send an odd string, what to make of a broken address) we choose as
// Dovecot does, so that responses can be compared byte for byte with a
// reference server (tests/integration/dovecot-reference.test.ts).
import type { MimeNode } from "../../../shared/documents";
import { parseExactHeaderFields, type HeaderField } from "../../mail/mime-header";
import { atom, encode, type Atom, type ImapData } from "../response/encode";
import { parseAddressList, type EnvelopeAddress } from "./address";

/** encode() sends longer quotable strings as literals; Dovecot keeps quoting. */
const ENCODE_QUOTED_MAX = 1024;
/** More quote characters than this make a literal cheaper than escaping. */
const QUOTED_SPECIALS_MAX = 4;

/** A string sent quoted (with escapes) whatever its length. */
function quoted(text: string): ImapData {
  if (text.length <= ENCODE_QUOTED_MAX) return text;
  return atom(`"${text.replace(/[\\"]/g, "\\$&")}"`);
}

/** An IMAP string: quoted when it may be, a literal for line breaks, 8-bit
 * bytes, NUL, or more than a few characters that need escaping. */
export function imapString(text: string): ImapData {
  let specials = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22 || code === 0x5c) specials++;
    if (code === 0 || code === 0x0a || code === 0x0d || code >= 0x80 || specials > QUOTED_SPECIALS_MAX) {
      return Buffer.from(text, "latin1");
    }
  }
  return quoted(text);
}

export function imapNString(text: string | null): ImapData {
  return text === null ? null : imapString(text);
}

/** An unstructured value unfolded: its line breaks removed (RFC 5322 2.2.3). */
export function unfolded(value: string): string {
  return value.replace(/[\r\n]/g, "");
}

/** Text for display (subject, display names): unfolded, blanks and tabs
 * collapsed to one space, trimmed. Sent as a literal whenever that changed
 * anything, as Dovecot does. */
export function humanText(value: string): ImapData {
  let cleaned = "";
  let pendingSpace = false;
  for (const char of value) {
    if (char === "\r" || char === "\n") continue;
    if (char === " " || char === "\t") {
      pendingSpace = cleaned !== "";
      continue;
    }
    if (pendingSpace) cleaned += " ";
    pendingSpace = false;
    cleaned += char === "\0" ? "\x80" : char;
  }
  if (cleaned === value && !/["\\\x80-\xff]/.test(value)) return quoted(value);
  return cleaned === "" ? "" : Buffer.from(cleaned, "latin1");
}

/** Items written one after the other with no space between them, as RFC
 * 3501's grammar has inside address lists ("(" 1*address ")") and multipart
 * bodies ("(" 1*body SP subtype ...). encode() separates list items with
 * spaces, so such items are encoded here and sent as one atom. */
export function adjoined(items: ImapData[]): Atom {
  return atom(items.map(encode).join(""));
}

function address(item: EnvelopeAddress): ImapData {
  const name = item.name === null ? null : humanText(item.name);
  return [name, imapNString(item.route), imapNString(item.mailbox), imapNString(item.host)];
}

function addressList(addresses: EnvelopeAddress[]): ImapData {
  if (addresses.length === 0) return null;
  return atom(`(${adjoined(addresses.map(address)).atom})`);
}

/** The value of the last field with this name: a message with two Subject
 * fields breaks RFC 5322 3.6, and the last one is what Dovecot shows. */
function lastValue(fields: HeaderField[], name: string): string | undefined {
  let value: string | undefined;
  for (const field of fields) if (field.name.toLowerCase() === name) value = field.value;
  return value;
}

/** The addresses of every field with this name, in order: two From fields
 * (RFC 5322 3.6 allows one) keep all their addresses. */
function allAddresses(fields: HeaderField[], name: string): EnvelopeAddress[] {
  return fields.filter((field) => field.name.toLowerCase() === name).flatMap((field) => parseAddressList(field.value));
}

export function envelopeFromHeader(header: string): ImapData {
  const fields = parseExactHeaderFields(header);
  const text = (name: string) => {
    const value = lastValue(fields, name);
    return value === undefined ? null : imapString(unfolded(value));
  };
  const subject = lastValue(fields, "subject");
  const from = allAddresses(fields, "from");
  const sender = allAddresses(fields, "sender");
  const replyTo = allAddresses(fields, "reply-to");
  return [
    text("date"),
    subject === undefined ? null : humanText(subject),
    addressList(from),
    // RFC 3501 7.4.2: absent (or empty) Sender and Reply-To take From's value.
    addressList(sender.length > 0 ? sender : from),
    addressList(replyTo.length > 0 ? replyTo : from),
    addressList(allAddresses(fields, "to")),
    addressList(allAddresses(fields, "cc")),
    addressList(allAddresses(fields, "bcc")),
    text("in-reply-to"),
    text("message-id"),
  ];
}

export function envelope(root: MimeNode): ImapData {
  return envelopeFromHeader(root.header);
}
