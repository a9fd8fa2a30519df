// The X-Leap-* fields of a message in the mailbox are the daemon's word on
// how it arrived (decrypted? signed, by which key?); the add-on shows them.
// A sender may write such fields too, anywhere in the header, in any case,
// folded over lines, or with the obsolete space before the colon (RFC 5322
// 4.5.3, which mail readers still accept): every one goes before the
// daemon stamps its own.

/** A field name that starts X-Leap-, with optional blanks before the colon. */
const LEAP_FIELD = /^x-leap-[\x21-\x39\x3b-\x7e]*[ \t]*:/i;

/** `header` (the fields, without the blank line after them) with every
 * X-Leap-* field removed, continuation lines included; the other fields and
 * their line endings are kept byte for byte. */
export function stripLeapFields(header: string): string {
  let dropping = false;
  return header
    .split(/(?<=\n)/)
    .filter((line) => {
      // A line starting with a blank continues the field before it.
      if (!/^[ \t]/.test(line)) dropping = LEAP_FIELD.test(line);
      return !dropping;
    })
    .join("");
}
