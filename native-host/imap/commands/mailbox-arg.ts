// Mailbox names as arguments: modified UTF-7 on the wire, Unicode in the mail API.
import type { ArgReader } from "../command";
import { decodeMailboxName, encodeMailboxName } from "../mailbox-name";
import { encodeString } from "../response/encode";

export function readMailboxName(args: ArgReader, what = "mailbox name"): string {
  return decodeMailboxName(args.astring(what));
}

/** A mailbox name ready for a response line. */
export function wireMailboxName(name: string): string {
  return encodeString(encodeMailboxName(name));
}
