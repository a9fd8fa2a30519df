// Size and time limits of the Postfix link, each with its reason.

/** Longest socketmap request: a map name and one address (RFC 5321 caps a
 * path at 256 octets); anything longer is not from Postfix. */
export const MAX_LOOKUP_REQUEST_BYTES = 1024;

/** A lookup connection idle this long is closed (Postfix reconnects on its
 * next lookup; its own idle limit is 100 s). */
export const LOOKUP_IDLE_MS = 120_000;

/** Longest wait for the SPF, DKIM and DMARC DNS answers of one message:
 * past it the checks say temperror, and the mail is still delivered. */
export const AUTHENTICATION_DNS_TIMEOUT_MS = 10_000;
