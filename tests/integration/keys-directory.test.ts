// The keymanager against a provider key directory over real HTTP.
//
// The provider is not built yet: a tiny node:http server on 127.0.0.1 stands
// in for it, implementing exactly the API written down in
// native-host/keys/key-directory.ts (GET/PUT {base}/keys/{address}, Bearer
// session token). When provider/ lands, these tests can run against it.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { generateKey, reformatKey } from "openpgp";
import { afterEach, describe, expect, it } from "vitest";
import { HttpKeyDirectory, KeyDirectoryError, type ProviderSession } from "../../native-host/keys/key-directory";
import { AccountKeyManager } from "../../native-host/keys/keymanager";
import { openTempStore } from "../helpers/temp-store";

const DOMAIN = "example.org";
const DAY_S = 24 * 60 * 60;

type StandInProvider = {
  baseUrl: string;
  keys: Map<string, string>;
  /** Session tokens by the address they may publish for. */
  tokens: Map<string, string>;
  requests: string[];
  close(): Promise<void>;
};

async function startStandInProvider(): Promise<StandInProvider> {
  const keys = new Map<string, string>();
  const tokens = new Map<string, string>();
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    const match = /^\/keys\/([^/?]+)$/.exec(request.url ?? "");
    requests.push(`${request.method} ${request.url}`);
    if (!match) return void response.writeHead(404).end();
    const address = decodeURIComponent(match[1]!).toLowerCase();
    if (request.method === "GET") {
      const key = keys.get(address);
      if (!key) return void response.writeHead(404).end();
      return void response.writeHead(200, { "content-type": "application/pgp-keys" }).end(key);
    }
    if (request.method === "PUT") {
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
      if (!token || tokens.get(address) !== token) return void response.writeHead(403).end("not your address");
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        keys.set(address, Buffer.concat(chunks).toString("utf8"));
        response.writeHead(204).end();
      });
      return;
    }
    response.writeHead(405).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/`,
    keys,
    tokens,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function setUp() {
  const provider = await startStandInProvider();
  cleanups.push(provider.close);
  const directory = new HttpKeyDirectory({ baseUrl: provider.baseUrl, domain: DOMAIN, timeoutMs: 2000 });
  const account = async (address: string, session: ProviderSession | null = null) => {
    const temp = await openTempStore();
    cleanups.push(temp.close);
    return new AccountKeyManager({ store: temp.store, address, directory, session: () => session, discoveryRetryMs: 0 });
  };
  return { provider, directory, account };
}

describe("the provider key directory", () => {
  it("receives the new own key with the session token, and serves it to others as Provider_Trust", async () => {
    const { provider, account } = await setUp();
    provider.tokens.set("alice@example.org", "alice-session");
    const alice = await account("alice@example.org", { address: "alice@example.org", token: "alice-session" });
    const own = await alice.ensureOwnKey();
    expect(provider.requests).toEqual(["PUT /keys/alice%40example.org"]);
    expect(provider.keys.get("alice@example.org")).toBe(own.armoredPublicKey);

    const bob = await account("bob@example.org");
    expect(await bob.encryptionKeyFor("alice@example.org")).toMatchObject({
      fingerprint: own.fingerprint,
      validation: "Provider_Trust",
      source: "provider",
    });
    // Known locally from now on.
    expect(await bob.encryptionKeyFor("alice@example.org")).not.toBeNull();
    expect(provider.requests.filter((line) => line.startsWith("GET"))).toHaveLength(1);
  });

  it("gives keys of other domains only Weak_Chain, and answers 404 with no key", async () => {
    const { provider, account } = await setUp();
    const { publicKey } = await generateKey({ type: "ecc", curve: "curve25519Legacy", userIDs: [{ email: "dan@elsewhere.net" }], format: "object" });
    provider.keys.set("dan@elsewhere.net", publicKey.armor());
    const bob = await account("bob@example.org");
    expect(await bob.encryptionKeyFor("dan@elsewhere.net")).toMatchObject({ validation: "Weak_Chain", source: "provider" });
    expect(await bob.findEncryptionKey("nobody@example.org")).toEqual({ key: null, refusals: [] });
  });

  it("refuses a publication with a wrong session; the refresher publishes once it can", async () => {
    const { provider, account } = await setUp();
    provider.tokens.set("alice@example.org", "right");
    const session = { address: "alice@example.org", token: "wrong" };
    const alice = await account("alice@example.org", session);
    const own = await alice.ensureOwnKey();
    expect(provider.keys.has("alice@example.org")).toBe(false);
    await expect(alice.publishOwnKey()).rejects.toThrow(KeyDirectoryError);
    expect((await alice.refreshKeys()).problems).toEqual([expect.stringMatching(/refused the key for alice@example\.org \(403: not your address\)/)]);

    session.token = "right";
    expect(await alice.refreshKeys()).toMatchObject({ ownKeyPublished: true, problems: [] });
    expect(provider.keys.get("alice@example.org")).toBe(own.armoredPublicKey);
    expect(await alice.refreshKeys()).toMatchObject({ ownKeyPublished: false });
  });

  it("refresh brings a contact's new expiry and later its revocation", async () => {
    const { provider, account } = await setUp();
    // Backdated, so that the re-signed copies below are the newer ones.
    const carol = await generateKey({
      type: "ecc",
      curve: "curve25519Legacy",
      userIDs: [{ email: "carol@example.org" }],
      keyExpirationTime: 100 * DAY_S,
      date: new Date(Date.now() - 60_000),
      format: "object",
    });
    provider.keys.set("carol@example.org", carol.publicKey.armor());
    const bob = await account("bob@example.org");
    const first = await bob.encryptionKeyFor("carol@example.org");
    expect(first?.expires?.getTime()).toBe(carol.publicKey.getCreationTime().getTime() + 100 * DAY_S * 1000);

    const extended = await reformatKey({ privateKey: carol.privateKey, userIDs: [{ email: "carol@example.org" }], keyExpirationTime: 500 * DAY_S, date: new Date(Date.now() - 30_000), format: "object" });
    provider.keys.set("carol@example.org", extended.publicKey.armor());
    expect(await bob.refreshKeys()).toMatchObject({ checked: 1, updated: ["carol@example.org"], problems: [] });
    const after = await bob.encryptionKeyFor("carol@example.org");
    expect(after?.fingerprint).toBe(first?.fingerprint);
    expect(after?.expires?.getTime()).toBe(carol.publicKey.getCreationTime().getTime() + 500 * DAY_S * 1000);

    provider.keys.set("carol@example.org", (await extended.privateKey.revoke()).toPublic().armor());
    expect(await bob.refreshKeys()).toMatchObject({ updated: ["carol@example.org"] });
    const discovery = await bob.findEncryptionKey("carol@example.org");
    expect(discovery.key).toBeNull();
    expect(discovery.refusals.map((refusal) => refusal.reason)).toEqual([
      expect.stringMatching(/^the key [0-9A-F]{40} is revoked$/),
      expect.stringMatching(/^the provider's key directory: the key [0-9A-F]{40} is revoked$/),
    ]);
  });

  it("reports an unreachable, silent or babbling directory, bounded in time and size", async () => {
    const silent = http.createServer((request, response) => {
      // Answers only a lookup of "big", with more than any key; the rest never.
      if (request.url?.endsWith("/big%40example.org")) response.end(Buffer.alloc(2 * 1024 * 1024, 65));
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => {
      silent.closeAllConnections();
      silent.close(() => resolve());
    }));
    const { port } = silent.address() as AddressInfo;
    const directory = new HttpKeyDirectory({ baseUrl: `http://127.0.0.1:${port}`, domain: DOMAIN, timeoutMs: 300 });
    const started = Date.now();
    await expect(directory.lookup("x@example.org")).rejects.toThrow(/did not answer: .* no answer within 300 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(directory.lookup("big@example.org")).rejects.toThrow(/answer larger than 1048576 bytes/);

    const closed = new HttpKeyDirectory({ baseUrl: `http://127.0.0.1:${port + 1 === 65536 ? 1 : port + 1}`, domain: DOMAIN, timeoutMs: 300 });
    await expect(closed.lookup("x@example.org")).rejects.toThrow(KeyDirectoryError);
  });
});
