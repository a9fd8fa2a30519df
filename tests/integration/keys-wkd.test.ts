// WKD lookups over real HTTPS. A CA and a server certificate for example.org
// and openpgpkey.example.org are made here with openssl; the server listens
// on 127.0.0.1 and the client is told to connect there for those names (any
// other name is "not found"), so no request leaves 127.0.0.1 and no DNS is asked.
import https from "node:https";
import type { AddressInfo } from "node:net";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type PublicKey, generateKey } from "openpgp";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ConnectTo } from "../../native-host/http-request";
import { AccountKeyManager } from "../../native-host/keys/keymanager";
import { WkdClient, wkdUrls } from "../../native-host/keys/wkd";
import { openTempStore, tempDir } from "../helpers/temp-store";
import { expectSuccess, requireTool, runTool } from "../helpers/tools";

const skipReason = requireTool({ name: "openssl", install: "apt-get install openssl" }, "the WKD test");

type Pki = { ca: string; otherCa: string; key: string; cert: string };

async function makePki(dir: string): Promise<Pki> {
  const file = (name: string) => path.join(dir, name);
  const openssl = async (...args: string[]) => expectSuccess(await runTool("openssl", args, { timeoutMs: 30_000 }), `openssl ${args[0]}`);
  for (const name of ["ca", "other-ca"]) {
    await openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
      "-subj", `/CN=Test ${name}`, "-keyout", file(`${name}.key`), "-out", file(`${name}.pem`));
  }
  await openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=example.org",
    "-keyout", file("server.key"), "-out", file("server.csr"));
  writeFileSync(file("san.ext"), "subjectAltName=DNS:example.org,DNS:openpgpkey.example.org\n");
  await openssl("x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial",
    "-days", "2", "-extfile", file("san.ext"), "-out", file("server.pem"));
  return {
    ca: readFileSync(file("ca.pem"), "utf8"),
    otherCa: readFileSync(file("other-ca.pem"), "utf8"),
    key: readFileSync(file("server.key"), "utf8"),
    cert: readFileSync(file("server.pem"), "utf8"),
  };
}

type WkdServer = {
  port: number;
  /** Response bodies by "host path" (path without the query). */
  published: Map<string, Uint8Array>;
  /** Requests seen, as "host path?query". */
  requests: string[];
  /** When set, requests are left unanswered. */
  silent: boolean;
};

let pki: Pki;
let server: WkdServer;
let closeServer: () => Promise<void>;
let removeDir: () => void;

beforeAll(async () => {
  if (skipReason) return;
  const { dir, cleanup } = tempDir("bitmask-wkd-");
  removeDir = cleanup;
  pki = await makePki(dir);
  const state = { published: new Map<string, Uint8Array>(), requests: [] as string[], silent: false };
  const httpsServer = https.createServer({ key: pki.key, cert: pki.cert }, (request, response) => {
    state.requests.push(`${request.headers.host} ${request.url}`);
    if (state.silent) return;
    const body = state.published.get(`${request.headers.host} ${(request.url ?? "").split("?")[0]}`);
    if (!body) return void response.writeHead(404).end();
    response.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
  });
  await new Promise<void>((resolve) => httpsServer.listen(0, "127.0.0.1", resolve));
  server = { ...state, port: (httpsServer.address() as AddressInfo).port, get silent() { return state.silent; }, set silent(value) { state.silent = value; } };
  closeServer = () => new Promise((resolve) => {
    httpsServer.closeAllConnections();
    httpsServer.close(() => resolve());
  });
});

afterAll(async () => {
  if (skipReason) return;
  await closeServer();
  removeDir();
});

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
  server.published.clear();
  server.requests.length = 0;
  server.silent = false;
});

/** Both WKD hosts (or only the domain, when `advancedHostExists` is false)
 * lead to the local server; every other name does not exist. */
function connectTo(advancedHostExists = true): ConnectTo {
  const local = new Set(["example.org", ...(advancedHostExists ? ["openpgpkey.example.org"] : [])]);
  return (hostname) => (local.has(hostname) ? { host: "127.0.0.1", port: server.port } : null);
}

async function publicKeyFor(email: string): Promise<PublicKey> {
  return (await generateKey({ type: "ecc", curve: "curve25519Legacy", userIDs: [{ email }], format: "object" })).publicKey;
}

/** Publishes `data` where the WKD method would look for `address`. */
function publish(method: "advanced" | "direct", address: string, data: Uint8Array): void {
  const url = new URL(wkdUrls(address)[method]);
  server.published.set(`${url.host} ${url.pathname}`, data);
}

describe.skipIf(skipReason)("WKD over HTTPS", () => {
  it("finds a key by the advanced method first, through the keymanager, as Provider_Trust", async () => {
    const key = await publicKeyFor("Joe.Doe@example.org");
    const other = await publicKeyFor("someone.else@example.org");
    // A WKD answer may hold several keys: the one with a matching user id is taken.
    publish("advanced", "joe.doe@example.org", new Uint8Array([...other.write(), ...key.write()]));
    const temp = await openTempStore();
    cleanups.push(temp.close);
    const keys = new AccountKeyManager({ store: temp.store, address: "me@example.net", wkd: new WkdClient({ ca: pki.ca, connectTo: connectTo() }) });
    expect(await keys.encryptionKeyFor("Joe.Doe@example.org")).toMatchObject({
      fingerprint: key.getFingerprint().toUpperCase(),
      validation: "Provider_Trust",
      source: "wkd",
    });
    // The keymanager compares addresses lower-cased, so it asks for l=joe.doe.
    expect(server.requests).toEqual([`openpgpkey.example.org ${new URL(wkdUrls("joe.doe@example.org").advanced).pathname}?l=joe.doe`]);
  });

  it("uses the direct method only when the openpgpkey host does not exist", async () => {
    const key = await publicKeyFor("joe@example.org");
    publish("direct", "joe@example.org", key.write());
    expect(await new WkdClient({ ca: pki.ca, connectTo: connectTo(false) }).lookup("joe@example.org")).toEqual(key.write());
    expect(server.requests.map((line) => line.split(" ")[0])).toEqual(["example.org"]);

    // The advanced host exists and has no key: that is the answer.
    server.requests.length = 0;
    expect(await new WkdClient({ ca: pki.ca, connectTo: connectTo(true) }).lookup("joe@example.org")).toBeNull();
    expect(server.requests.map((line) => line.split(" ")[0])).toEqual(["openpgpkey.example.org"]);
  });

  it("refuses a server whose certificate is not from a trusted CA or not for the host", async () => {
    publish("advanced", "joe@example.org", (await publicKeyFor("joe@example.org")).write());
    await expect(new WkdClient({ ca: pki.otherCa, connectTo: connectTo() }).lookup("joe@example.org")).rejects.toThrow(/certificate/i);
    // example.com is sent to the same server, whose certificate names only example.org.
    const wrongHost: ConnectTo = (hostname) => (hostname === "openpgpkey.example.com" ? { host: "127.0.0.1", port: server.port } : null);
    await expect(new WkdClient({ ca: pki.ca, connectTo: wrongHost }).lookup("joe@example.com")).rejects.toThrow(/altnames|certificate/i);
    expect(server.requests).toEqual([]);
  });

  it("gives up on a silent server after the timeout, and discovery says so", async () => {
    server.silent = true;
    const temp = await openTempStore();
    cleanups.push(temp.close);
    const wkd = new WkdClient({ ca: pki.ca, connectTo: connectTo(), timeoutMs: 300 });
    const keys = new AccountKeyManager({ store: temp.store, address: "me@example.net", wkd });
    const started = Date.now();
    const discovery = await keys.findEncryptionKey("joe@example.org");
    expect(Date.now() - started).toBeLessThan(3000);
    expect(discovery).toEqual({
      key: null,
      refusals: [{ address: "joe@example.org", reason: expect.stringMatching(/^WKD: https:\/\/openpgpkey\.example\.org\/.*: no answer within 300 ms$/) }],
    });
  });
});
