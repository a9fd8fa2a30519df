// What SEARCH, SORT and THREAD read from a message's top-level header: field
// values, the sent date (RFC 5322 3.3), the first address's mailbox, and the
// base subject (RFC 5256 2.1). Parsed once per Message object.
import { MissingPartError, type Message } from "../../mail/message";
import type { HeaderField } from "../../mail/mime-header";
import { decodeHeaderValue, unfoldedHeaderFields } from "../../mail/searchable-text";
import { parseAddressList } from "../fetch/address";

const parsedFields = new WeakMap<Message, HeaderField[]>();

/** The top-level header fields, unfolded; none when the header is not stored yet. */
export function headerFields(message: Message): HeaderField[] {
  let fields = parsedFields.get(message);
  if (!fields) {
    try {
      fields = unfoldedHeaderFields(message.mime().header);
    } catch (error) {
      if (!(error instanceof MissingPartError)) throw error;
      fields = [];
    }
    parsedFields.set(message, fields);
  }
  return fields;
}

/** The raw (still encoded) value of the first field of that name. */
export function firstHeaderValue(message: Message, name: string): string | undefined {
  const lower = name.toLowerCase();
  return headerFields(message).find((field) => field.name.toLowerCase() === lower)?.value;
}

export type SentDate = {
  /** The instant, in ms since the epoch. */
  time: number;
  /** Midnight UTC of the calendar day as written in the field, whatever its zone
   * (SENTON and friends disregard time and timezone, RFC 3501 6.4.4). */
  day: number;
};

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
/** RFC 5322 4.3 obsolete zones, in hours; military letters count as +0000 (as 4.3 says). */
const ZONE_HOURS: Record<string, number> = { UT: 0, GMT: 0, EST: -5, EDT: -4, CST: -6, CDT: -5, MST: -7, MDT: -6, PST: -8, PDT: -7 };
const DATE_TIME =
  /^(?:[A-Za-z]+\s*,?\s*)?(\d{1,2})[\s-]+([A-Za-z]{3})[A-Za-z]*\.?[\s-]+(\d{2,4})\s+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:\s*([+-]\d{4}|[A-Za-z]+))?/;

/** Parses an RFC 5322 date-time, accepting the obsolete forms (two-digit
 * years, named zones, comments); undefined when it is not one. */
export function parseMessageDate(value: string): SentDate | undefined {
  const match = DATE_TIME.exec(value.replace(/\([^()]*\)/g, " ").trim());
  if (!match) return undefined;
  const month = MONTHS.indexOf(match[2]!.toLowerCase());
  if (month < 0) return undefined;
  let year = Number(match[3]);
  // RFC 5322 4.3: two-digit years below 50 are 20xx, others 19xx; three digits add 1900.
  if (match[3]!.length === 2) year += year < 50 ? 2000 : 1900;
  else if (match[3]!.length === 3) year += 1900;
  const [day, hours, minutes, seconds] = [1, 4, 5, 6].map((i) => Number(match[i] ?? 0));
  const dayStart = Date.UTC(year, month, day!);
  if (new Date(dayStart).getUTCDate() !== day || hours! > 23 || minutes! > 59 || seconds! > 60) return undefined;
  const zone = match[7] ?? "+0000";
  const numericZone = /^([+-])(\d{2})(\d{2})$/.exec(zone);
  const offsetMinutes = numericZone
    ? (numericZone[1] === "-" ? -1 : 1) * (Number(numericZone[2]) * 60 + Number(numericZone[3]))
    : (ZONE_HOURS[zone.toUpperCase()] ?? 0) * 60;
  const wallClock = dayStart + ((hours! * 60 + minutes!) * 60 + seconds!) * 1000;
  return { time: wallClock - offsetMinutes * 60_000, day: dayStart };
}

/** The Date: field, parsed; undefined when missing or unreadable. */
export function sentDate(message: Message): SentDate | undefined {
  const value = firstHeaderValue(message, "Date");
  return value === undefined ? undefined : parseMessageDate(value);
}

/** RFC 5256 2.2: the sent date, or the internal date when there is none. */
export function sortDate(message: Message): number {
  return sentDate(message)?.time ?? message.internalDate.getTime();
}

/** The mailbox (local part) of the first address of an address field, for
 * SORT FROM / TO / CC (RFC 5256 3), as the octets of a binary string; "" when
 * there is none. As in ENVELOPE, a group's first address is the group marker,
 * whose mailbox is the group name (Dovecot sorts by it too); encoded words
 * are not decoded there (RFC 2047 5 forbids them in an addr-spec). */
export function firstMailbox(message: Message, field: string): string {
  const value = firstHeaderValue(message, field);
  return value === undefined ? "" : (parseAddressList(value)[0]?.mailbox ?? "");
}

/** Fields whose value is an address list (RFC 5322 3.6.2-3). */
const ADDRESS_FIELDS = new Set(["from", "sender", "reply-to", "to", "cc", "bcc"]);

/** An address field's addresses as the ENVELOPE parses them, written
 * "name <mailbox@host>" with comments and folding gone, for SEARCH FROM and
 * the like: `<user (comment)@ (comment) domain.org>` is found by
 * "user@domain.org", as the client sees it. Undefined for other fields. */
export function addressesText(fieldName: string, value: string): string | undefined {
  if (!ADDRESS_FIELDS.has(fieldName.toLowerCase())) return undefined;
  return parseAddressList(value)
    .map(({ name, mailbox, host }) => `${name === null ? "" : `${decodeHeaderValue(name)} `}<${mailbox ?? ""}${host === null ? "" : `@${host}`}>`)
    .join(", ");
}

/** i;ascii-casemap (RFC 4790 9.2): ASCII letters compare without case, other characters exactly. */
export function asciiUpper(text: string): string {
  return text.replace(/[a-z]+/g, (letters) => letters.toUpperCase());
}

export type BaseSubject = {
  /** The base subject, ASCII letters upper-cased for comparison. */
  key: string;
  /** The extraction removed a "Re:", "Fwd:", "(fwd)" or "[fwd: ...]" (RFC 5256 2.1, used by THREAD). */
  isReplyOrForward: boolean;
};

// RFC 5256 5: subj-blob = "[" *BLOBCHAR "]" *WSP; subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
const SUBJ_BLOB = "\\[[^\\[\\]]*\\] *";
const SUBJ_REFWD_LEADER = new RegExp(`^(?:${SUBJ_BLOB})*(?:RE|FWD?) *(?:${SUBJ_BLOB})?:`);
const SUBJ_BLOB_PREFIX = new RegExp(`^${SUBJ_BLOB}`);

/** RFC 5256 2.1 base subject extraction, step by step, of a message's Subject. */
export function baseSubject(message: Message): BaseSubject {
  return extractBaseSubject(decodeHeaderValue(firstHeaderValue(message, "Subject") ?? ""));
}

export function extractBaseSubject(decodedSubject: string): BaseSubject {
  let isReplyOrForward = false;
  // (1) tabs and continuations become spaces, runs of spaces one space.
  let subject = asciiUpper(decodedSubject).replace(/[\t\r\n]/g, " ").replace(/ {2,}/g, " ");
  for (;;) {
    // (2) remove trailing "(fwd)" and blanks.
    for (;;) {
      if (subject.endsWith(" ")) subject = subject.slice(0, -1);
      else if (subject.endsWith("(FWD)")) {
        subject = subject.slice(0, -"(FWD)".length);
        isReplyOrForward = true;
      } else break;
    }
    // (3) remove leading blanks and subj-refwd leaders, (4) a leading subj-blob
    // when something is left after it; (5) repeat until neither applies.
    for (;;) {
      const before = subject;
      subject = subject.replace(/^ +/, "");
      const leader = SUBJ_REFWD_LEADER.exec(subject);
      if (leader) {
        subject = subject.slice(leader[0].length);
        isReplyOrForward = true;
      }
      const blob = SUBJ_BLOB_PREFIX.exec(subject);
      if (blob && blob[0].length < subject.length) subject = subject.slice(blob[0].length);
      if (subject === before) break;
    }
    // (6) "[fwd: subject]" is unwrapped, and everything repeats from (2).
    if (subject.startsWith("[FWD:") && subject.endsWith("]")) {
      subject = subject.slice("[FWD:".length, -1);
      isReplyOrForward = true;
      continue;
    }
    return { key: subject, isReplyOrForward };
  }
}
