// Limits of the local web reader (web/server.ts), with their reasons.

/** A log-in link works this long after `bitmaskctl web open` or the popup
 * made it: time to click it, short enough that one found later in a shell
 * history or browser history is dead (it works once anyway). */
export const LOGIN_LINK_TTL_MS = 2 * 60_000;

/** Links not yet used: a few windows opened at once; older ones are dropped first. */
export const MAX_PENDING_LOGIN_LINKS = 16;

/** A session ends after this long without a request: a reader left open
 * over lunch stays logged in, one forgotten overnight does not. */
export const SESSION_IDLE_MS = 8 * 60 * 60_000;

/** Sessions kept at once (one per browser that logged in); the oldest goes first. */
export const MAX_SESSIONS = 32;

/** A request body (a composed message's JSON): the API's own text limit
 * (256 K characters, up to 6 bytes each once JSON-escaped) with room. */
export const MAX_REQUEST_BODY_BYTES = 2 * 1024 * 1024;

/** Open change streams at once: a few tabs per browser. */
export const MAX_EVENT_STREAMS = 64;

/** A comment line on each change stream this often, so proxies (an SSH
 * tunnel's far side) and the browser keep an idle stream open. */
export const EVENT_STREAM_KEEPALIVE_MS = 25_000;
