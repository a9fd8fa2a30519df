// bitmaskctl's exit codes, so scripts can tell "not running" from "locked"
// from "wrong passphrase" without parsing messages.
import type { ErrorCode } from "../../shared/control-api";

export const EXIT = {
  ok: 0,
  /** The daemon refused or failed; the message says why. */
  failed: 1,
  /** Wrong command line (commander's usage errors). */
  usage: 2,
  daemonNotRunning: 3,
  /** No such account, or it is locked. */
  noAccount: 4,
  wrongPassphrase: 5,
  /** The daemon has not got that part yet (keymanager, sync) or is offline. */
  unavailable: 6,
  accountExists: 7,
  /** No such mailbox, message or part. */
  notFound: 8,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case "no-account":
    case "locked":
      return EXIT.noAccount;
    case "wrong-passphrase":
      return EXIT.wrongPassphrase;
    case "unavailable":
      return EXIT.unavailable;
    case "exists":
      return EXIT.accountExists;
    case "not-found":
      return EXIT.notFound;
    case "daemon-unavailable":
      return EXIT.daemonNotRunning;
    case "bad-request":
      return EXIT.usage;
    default:
      return EXIT.failed;
  }
}
