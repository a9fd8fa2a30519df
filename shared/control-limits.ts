// Limits of the control API's mail methods, checked by their schemas on both
// ends (the daemon, bitmaskctl, the web reader).

/** Messages per page of a list: a screenful or a script's batch; a larger
 * page is refused rather than cut, so a caller never mistakes it for all. */
export const MAX_MAIL_PAGE_SIZE = 200;

/** UIDs one flag, move, copy or delete request names: a page's worth with room;
 * every one is a write in a single transaction. */
export const MAX_MAIL_UIDS_PER_REQUEST = 1000;

/** Search results: more than a person reads; the caller narrows the words. */
export const MAX_MAIL_SEARCH_RESULTS = 500;

/** A search's words: a phrase, not a document. */
export const MAX_MAIL_SEARCH_CHARS = 200;

/** Recipients of one message sent through the API, as the SMTP gateway allows. */
export const MAX_MAIL_SEND_RECIPIENTS = 100;

/** The body of a message composed through the API: a long letter, far under
 * the gateway's message size, and within one control line once JSON-escaped. */
export const MAX_MAIL_SEND_TEXT_CHARS = 256 * 1024;

/** An attachment fetched through the API comes back base64 in one reply line
 * (the clients read at most 16 MB): larger parts are refused with a clear error. */
export const MAX_MAIL_PART_BYTES = 10 * 1024 * 1024;
