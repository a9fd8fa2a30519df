// The provider's key directory: public lookup, publishing only one's own
// address, only usable public keys.
import { generateKey } from "openpgp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newAccount, publishNewKey, request, startTestProvider, type TestProvider } from "../helpers/provider";

let provider: TestProvider;
let alice: string;
beforeAll(async () => {
  provider = await startTestProvider();
  alice = await newAccount(provider, "alice");
});
afterAll(() => provider.stop());

describe("key directory", () => {
  it("is 404 until a key is published, then serves it to anyone as text", async () => {
    expect((await request(provider, "GET", "/keys/alice%40example.org")).status).toBe(404);
    const { publicKey } = await publishNewKey(provider, alice, "alice@example.org");
    const lookup = await request(provider, "GET", "/keys/alice@example.org");
    expect(lookup.status).toBe(200);
    expect(lookup.text).toBe(publicKey);
    expect((await request(provider, "GET", "/keys/ALICE%40Example.org")).text).toBe(publicKey);
  });

  it("replaces the key on a new publication", async () => {
    const { publicKey } = await publishNewKey(provider, alice, "alice@example.org");
    expect((await request(provider, "GET", "/keys/alice%40example.org")).text).toBe(publicKey);
  });

  it("publishes only for the token's own address", async () => {
    const { publicKey } = await generateKey({ userIDs: [{ email: "bob@example.org" }], format: "armored" });
    expect((await request(provider, "PUT", "/keys/bob%40example.org", { token: alice, body: publicKey })).status).toBe(403);
    expect((await request(provider, "PUT", "/keys/bob%40example.org", { body: publicKey })).status).toBe(401);
  });

  it("refuses private keys, keys for another address and garbage with 400", async () => {
    const mine = await generateKey({ userIDs: [{ email: "alice@example.org" }], format: "armored" });
    const other = await generateKey({ userIDs: [{ email: "mallory@example.net" }], format: "armored" });
    for (const body of [mine.privateKey, other.publicKey, "not a key"]) {
      expect((await request(provider, "PUT", "/keys/alice%40example.org", { token: alice, body })).status).toBe(400);
    }
    expect((await request(provider, "GET", "/keys/alice%40example.org")).text).not.toContain("PRIVATE");
  });
});
