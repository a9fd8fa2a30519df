// The provider's key directory: where the account publishes its public key
// and looks up other people's. This is the client; provider/ implements the
// server side of exactly this API:
//
//   GET {base}/keys/{address}
//       200, body: the armored public key (application/pgp-keys)
//       404 when the directory has no key for the address
//   PUT {base}/keys/{address}
//       Authorization: Bearer <session token>, body: the armored public key
//       204 once stored; the provider accepts it only from the session of
//       the account that owns {address}
//
// {address} is the e-mail address, percent-encoded (encodeURIComponent).
import { type ConnectTo, HttpUnreachableError, KEY_FETCH_TIMEOUT_MS, MAX_KEY_RESPONSE_BYTES, httpRequest } from "../http-request";

/** A logged-in provider session, for writes to the directory. */
export type ProviderSession = { address: string; token: string };

export interface KeyDirectory {
  /** The provider's mail domain: keys it serves for this domain are its own
   * users' keys (LEAP's Provider_Trust), other domains' only Weak_Chain. */
  readonly domain: string;
  /** The armored public key for an address, or null when there is none. */
  lookup(address: string): Promise<string | null>;
  /** Publishes the account's public key (the session names the address). */
  publish(armored: string, session: ProviderSession): Promise<void>;
}

/** The directory failed to answer as the API says (not "no key"). */
export class KeyDirectoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyDirectoryError";
  }
}

export type HttpKeyDirectoryOptions = {
  /** The provider's API base, e.g. https://api.example.org (no trailing slash needed). */
  baseUrl: string;
  domain: string;
  /** The provider's CA (PEM), when it is not one the system trusts. */
  ca?: string;
  connectTo?: ConnectTo;
  timeoutMs?: number;
};

export class HttpKeyDirectory implements KeyDirectory {
  readonly domain: string;
  private readonly baseUrl: string;

  constructor(private readonly options: HttpKeyDirectoryOptions) {
    this.domain = options.domain.toLowerCase();
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
  }

  async lookup(address: string): Promise<string | null> {
    const response = await this.request("GET", address);
    if (response.status === 404) return null;
    if (response.status !== 200) throw new KeyDirectoryError(`the key directory answered ${response.status} to a lookup of ${address}`);
    return response.body.toString("utf8");
  }

  async publish(armored: string, session: ProviderSession): Promise<void> {
    const response = await this.request("PUT", session.address, {
      body: armored,
      headers: { authorization: `Bearer ${session.token}`, "content-type": "application/pgp-keys" },
    });
    if (response.status < 200 || response.status > 299) {
      throw new KeyDirectoryError(`the key directory refused the key for ${session.address} (${response.status}: ${response.body.toString("utf8").slice(0, 200)})`);
    }
  }

  private async request(method: "GET" | "PUT", address: string, extra: { body?: string; headers?: Record<string, string> } = {}) {
    try {
      return await httpRequest(`${this.baseUrl}/keys/${encodeURIComponent(address)}`, {
        method,
        headers: { accept: "application/pgp-keys", ...extra.headers },
        body: extra.body,
        ca: this.options.ca,
        connectTo: this.options.connectTo,
        timeoutMs: this.options.timeoutMs ?? KEY_FETCH_TIMEOUT_MS,
        maxResponseBytes: MAX_KEY_RESPONSE_BYTES,
      });
    } catch (error) {
      if (error instanceof HttpUnreachableError) throw new KeyDirectoryError(`the key directory did not answer: ${error.message}`);
      throw error;
    }
  }
}
