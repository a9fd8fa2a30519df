// Web Key Directory lookups (draft-koch-openpgp-webkey-service): the key for
// local@domain is served over HTTPS by the domain itself, at
//   advanced: https://openpgpkey.{domain}/.well-known/openpgpkey/{domain}/hu/{hash}?l={local}
//   direct:   https://{domain}/.well-known/openpgpkey/hu/{hash}?l={local}
// where hash is the z-base-32 form of SHA-1 of the lower-cased local part.
// The advanced method comes first; the direct one is used only when the
// openpgpkey sub-domain does not exist, as the draft says.
import { createHash } from "node:crypto";
import { type ConnectTo, HttpUnreachableError, KEY_FETCH_TIMEOUT_MS, MAX_KEY_RESPONSE_BYTES, httpRequest } from "../http-request";

const ZBASE32_ALPHABET = "ybndrfg8ejkmcpqxot1uwisza345h769";

/** z-base-32 (RFC 6189 section 5.1.6), most significant bits first. */
export function zbase32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ZBASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ZBASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

export function wkdUrls(address: string): { advanced: string; direct: string } {
  const at = address.lastIndexOf("@");
  if (at <= 0 || at === address.length - 1) throw new Error(`not an e-mail address: ${address}`);
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  // The draft lower-cases ASCII letters only, which toLowerCase does for ASCII.
  const hash = zbase32(createHash("sha1").update(local.toLowerCase(), "utf8").digest());
  const query = `?l=${encodeURIComponent(local)}`;
  return {
    advanced: `https://openpgpkey.${domain}/.well-known/openpgpkey/${domain}/hu/${hash}${query}`,
    direct: `https://${domain}/.well-known/openpgpkey/hu/${hash}${query}`,
  };
}

/** The WKD host answered, but not with a key or a 404. */
export class WkdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WkdError";
  }
}

export type WkdClientOptions = {
  /** Trusted CA certificates (PEM) instead of the system ones (tests). */
  ca?: string;
  /** Where to connect for a host name (tests map domains to 127.0.0.1). */
  connectTo?: ConnectTo;
  timeoutMs?: number;
};

export class WkdClient {
  constructor(private readonly options: WkdClientOptions = {}) {}

  /** The binary key data published for the address (it may hold more than
   * one key: the caller keeps those with a matching user id), or null. */
  async lookup(address: string): Promise<Uint8Array | null> {
    const urls = wkdUrls(address);
    try {
      return await this.fetch(urls.advanced);
    } catch (error) {
      if (!(error instanceof HttpUnreachableError && error.code === "ENOTFOUND")) throw error;
    }
    return this.fetch(urls.direct);
  }

  private async fetch(url: string): Promise<Uint8Array | null> {
    const response = await httpRequest(url, {
      ca: this.options.ca,
      connectTo: this.options.connectTo,
      timeoutMs: this.options.timeoutMs ?? KEY_FETCH_TIMEOUT_MS,
      maxResponseBytes: MAX_KEY_RESPONSE_BYTES,
    });
    if (response.status === 404) return null;
    if (response.status !== 200) throw new WkdError(`${url} answered ${response.status}`);
    if (response.body.length === 0) return null;
    return new Uint8Array(response.body);
  }
}
