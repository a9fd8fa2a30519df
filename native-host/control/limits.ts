// Limits of the control socket. Requests are small (the largest is a key
// import); replies are status objects and armored keys. A line longer than
// this is an error, so a confused or hostile local client cannot make the
// daemon buffer without bound.
export const MAX_CONTROL_LINE_BYTES = 1024 * 1024;

/** Replies come from the daemon, which clients trust more; the cap only
 * guards against a runaway. (The bridge holds replies to Thunderbird to
 * native messaging's 1 MB on its own.) */
export const MAX_CONTROL_REPLY_BYTES = 16 * 1024 * 1024;

/** How long bitmaskctl and the bridge wait for a reply before giving up. */
export const CONTROL_REPLY_TIMEOUT_MS = 30_000;
