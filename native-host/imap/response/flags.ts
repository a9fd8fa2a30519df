// Flag lists as IMAP sends them; \Recent is per session, so it is added here.

export function encodeFlags(flags: readonly string[], recent: boolean): string {
  return `(${[...flags, ...(recent ? ["\\Recent"] : [])].join(" ")})`;
}

/** FLAGS and PERMANENTFLAGS of a mailbox: the system flags plus its keywords. */
export const SYSTEM_FLAG_LIST = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";
