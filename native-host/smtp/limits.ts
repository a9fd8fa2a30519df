// Every size, count and time limit of the local SMTP gateway and of its relay
// and queue, in one place, each with the reason for its value.

const MiB = 1024 * 1024;
const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Largest message accepted, advertised as SIZE: a 25 MB attachment grows to
 * about 34 MB in base64, so 50 MiB lets it through with room for the text;
 * the whole message is held in memory to be signed and encrypted, so this
 * also bounds memory per transaction. */
export const MAX_MESSAGE_BYTES = 50 * MiB;

/** Most recipients per message: every recipient costs one encryption of the
 * whole message and one relay submission, so a cap keeps one message from
 * taking minutes; mailing-list sized sends belong to a list server. */
export const MAX_RECIPIENTS = 100;

/** Most simultaneous connections of any kind: bounds the file descriptors
 * the gateway holds; reached only through logged-in sessions of several
 * accounts, as connections not logged in have a budget of their own. */
export const MAX_CLIENTS = 100;

/** Connections not yet logged in, at most: Thunderbird opens one or two and
 * logs in at once. A new one past this drops the oldest, so idle
 * connections from another local process cannot keep the user from sending. */
export const MAX_UNAUTHENTICATED_CLIENTS = 10;

/** A connection must log in this soon after connecting, however busy it
 * keeps itself with NOOPs: Thunderbird logs in within a second. */
export const LOGIN_DEADLINE_MS = 30 * SECOND_MS;

/** Logged-in connections per account, at most: one send uses one; a few
 * clients sending at once stay far under it. */
export const MAX_SESSIONS_PER_ACCOUNT = 10;

/** Idle time before a client is disconnected: RFC 5321 4.5.3.2.7 asks a
 * server to wait at least 5 minutes for the next command. */
export const CLIENT_IDLE_TIMEOUT_MS = 5 * MINUTE_MS;

/** On shutdown, how long clients in a transaction get to finish. */
export const CLOSE_TIMEOUT_MS = 10 * SECOND_MS;

/** Commands a client may send before logging in (EHLO, AUTH, RSET, NOOP...):
 * Thunderbird needs three or four; a peer that keeps talking without logging
 * in is dropped. */
export const MAX_UNAUTHENTICATED_COMMANDS = 10;

/** Relay connection set-up (TCP and TLS handshake): the client waits for
 * the relay's answer before it gets ours, and Thunderbird gives up after
 * 100 s (mailnews.tcptimeout), so an unreachable relay must be noticed
 * well before that. */
export const RELAY_CONNECT_TIMEOUT_MS = 15 * SECOND_MS;

/** Wait for the relay's greeting once connected. */
export const RELAY_GREETING_TIMEOUT_MS = 15 * SECOND_MS;

/** Longest silence from the relay in the middle of a submission. */
export const RELAY_SOCKET_TIMEOUT_MS = 60 * SECOND_MS;

/** Waits between retries of a queued delivery: quick at first (a relay
 * restart), then spaced out; the last value repeats until the delivery
 * succeeds or gives up. */
export const QUEUE_RETRY_DELAYS_MS: readonly number[] = [
  1 * MINUTE_MS,
  5 * MINUTE_MS,
  15 * MINUTE_MS,
  30 * MINUTE_MS,
  1 * HOUR_MS,
  2 * HOUR_MS,
  4 * HOUR_MS,
];

/** A queued delivery still failing this long after it was queued bounces:
 * Postfix's default maximal_queue_lifetime, which people are used to. */
export const QUEUE_GIVE_UP_AFTER_MS = 5 * DAY_MS;
