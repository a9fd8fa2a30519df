// IMAP date-time (RFC 3501 9): "23-Nov-2026 19:12:32 +0000", and parsing it back for APPEND.
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export function imapDate(date: Date): string {
  const day = String(date.getUTCDate()).padStart(2, " ");
  const time = [date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
  return `${day}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ${time} +0000`;
}

/** Parses date-time; undefined when it is not one. */
export function parseImapDateTime(text: string): Date | undefined {
  const match = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!match) return undefined;
  const month = MONTHS.findIndex((name) => name.toLowerCase() === match[2]!.toLowerCase());
  if (month < 0) return undefined;
  const [day, year, hours, minutes, seconds, zoneHours, zoneMinutes] = [1, 3, 4, 5, 6, 8, 9].map((i) => Number(match[i]));
  const wallClock = Date.UTC(year!, month, day!, hours!, minutes!, seconds!);
  // Date.UTC rolls 31-Feb over into March: refuse dates that do not exist.
  if (new Date(wallClock).getUTCDate() !== day || hours! > 23 || minutes! > 59 || seconds! > 60) return undefined;
  const offset = (match[7] === "-" ? -1 : 1) * (zoneHours! * 60 + zoneMinutes!);
  return new Date(wallClock - offset * 60_000);
}

/** SEARCH dates (RFC 3501 date): "1-Feb-1994", as the start of that day in UTC. */
export function parseImapDate(text: string): Date | undefined {
  const match = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  if (!match) return undefined;
  const month = MONTHS.findIndex((name) => name.toLowerCase() === match[2]!.toLowerCase());
  if (month < 0) return undefined;
  const day = new Date(Date.UTC(Number(match[3]), month, Number(match[1])));
  // Date.UTC rolls 31-Feb-2020 over into March: a day that does not exist is refused.
  return day.getUTCDate() === Number(match[1]) ? day : undefined;
}
