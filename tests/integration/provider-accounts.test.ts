// Provider accounts: SRP sign-up and log-in, session tokens and their expiry,
// the secrets blob.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loginFinishResponse, loginStartResponse, secretsBlob, signupResponse } from "../../shared/provider-api";
import { srpLogin } from "../../shared/srp";
import { systemClock, type Clock } from "../../provider/options";
import { expectBody, logIn, newAccount, request, signUp, startTestProvider, type TestProvider } from "../helpers/provider";

/** The real clock, shifted by `offset` (for expiring tokens without waiting). */
const shiftedClock = { offset: 0 };
const clock: Clock = { ...systemClock, now: () => Date.now() + shiftedClock.offset };

let provider: TestProvider;
beforeAll(async () => {
  provider = await startTestProvider({ clock, sessionTtlMs: 60_000, authFailureDelayMs: 200 });
});
afterAll(() => provider.stop());

describe("sign-up", () => {
  it("creates username@domain, and refuses a taken or reserved name with 409", async () => {
    expect(expectBody(await signUp(provider, "alice", "correct horse"), 201, signupResponse)).toEqual({ address: "alice@example.org" });
    expect((await signUp(provider, "alice", "another")).status).toBe(409);
    expect((await signUp(provider, "postmaster", "x")).status).toBe(409);
  });

  it("refuses malformed requests with 400", async () => {
    expect((await request(provider, "POST", "/signup", { json: { username: "Bad Name", salt: "ab".repeat(32), verifier: "01" } })).status).toBe(400);
    expect((await request(provider, "POST", "/signup", { body: "not json" })).status).toBe(400);
  });
});

describe("SRP log-in", () => {
  beforeAll(async () => {
    await signUp(provider, "bob", "bob's passphrase");
  });

  it("logs in with the right password and proves the provider knows the verifier (M2)", async () => {
    const session = expectBody(await logIn(provider, "bob", "bob's passphrase"), 200, loginFinishResponse);
    expect(session.address).toBe("bob@example.org");
    expect(session.token.length).toBeGreaterThanOrEqual(43);
    expect(session.expiresAt).toBeGreaterThan(Date.now());
  });

  it("answers a wrong password with 401, after a delay", async () => {
    const started = Date.now();
    const result = await logIn(provider, "bob", "wrong");
    expect(result.status).toBe(401);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it("treats an unknown user like a wrong password: stable salt, same shapes, 401", async () => {
    const startFor = async (username: string) =>
      expectBody(await request(provider, "POST", "/login/start", { json: { username, A: srpLogin(username, "x").A } }), 200, loginStartResponse);
    const first = await startFor("nobody");
    const second = await startFor("nobody");
    expect(first.salt).toBe(second.salt);
    expect(first.B).not.toBe(second.B);
    const real = await startFor("bob");
    expect(Math.abs(first.salt.length - real.salt.length)).toBeLessThanOrEqual(2);
    const result = await logIn(provider, "nobody", "anything");
    expect(result.status).toBe(401);
    expect(result.body).toEqual((await logIn(provider, "bob", "wrong")).body);
  });

  it("does not let a login id be used twice", async () => {
    const client = srpLogin("bob", "bob's passphrase");
    const start = expectBody(await request(provider, "POST", "/login/start", { json: { username: "bob", A: client.A } }), 200, loginStartResponse);
    const wrong = await srpLogin("bob", "wrong").answer(start.salt, start.B);
    expect((await request(provider, "POST", "/login/finish", { json: { loginId: start.loginId, M1: wrong.M1 } })).status).toBe(401);
    const right = await client.answer(start.salt, start.B);
    expect((await request(provider, "POST", "/login/finish", { json: { loginId: start.loginId, M1: right.M1 } })).status).toBe(401);
  });

  it("refuses A = 0 (mod N), which would make the session key predictable", async () => {
    expect((await request(provider, "POST", "/login/start", { json: { username: "bob", A: "0" } })).status).toBe(400);
  });

  it("rejects a provider whose M2 is wrong", async () => {
    const client = srpLogin("bob", "bob's passphrase");
    const start = expectBody(await request(provider, "POST", "/login/start", { json: { username: "bob", A: client.A } }), 200, loginStartResponse);
    const proof = await client.answer(start.salt, start.B);
    await expect(proof.verifyServer("1234")).rejects.toThrow(/proof is wrong/);
  });
});

describe("session tokens", () => {
  it("gives 401 without a token, with an unknown one, and after expiry", async () => {
    const token = await newAccount(provider, "carol");
    expect((await request(provider, "GET", "/sync/changes", { token })).status).toBe(200);
    expect((await request(provider, "GET", "/sync/changes")).status).toBe(401);
    expect((await request(provider, "GET", "/sync/changes", { token: "A".repeat(43) })).status).toBe(401);
    shiftedClock.offset = 61_000;
    try {
      expect((await request(provider, "GET", "/sync/changes", { token })).status).toBe(401);
    } finally {
      shiftedClock.offset = 0;
    }
  });
});

describe("secrets blob", () => {
  it("is 404 until stored, then returned to the same account only", async () => {
    const dave = await newAccount(provider, "dave");
    const erin = await newAccount(provider, "erin");
    expect((await request(provider, "GET", "/secrets", { token: dave })).status).toBe(404);
    expect((await request(provider, "PUT", "/secrets", { token: dave, json: { blob: "opaque-ciphertext" } })).status).toBe(204);
    expect(expectBody(await request(provider, "GET", "/secrets", { token: dave }), 200, secretsBlob)).toEqual({ blob: "opaque-ciphertext" });
    expect((await request(provider, "GET", "/secrets", { token: erin })).status).toBe(404);
    expect((await request(provider, "PUT", "/secrets", { json: { blob: "x" } })).status).toBe(401);
  });
});
