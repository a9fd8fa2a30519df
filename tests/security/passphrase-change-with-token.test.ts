// The attack: someone holding only a session token (24 hours valid) changed
// the account's passphrase with `PUT /passphrase`, and every session,
// theirs included, stayed valid after a change; there was no log-out. Now
// the change must carry an SRP proof of the current passphrase, it ends
// every session of the account, and POST /logout ends one.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loginFinishResponse, loginStartResponse } from "../../shared/provider-api";
import { srpLogin, srpRegistration } from "../../shared/srp";
import { expectBody, logIn, newAccount, request, startTestProvider, type TestProvider } from "../helpers/provider";

let provider: TestProvider;

beforeAll(async () => {
  provider = await startTestProvider();
});

afterAll(() => provider?.stop());

/** A proof (/login/start answered) of `password` for `username`. */
async function proofOf(username: string, password: string): Promise<{ loginId: string; M1: string }> {
  const client = srpLogin(username, password);
  const start = expectBody(await request(provider, "POST", "/login/start", { json: { username, A: client.A } }), 200, loginStartResponse);
  return { loginId: start.loginId, M1: (await client.answer(start.salt, start.B)).M1 };
}

async function changeTo(token: string, username: string, newPassword: string, proof?: { loginId: string; M1: string }) {
  return request(provider, "PUT", "/passphrase", { token, json: { ...(await srpRegistration(username, newPassword)), blob: "new-blob", proof } });
}

describe("a passphrase change", () => {
  it("with a session token alone is refused, and the passphrase stays", async () => {
    const stolen = await newAccount(provider, "ann", "ann's passphrase");
    expect((await changeTo(stolen, "ann", "the thief's")).status).toBe(400);
    expect((await changeTo(stolen, "ann", "the thief's", await proofOf("ann", "a guess"))).status).toBe(401);
    expect((await logIn(provider, "ann", "ann's passphrase")).status).toBe(200);
    expect((await logIn(provider, "ann", "the thief's")).status).toBe(401);
  });

  it("with a proof for another account is refused", async () => {
    const token = await newAccount(provider, "bea", "bea's passphrase");
    await newAccount(provider, "cid", "cid's passphrase");
    expect((await changeTo(token, "bea", "new", await proofOf("cid", "cid's passphrase"))).status).toBe(401);
    expect((await logIn(provider, "bea", "bea's passphrase")).status).toBe(200);
  });

  it("with a proof of the current passphrase succeeds and ends every session of the account", async () => {
    const mine = await newAccount(provider, "dee", "old passphrase");
    const stolen = expectBody(await logIn(provider, "dee", "old passphrase"), 200, loginFinishResponse).token;
    const other = await newAccount(provider, "eve", "eve's");
    expect((await changeTo(mine, "dee", "new passphrase", await proofOf("dee", "old passphrase"))).status).toBe(204);
    for (const token of [mine, stolen]) expect((await request(provider, "GET", "/secrets", { token })).status).toBe(401);
    // Other accounts keep their sessions.
    expect((await request(provider, "GET", "/secrets", { token: other })).status).toBe(404);
    expect((await logIn(provider, "dee", "old passphrase")).status).toBe(401);
    expect((await logIn(provider, "dee", "new passphrase")).status).toBe(200);
  });
});

describe("log-out", () => {
  it("ends the session whose token it carries, and only that one", async () => {
    const first = await newAccount(provider, "fay", "fay's");
    const second = expectBody(await logIn(provider, "fay", "fay's"), 200, loginFinishResponse).token;
    expect((await request(provider, "POST", "/logout", { token: first })).status).toBe(204);
    expect((await request(provider, "GET", "/secrets", { token: first })).status).toBe(401);
    expect((await request(provider, "GET", "/secrets", { token: second })).status).toBe(404);
  });
});
