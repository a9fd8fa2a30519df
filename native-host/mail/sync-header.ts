// The top-level header as clients sync it: without the trace and signature
// fields that relays add on the way (Received, DKIM and ARC signatures,
// authentication results, Microsoft's antispam reports, Autocrypt keys).
// Those make up most of a delivered message's header (2-6 KB of its 3-8),
// and no client lists them among the fields of its header sync, so a header
// sync that reads this copy reads a fraction of the bytes. Whole fields are
// left out, with their continuation lines: every other field keeps its exact
// bytes and order, so HEADER.FIELDS of names that are not trace fields gives
// the same answer from this copy as from the whole header.

/** Trace and signature fields, lower-case. */
const TRACE_FIELDS = new Set([
  "received",
  "x-received",
  "received-spf",
  "authentication-results",
  "arc-seal",
  "arc-message-signature",
  "arc-authentication-results",
  "dkim-signature",
  "domainkey-signature",
  "x-google-dkim-signature",
  "x-gm-message-state",
  "x-google-smtp-source",
  "autocrypt",
]);

/** Families of trace fields, by prefix (Exchange Online adds dozens). */
const TRACE_FIELD_PREFIXES = ["x-ms-exchange-", "x-microsoft-antispam", "x-forefront-antispam-report"];

/** Whether a field (by name, any case) is left out of the sync header. */
export function isTraceField(name: string): boolean {
  const lower = name.toLowerCase();
  return TRACE_FIELDS.has(lower) || TRACE_FIELD_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

const SPACE = 0x20;
const TAB = 0x09;

/** The header block (latin1 text, ending with its blank line) without its
 * trace fields. A line that starts no "name:" field (malformed) is kept, and
 * so are the continuation lines after it: HEADER.FIELDS never selects them. */
export function syncHeader(header: string): string {
  let out = "";
  let keeping = true;
  let keptFrom = 0;
  let start = 0;
  while (start < header.length) {
    const lineFeed = header.indexOf("\n", start);
    const end = lineFeed === -1 ? header.length : lineFeed + 1;
    const first = header.charCodeAt(start);
    if (first !== SPACE && first !== TAB) {
      // A new field (or the blank line): decide whether it is kept.
      const colon = header.indexOf(":", start);
      const keep = !(colon > start && colon < end && isTraceField(header.slice(start, colon).trim()));
      if (keep !== keeping) {
        if (keeping) out += header.slice(keptFrom, start);
        else keptFrom = start;
        keeping = keep;
      }
    }
    start = end;
  }
  return keeping ? out + header.slice(keptFrom) : out;
}
