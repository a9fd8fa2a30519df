// The capability list, as the session's state allows (RFC 3501 7.2.1).
import { APPEND_LIMIT_BYTES } from "./limits";
import type { ImapSession } from "./session";

const ALWAYS = ["IMAP4rev1", "LITERAL+", "ID", "ENABLE", "IDLE", "NAMESPACE", "UNSELECT"];
const BEFORE_LOGIN = ["AUTH=PLAIN"];
const AFTER_LOGIN = [
  "UIDPLUS",
  "MULTIAPPEND",
  "MOVE",
  "SPECIAL-USE",
  "LIST-EXTENDED",
  "LIST-STATUS",
  "CONDSTORE",
  "QRESYNC",
  "ESEARCH",
  "SORT",
  "SORT=DISPLAY",
  "THREAD=REFERENCES",
  "THREAD=ORDEREDSUBJECT",
  `APPENDLIMIT=${APPEND_LIMIT_BYTES}`,
  "STATUS=SIZE",
];

export function capabilities(session: Pick<ImapSession, "state">): string[] {
  return session.state === "not-authenticated" ? [...ALWAYS, ...BEFORE_LOGIN] : [...ALWAYS, ...AFTER_LOGIN];
}
