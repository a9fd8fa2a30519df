// Every size and depth limit of the daemon, in one place, with the reason for
// each. Protocol servers add their own limits here as they are built.

/** MIME nesting deeper than this is kept as one opaque leaf (still byte-exact):
 * real mail nests a handful of levels; a deeper tree is an attack on recursion. */
export const MAX_MIME_DEPTH = 32;

/** Multipart bodies with more parts than this keep the remainder inside the
 * last part's bytes: no real message has this many, and each part costs a document. */
export const MAX_MIME_PARTS = 10_000;

/** A wrong token is answered after this delay (IMAP NO, SMTP 535): slows
 * guessing to a few tries a second per connection, barely felt by a user. */
export const FAILED_LOGIN_DELAY_MS = 1000;
