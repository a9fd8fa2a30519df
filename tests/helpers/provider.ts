// Test helpers for the provider: one started in-process on 127.0.0.1 with
// free ports and a temporary data folder, and a small HTTP client that checks
// every response against the shared schemas (shared/provider-api.ts).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { generateKey } from "openpgp";
import pino from "pino";
import type { z } from "zod";
import { startProvider, type RunningProvider } from "../../provider/provider";
import type { ProviderOptions } from "../../provider/options";
import {
  bearer,
  changesResponse,
  incomingResponse,
  loginFinishResponse,
  loginStartResponse,
  pushResponse,
  type PushDoc,
} from "../../shared/provider-api";
import { srpLogin, srpRegistration } from "../../shared/srp";

export type TestProvider = RunningProvider & { dataDir: string; stop(): Promise<void> };

export async function startTestProvider(options: Partial<ProviderOptions> = {}): Promise<TestProvider> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), "bitmask-provider-"));
  const provider = await startProvider({
    domain: "example.org",
    httpPort: 0,
    mxPort: 0,
    submissionPort: 0,
    logger: pino({ level: process.env.PROVIDER_TEST_LOG ?? "silent" }),
    authFailureDelayMs: 20,
    ...options,
    dataDir,
  });
  return {
    ...provider,
    dataDir,
    async stop() {
      await provider.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type HttpResult = { status: number; body: unknown; text: string };

export async function request(
  provider: { url: string },
  method: string,
  pathname: string,
  options: { token?: string; json?: unknown; body?: string; contentType?: string } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = bearer(options.token);
  let body: string | undefined = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers["content-type"] = "application/json";
  } else if (body !== undefined) headers["content-type"] = options.contentType ?? "text/plain";
  const response = await fetch(`${provider.url}${pathname}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, text };
}

/** The body checked against a schema, after checking the status. */
export function expectBody<T extends z.ZodType>(result: HttpResult, status: number, schema: T): z.infer<T> {
  if (result.status !== status) throw new Error(`expected ${status}, got ${result.status}: ${result.text.slice(0, 500)}`);
  return schema.parse(result.body);
}

export async function signUp(provider: { url: string }, username: string, password: string): Promise<HttpResult> {
  return request(provider, "POST", "/signup", { json: { username, ...(await srpRegistration(username, password)) } });
}

/** SRP log-in; resolves to the HTTP result of /login/finish (and checks M2 on success). */
export async function logIn(provider: { url: string }, username: string, password: string): Promise<HttpResult> {
  const client = srpLogin(username, password);
  const start = expectBody(await request(provider, "POST", "/login/start", { json: { username, A: client.A } }), 200, loginStartResponse);
  const proof = await client.answer(start.salt, start.B);
  const finish = await request(provider, "POST", "/login/finish", { json: { loginId: start.loginId, M1: proof.M1 } });
  if (finish.status === 200) await proof.verifyServer(loginFinishResponse.parse(finish.body).M2);
  return finish;
}

/** Signs up and logs in; returns the session token. */
export async function newAccount(provider: { url: string }, username: string, password = `pw-${username}`): Promise<string> {
  const signup = await signUp(provider, username, password);
  if (signup.status !== 201) throw new Error(`sign-up failed: ${signup.status} ${signup.text}`);
  return expectBody(await logIn(provider, username, password), 200, loginFinishResponse).token;
}

export async function push(provider: { url: string }, token: string, docs: PushDoc[]) {
  return expectBody(await request(provider, "POST", "/sync/push", { token, json: { docs } }), 200, pushResponse);
}

export async function changes(provider: { url: string }, token: string, since: number, limit?: number) {
  const query = `since=${since}${limit === undefined ? "" : `&limit=${limit}`}`;
  return expectBody(await request(provider, "GET", `/sync/changes?${query}`, { token }), 200, changesResponse);
}

export async function incoming(provider: { url: string }, token: string) {
  return expectBody(await request(provider, "GET", "/incoming", { token }), 200, incomingResponse);
}

/** A Curve25519 key pair for `address`, the public half published. */
export async function publishNewKey(provider: { url: string }, token: string, address: string) {
  const { privateKey, publicKey } = await generateKey({ userIDs: [{ email: address }], format: "armored" });
  const result = await request(provider, "PUT", `/keys/${encodeURIComponent(address)}`, { token, body: publicKey });
  if (result.status !== 204) throw new Error(`publishing the key failed: ${result.status} ${result.text}`);
  return { privateKey, publicKey };
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
