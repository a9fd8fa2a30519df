// The add-on's time limits, with their reasons.

/** While bitmaskd cannot be reached, tries come 1 s, 2 s, 4 s... apart, up
 * to 30 s: quick when the user just started it, cheap when it stays down. */
export const RECONNECT_MIN_MS = 1000;
export const RECONNECT_MAX_MS = 30_000;

/** At a first start, Thunderbird opens its account hub a moment after the
 * add-on may have made the account (the hub loads its scripts first): for
 * this long after making it, a hub that opens is closed again. */
export const ACCOUNT_HUB_WATCH_MS = 15_000;
/** How often the hub is looked for meanwhile. */
export const ACCOUNT_HUB_CHECK_MS = 250;
