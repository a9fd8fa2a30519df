// Every size, count and time limit of the local IMAP server, in one place,
// each with the reason for its value. The command reader and parser take
// their defaults from here; the server advertises APPENDLIMIT from
// APPEND_LIMIT_BYTES and arms its timers from the *_MS values.

const KiB = 1024;
const MiB = 1024 * KiB;
const MINUTE_MS = 60_000;

/** Longest command line outside literals (CRLF not counted): long UID sets
 * from Thunderbird and mbsync fit easily (Dovecot uses the same 64 KiB);
 * anything longer is refused while it streams, never buffered whole. */
export const MAX_COMMAND_LINE_BYTES = 64 * KiB;

/** Largest message APPEND accepts, summed over the literals of one APPEND;
 * advertised as APPENDLIMIT so clients refuse bigger mail before sending it,
 * and about what providers accept for one message. */
export const APPEND_LIMIT_BYTES = 64 * MiB;

/** Largest total of one command, lines and literals, not counting the message
 * literal of an APPEND: LOGIN, SEARCH strings and mailbox names are small,
 * so a megabyte is far above real use and bounds memory per command. */
export const MAX_COMMAND_BYTES = 1 * MiB;

/** Most literals in one command: real commands carry a few (APPEND with
 * CATENATE, a SEARCH with several strings); each literal costs a buffer. */
export const MAX_LITERALS_PER_COMMAND = 1000;

/** Deepest nesting of parenthesised lists: FETCH sections and SEARCH groups
 * nest two or three deep; the parser recurses once per level. */
export const MAX_LIST_DEPTH = 32;

/** Most tokens (atoms, strings, lists...) in one command: a FETCH with a long
 * header field list has a few hundred; each token is an object in memory. */
export const MAX_TOKENS_PER_COMMAND = 10_000;

/** Most ranges in one sequence set: bounded by the line length anyway; this
 * keeps the parsed array small even for a pathological "1,2,3,..." list. */
export const MAX_SEQUENCE_SET_RANGES = 32 * KiB;

/** Most numbers expandSequenceSet returns: one per message of a big mailbox;
 * a sparse UID span larger than this must be handled as ranges instead. */
export const MAX_EXPANDED_SEQUENCE_NUMBERS = 1_000_000;

/** Complete commands read ahead while the server is still busy with an earlier
 * one: clients like mbsync pipeline dozens; beyond this the reader stops
 * parsing and asks the server to stop reading the socket (backpressure). */
export const MAX_PIPELINED_COMMANDS = 64;

/** Bytes held by read-ahead commands before backpressure applies (a single
 * command is always accepted, so one full APPEND can still wait in line). */
export const MAX_PIPELINED_BYTES = 4 * MiB;

/** Unparsed input the reader keeps while it applies backpressure: a server
 * that pauses its socket receives at most a chunk or two more; a peer that
 * still floods past this is cut off rather than buffered without bound. */
export const MAX_UNPARSED_INPUT_BYTES = 1 * MiB;

/** Response bytes a session gathers before handing them to the socket in
 * one write (it also writes at the end of every synchronous run, so this
 * only bounds a batch): big enough that a FETCH of thousands of short
 * responses costs a few dozen system calls instead of one per line, small
 * enough to stay within a few TCP windows and not hold memory per session. */
export const OUTPUT_FLUSH_BYTES = 64 * KiB;

/** Idle time before logout once authenticated: RFC 3501 section 5.4 requires
 * at least 30 minutes. */
export const AUTOLOGOUT_AUTHENTICATED_MS = 30 * MINUTE_MS;

/** Time from connecting to logging in, however busy the connection keeps
 * itself (a NOOP does not extend it): clients log in right after the
 * greeting; a minute leaves room for a primary-password prompt in
 * Thunderbird while idle unauthenticated sockets cannot pile up. */
export const AUTOLOGOUT_NOT_AUTHENTICATED_MS = 1 * MINUTE_MS;

/** Connections not yet logged in, at most: Thunderbird opens up to five per
 * account and logs each in at once. A new one past this drops the oldest
 * (as Dovecot's login processes do), so another local process holding idle
 * connections can neither lock the user out nor use up file descriptors. */
export const MAX_UNAUTHENTICATED_CONNECTIONS = 16;

/** Logged-in sessions per account, at most: Thunderbird keeps five cached
 * connections, other clients (mbsync, a phone bridge) a few more; past
 * this a login is refused with NO [LIMIT]. */
export const MAX_SESSIONS_PER_ACCOUNT = 20;

/** Longest IDLE before the server ends the session: RFC 2177 tells clients to
 * re-issue IDLE at least every 29 minutes, so a server must allow 30 minutes
 * (the RFC 3501 autologout floor) before treating the client as gone. */
export const IDLE_MAX_MS = 30 * MINUTE_MS;

/** Output waiting in a session's socket past which a long command stops
 * producing until the client reads (backpressure): a client that stops
 * reading in the middle of FETCH 1:* BODY[] then costs about this much
 * memory, not the whole mailbox. */
export const OUTPUT_BACKLOG_BYTES = 1 * MiB;

/** Output a session may hold for a client that does not read, at most:
 * one whole message (APPEND_LIMIT_BYTES) and a backlog's worth above it.
 * Past this the session ends rather than grow the daemon. */
export const MAX_BUFFERED_OUTPUT_BYTES = APPEND_LIMIT_BYTES + 4 * MiB;

/** Deepest nesting of SEARCH keys (NOT, OR, parentheses): real searches nest
 * a handful of levels; the evaluator recurses once per level, so 9,000
 * nested NOTs once overflowed the stack. */
export const MAX_SEARCH_DEPTH = 64;
