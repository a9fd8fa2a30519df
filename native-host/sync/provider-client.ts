// The daemon's side of the provider's HTTP API (shared/provider-api.ts):
// sign-up and SRP log-in, the secrets blob, sync pages and pushes, the
// incoming queue, and the provider's description. Every answer is checked
// against the shared schemas; every byte of mail that passes is ciphertext.
import { scrypt as scryptCallback } from "node:crypto";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import type { z } from "zod";
import {
  bearer,
  changesResponse,
  errorResponse,
  incomingResponse,
  loginFinishResponse,
  loginStartResponse,
  providerInfo,
  pushResponse,
  secretsBlob,
  signupResponse,
  type IncomingDeleteRequest,
  type IncomingResponse,
  type ProviderInfo,
} from "../../shared/provider-api";
import { srpLogin, srpRegistration } from "../../shared/srp";
import { HttpUnreachableError, httpRequest } from "../http-request";
import { SCRYPT_COST } from "../store/secrets";
import { ProviderUnavailableError, PushTooLargeError, type PulledPage, type PushedDoc, type PushResult, type SyncTransport } from "./transport";

/** One API call waits at most this long: a sync page of 16 MiB on a slow line fits. */
const PROVIDER_REQUEST_TIMEOUT_MS = 120_000;
/** A changes page stops after 16 MiB of data plus one document, which can
 * be a 25 MB attachment padded and base64-encoded: 64 MiB covers it. */
const MAX_SYNC_RESPONSE_BYTES = 64 * 1024 * 1024;
/** Incoming pages carry whole armored messages (25 MB each at most). */
const MAX_INCOMING_RESPONSE_BYTES = 256 * 1024 * 1024;
const MAX_SMALL_RESPONSE_BYTES = 1024 * 1024;

export type ProviderEndpoint = {
  /** The API's base URL, e.g. https://api.example.org */
  url: string;
  /** The provider's CA (PEM) when it is not one the system trusts. */
  ca?: string;
};

/** The provider answered, and said no: a 4xx other than an expired session. */
export class ProviderRefusedError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ProviderRefusedError";
  }
}

/** SRP failed: no such user, or not the right passphrase. */
export class LoginRefusedError extends Error {
  constructor(address: string) {
    super(`the provider refused the log-in of ${address}: wrong passphrase, or no such account`);
    this.name = "LoginRefusedError";
  }
}

/** What SRP proves knowledge of: a slow derivation of the passphrase,
 * salted with the address so both devices derive the same one, and apart
 * from the key that wraps the storage secret (that one has a random salt).
 * A stolen verifier then costs one scrypt per guess, like the secrets file. */
export function srpSecretFor(address: string, passphrase: string): Promise<string> {
  const salt = Buffer.from(`bitmask-mail/srp/v1\0${address.toLowerCase()}`);
  return new Promise((resolve, reject) =>
    scryptCallback(passphrase.normalize("NFC"), salt, 32, { ...SCRYPT_COST, maxmem: 256 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key.toString("hex")),
    ),
  );
}

export type ProviderLogin = { token: string; expiresAt: number; address: string };

type CallOptions = { token?: string; json?: unknown; maxBytes?: number };

export class ProviderClient {
  private readonly base: string;

  constructor(readonly endpoint: ProviderEndpoint) {
    this.base = endpoint.url.replace(/\/+$/, "");
  }

  info(): Promise<ProviderInfo> {
    return this.call("GET", "/provider", providerInfo);
  }

  /** Registers `username`; resolves to the new address. */
  async signUp(username: string, srpSecret: string): Promise<string> {
    const registration = await srpRegistration(username, srpSecret);
    return (await this.call("POST", "/signup", signupResponse, { json: { username, ...registration } })).address;
  }

  async logIn(username: string, srpSecret: string): Promise<ProviderLogin> {
    try {
      const { loginId, M1, proof } = await this.prove(username, srpSecret);
      const finish = await this.call("POST", "/login/finish", loginFinishResponse, { json: { loginId, M1 } });
      // An impostor that answered with some token must not get our mail.
      await proof.verifyServer(finish.M2);
      return { token: finish.token, expiresAt: finish.expiresAt, address: finish.address };
    } catch (error) {
      if (error instanceof ProviderRefusedError && (error.status === 401 || error.status === 404)) throw new LoginRefusedError(username);
      throw error;
    }
  }

  /** The first half of an SRP log-in: a log-in id and the proof M1 that
   * /login/finish (or a passphrase change) checks. */
  async prove(username: string, srpSecret: string) {
    const srp = srpLogin(username, srpSecret);
    const start = await this.call("POST", "/login/start", loginStartResponse, { json: { username, A: srp.A } });
    const proof = await srp.answer(start.salt, start.B);
    return { loginId: start.loginId, M1: proof.M1, proof };
  }

  /** Opens a long-lived text/event-stream response (no time limit: the
   * caller watches it and aborts with `signal`). Resolves once the provider
   * answered 200; the caller reads the response to its end. */
  openStream(path: string, token: string, signal: AbortSignal): Promise<IncomingMessage> {
    const url = `${this.base}${path}`;
    const secure = url.startsWith("https:");
    return new Promise((resolve, reject) => {
      const request = (secure ? https : http).request(url, {
        headers: { accept: "text/event-stream", authorization: bearer(token) },
        ca: this.endpoint.ca,
        signal,
      });
      request.on("error", (error) => reject(new ProviderUnavailableError(`the provider's event stream is unreachable: ${error.message}`)));
      request.once("response", (response) => {
        if (response.statusCode === 200) {
          resolve(response);
          return;
        }
        response.resume();
        const status = response.statusCode ?? 0;
        const message = `the provider answered ${status} to GET ${path}`;
        reject(status >= 400 && status < 500 ? new ProviderRefusedError(status, message) : new ProviderUnavailableError(message));
      });
      request.end();
    });
  }

  /** One request; the answer checked against `schema` (undefined for 204). */
  async call<S extends z.ZodType>(method: "GET" | "PUT" | "POST" | "DELETE", path: string, schema: S | null, options: CallOptions = {}): Promise<z.infer<S>> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (options.token) headers.authorization = bearer(options.token);
    let body: string | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] = "application/json";
    }
    let response;
    try {
      response = await httpRequest(`${this.base}${path}`, {
        method,
        headers,
        body,
        ca: this.endpoint.ca,
        timeoutMs: PROVIDER_REQUEST_TIMEOUT_MS,
        maxResponseBytes: options.maxBytes ?? MAX_SMALL_RESPONSE_BYTES,
      });
    } catch (error) {
      if (error instanceof HttpUnreachableError) throw new ProviderUnavailableError(`the provider is unreachable: ${error.message}`);
      throw new ProviderUnavailableError(`the provider's answer to ${method} ${path} broke off: ${(error as Error).message}`);
    }
    const text = response.body.toString("utf8");
    if (response.status >= 500) throw new ProviderUnavailableError(`the provider failed (${response.status}) on ${method} ${path}`);
    if (response.status >= 400) {
      const reason = parseJson(text, errorResponse)?.error ?? text.slice(0, 200);
      throw new ProviderRefusedError(response.status, `the provider refused ${method} ${path} (${response.status}): ${reason}`);
    }
    if (schema === null) return undefined as z.infer<S>;
    const parsed = parseJson(text, schema);
    if (parsed === undefined) throw new ProviderUnavailableError(`the provider's answer to ${method} ${path} is not what the API says`);
    return parsed;
  }
}

function parseJson<S extends z.ZodType>(text: string, schema: S): z.infer<S> | undefined {
  try {
    const result = schema.safeParse(JSON.parse(text));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

export type ProviderCredential = { username: string; srpSecret: string };

/** A logged-in session for one account. It logs in again by itself when the
 * token expires, so the daemon never asks for the passphrase after unlocking. */
export class ProviderSession implements SyncTransport {
  private login: ProviderLogin | null = null;
  private loggingIn: Promise<ProviderLogin> | null = null;

  constructor(
    readonly client: ProviderClient,
    /** Read at each log-in: a passphrase change on this device replaces it. */
    private readonly credential: () => ProviderCredential,
  ) {}

  /** A token that was valid at its last use (logs in when there is none). */
  async token(): Promise<string> {
    if (this.login && this.login.expiresAt > Date.now() + 60_000) return this.login.token;
    const { username, srpSecret } = this.credential();
    this.loggingIn ??= this.client.logIn(username, srpSecret).finally(() => (this.loggingIn = null));
    this.login = await this.loggingIn;
    return this.login.token;
  }

  /** The token as it stands, for a caller that cannot wait (null before the first log-in). */
  currentToken(): string | null {
    return this.login?.token ?? null;
  }

  pull(since: number, limit: number): Promise<PulledPage> {
    return this.authorized("GET", `/sync/changes?since=${since}&limit=${limit}`, changesResponse, undefined, MAX_SYNC_RESPONSE_BYTES);
  }

  async push(docs: PushedDoc[]): Promise<PushResult> {
    try {
      return await this.authorized("POST", "/sync/push", pushResponse, { docs });
    } catch (error) {
      if (error instanceof ProviderRefusedError && error.status === 413) throw new PushTooLargeError(error.message);
      throw error;
    }
  }

  /** The secrets blob, or null when none was stored. */
  async secrets(): Promise<string | null> {
    try {
      return (await this.authorized("GET", "/secrets", secretsBlob)).blob;
    } catch (error) {
      if (error instanceof ProviderRefusedError && error.status === 404) return null;
      throw error;
    }
  }

  async storeSecrets(blob: string): Promise<void> {
    await this.authorized("PUT", "/secrets", null, { blob });
  }

  /** New SRP credentials and the blob wrapped under the new passphrase, in
   * one request proving the current passphrase. The provider ends every
   * session of the account: the next call logs in with the new one. */
  async changePassphrase(newSrpSecret: string, blob: string): Promise<void> {
    const { username, srpSecret } = this.credential();
    const registration = await srpRegistration(username, newSrpSecret);
    const { loginId, M1 } = await this.client.prove(username, srpSecret);
    await this.authorized("PUT", "/passphrase", null, { ...registration, blob, proof: { loginId, M1 } });
    this.login = null;
  }


  incoming(limit: number): Promise<IncomingResponse> {
    return this.authorized("GET", `/incoming?limit=${limit}`, incomingResponse, undefined, MAX_INCOMING_RESPONSE_BYTES);
  }

  /** Deletes a page of incoming mail in one request. */
  async deleteIncoming(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.authorized("POST", "/incoming/delete", null, { ids } satisfies IncomingDeleteRequest);
  }

  /** The provider's event stream (GET /events), logging in again once when
   * the token is refused. */
  openEvents(signal: AbortSignal): Promise<IncomingMessage> {
    return this.withToken((token) => this.client.openStream("/events", token, signal));
  }

  private authorized<S extends z.ZodType>(
    method: "GET" | "PUT" | "POST" | "DELETE",
    path: string,
    schema: S | null,
    json?: unknown,
    maxBytes?: number,
  ): Promise<z.infer<S>> {
    return this.withToken((token) => this.client.call(method, path, schema, { token, json, maxBytes }));
  }

  /** `use` with the session's token; once more with a fresh log-in when the
   * provider says the token is no longer good (it expired or the provider restarted). */
  private async withToken<T>(use: (token: string) => Promise<T>): Promise<T> {
    try {
      return await use(await this.token());
    } catch (error) {
      if (!(error instanceof ProviderRefusedError) || error.status !== 401) throw error;
      this.login = null;
      return use(await this.token());
    }
  }
}
