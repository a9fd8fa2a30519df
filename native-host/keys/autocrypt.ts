// Autocrypt Level 1 (https://autocrypt.org/level1.html): the `Autocrypt:`
// header and the peer-state update rules. Pure functions; the keymanager
// stores the state and checks the key itself.
import type { ContentOf } from "../../shared/documents";
import { normaliseAddress } from "./openpgp-keys";

export type PreferEncrypt = "mutual" | "nopreference";
export type AutocryptPeer = ContentOf<"autocrypt">;

export type AutocryptHeader = { addr: string; preferEncrypt: PreferEncrypt; keydata: Uint8Array };

/** The header value is invalid; the message says why. */
export class AutocryptHeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AutocryptHeaderError";
  }
}

/** Parses an (unfolded or folded) header value. Unknown attributes that do
 * not start with "_" make the header invalid, as Level 1 requires. */
export function parseAutocryptHeader(value: string): AutocryptHeader {
  const attributes = new Map<string, string>();
  for (const part of value.split(";")) {
    const trimmed = part.trim();
    if (!trimmed) continue;
    const equals = trimmed.indexOf("=");
    if (equals <= 0) throw new AutocryptHeaderError(`malformed attribute "${trimmed.slice(0, 40)}"`);
    const name = trimmed.slice(0, equals).trim().toLowerCase();
    if (name.startsWith("_")) continue;
    if (!["addr", "prefer-encrypt", "keydata"].includes(name)) throw new AutocryptHeaderError(`unknown critical attribute "${name}"`);
    if (attributes.has(name)) throw new AutocryptHeaderError(`attribute "${name}" given twice`);
    attributes.set(name, trimmed.slice(equals + 1).trim());
  }
  const addr = attributes.get("addr");
  const keydata = attributes.get("keydata")?.replace(/\s+/g, "");
  if (!addr) throw new AutocryptHeaderError("no addr attribute");
  if (!keydata) throw new AutocryptHeaderError("no keydata attribute");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keydata)) throw new AutocryptHeaderError("keydata is not base64");
  return {
    addr: normaliseAddress(addr),
    preferEncrypt: attributes.get("prefer-encrypt") === "mutual" ? "mutual" : "nopreference",
    keydata: new Uint8Array(Buffer.from(keydata, "base64")),
  };
}

/** Base64 lines this long keep each folded header line under 78 characters. */
const KEYDATA_LINE = 76;

/** A header value for `keydata` (a minimal binary public key). Folded with
 * CRLF SP between lines (RFC 5322), ready to follow "Autocrypt: ": an
 * RSA-4096 key would not fit the 998-character line limit unfolded. */
export function formatAutocryptHeader(addr: string, keydata: Uint8Array, preferEncrypt: PreferEncrypt): string {
  const base64 = Buffer.from(keydata).toString("base64");
  const lines: string[] = [];
  for (let at = 0; at < base64.length; at += KEYDATA_LINE) lines.push(base64.slice(at, at + KEYDATA_LINE));
  const prefer = preferEncrypt === "mutual" ? " prefer-encrypt=mutual;" : "";
  return `addr=${addr};${prefer} keydata=\r\n ${lines.join("\r\n ")}`;
}

/** A message's effective date: its Date, unless that lies in the future. */
function effectiveDate(date: Date, now: Date): number {
  return Math.min(date.getTime(), now.getTime());
}

/** The peer state after a message with a valid Autocrypt header, or null
 * when the message is older than the header already recorded. */
export function stateAfterHeader(
  previous: AutocryptPeer | undefined,
  header: AutocryptHeader,
  fingerprint: string,
  date: Date,
  now = new Date(),
): AutocryptPeer | null {
  const effective = effectiveDate(date, now);
  if (previous && effective < previous.autocryptTimestamp) return null;
  return {
    address: header.addr,
    lastSeen: Math.max(effective, previous?.lastSeen ?? 0),
    autocryptTimestamp: effective,
    keydata: Buffer.from(header.keydata).toString("base64"),
    fingerprint,
    preferEncrypt: header.preferEncrypt,
  };
}

/** The peer state after a message without an Autocrypt header, or null when
 * nothing changes (no state yet, or an older message). */
export function stateAfterMessageWithoutHeader(previous: AutocryptPeer | undefined, date: Date, now = new Date()): AutocryptPeer | null {
  const effective = effectiveDate(date, now);
  if (!previous || effective <= previous.lastSeen) return null;
  return { ...previous, lastSeen: effective };
}
