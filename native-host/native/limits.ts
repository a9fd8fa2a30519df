// Size limits of native messaging (the bridge between Thunderbird and bitmaskd).
//
// Each message is a 32-bit little-endian length and that many bytes of UTF-8
// JSON. The spec lets the browser send up to 4 GB and lets the host send at
// most 1 MB; a larger host message makes Thunderbird drop the connection.

/** From the bridge to Thunderbird: Thunderbird's own hard limit. A reply
 * that would pass it is replaced by a "too-large" error reply. */
export const MAX_MESSAGE_TO_THUNDERBIRD_BYTES = 1024 * 1024;

/** From Thunderbird to the bridge. Our add-on's largest request is a key
 * import (an armored public key: kilobytes, rarely a few hundred with many
 * signatures), so 1 MB is ample; a larger message is skipped without being
 * buffered and answered with a "too-large" error, and the stream goes on. */
export const MAX_MESSAGE_FROM_THUNDERBIRD_BYTES = 1024 * 1024;

/** How long the bridge waits for a daemon it started to answer on its socket. */
export const DAEMON_START_TIMEOUT_MS = 10_000;
