// Every size and depth limit of the daemon, in one place, with the reason for
// each. Protocol servers add their own limits here as they are built.
import { MAX_PUSH_BYTES } from "../shared/provider-api";

/** MIME nesting deeper than this is kept as one opaque leaf (still byte-exact):
 * real mail nests a handful of levels; a deeper tree is an attack on recursion. */
export const MAX_MIME_DEPTH = 32;

/** Multipart bodies with more parts than this keep the remainder inside the
 * last part's bytes: no real message has this many, and each part costs a document. */
export const MAX_MIME_PARTS = 10_000;

/** A wrong token is answered after this delay (IMAP NO, SMTP 535): slows
 * guessing to a few tries a second per connection, barely felt by a user. */
export const FAILED_LOGIN_DELAY_MS = 1000;

/** A round with the provider (sync, then incoming mail) at least this
 * often: a safety net, since the provider's event stream starts a round as
 * soon as mail arrives or another device syncs, and a reconnected stream
 * catches up with one. */
export const SYNC_INTERVAL_MS = 10 * 60_000;

/** The event stream reconnects after 1 s, 2 s, 4 s... up to 1 min, each
 * delay jittered so the devices a provider restart cut off do not all come
 * back at the same instant. */
export const PUSH_RECONNECT_START_MS = 1_000;
export const PUSH_RECONNECT_MAX_MS = 60_000;

/** From asking for the event stream to its first event: a provider that
 * accepted the connection but says nothing this long is treated as down. */
export const PUSH_READY_TIMEOUT_MS = 30_000;

/** One event is a short JSON line; a longer one is a broken stream. */
export const MAX_PUSH_EVENT_BYTES = 64 * 1024;

/** A local change (flags, a move) goes out this soon: long enough to gather
 * a burst of IMAP STOREs into one push. */
export const SYNC_LOCAL_CHANGE_DELAY_MS = 2_000;

/** While the provider is down, rounds wait 5 s, 10 s, 20 s... up to 5 min. */
export const SYNC_BACKOFF_START_MS = 5_000;
export const SYNC_BACKOFF_MAX_MS = 5 * 60_000;

/** Incoming messages fetched per request, and stored per transaction: each
 * can be 25 MB, so a page stays within what the daemon holds in memory. */
export const INCOMING_PAGE_SIZE = 10;

/** The store's page cache holds at most this much (decrypted pages, in the
 * daemon's memory; never written out). Every read of a page not in it costs
 * a decryption, and a cycle through more pages than it holds (a header sync
 * walks the message rows and their headers, about 0.75 KB per message)
 * misses on every page: SQLite's default of 2 MB thrashed on a mailbox of a
 * few thousand messages. 64 MB covers the header sync of about 80,000
 * messages; the cache only grows as far as pages are read. */
export const STORE_PAGE_CACHE_BYTES = 64 * 1024 * 1024;

/** How long opening a store waits for another process to let go of it (a
 * daemon that is still shutting down) before saying the store is in use. */
export const STORE_BUSY_TIMEOUT_MS = 2000;

/** A leaf body larger than this is stored as several content documents of at
 * most this size: sealed, one pads to 4 MiB (about 5.4 MiB on the wire), so
 * no document can ever exceed the provider's push limit whatever the mail's
 * size. The 4 KiB left over covers the sealed frame's id and type. */
export const CONTENT_CHUNK_BYTES = 4 * 1024 * 1024 - 4 * 1024;

/** One sync push carries at most this many bytes of sealed documents: a
 * quarter of a provider's usual body limit (MAX_PUSH_BYTES), so a batch of
 * big documents does not meet its 413, and the daemon holds a few copies
 * of one batch at most while sending it. A provider that answers 413 all
 * the same gets batches half as big, down to a single document. */
export const PUSH_BATCH_BYTES = MAX_PUSH_BYTES / 4;

/** `bitmaskctl stop` waits this long for the daemon's process to end: closing
 * an account finishes its sync round's transaction, seconds at most. */
export const DAEMON_STOP_WAIT_MS = 30_000;
