// The submission relay: authentication by session token, local delivery
// through the MX path, two providers on loopback mailing each other, and
// retries and bounces when the other side is down or refuses.
import { once } from "node:events";
import { createServer, type AddressInfo } from "node:net";
import { decrypt, readMessage, readPrivateKey } from "openpgp";
import nodemailer from "nodemailer";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, incoming, newAccount, publishNewKey, startTestProvider, type TestProvider } from "../helpers/provider";

type Account = { token: string; privateKey: string };

async function account(provider: TestProvider, username: string): Promise<Account> {
  const token = await newAccount(provider, username);
  return { token, privateKey: (await publishNewKey(provider, token, `${username}@${provider.domain}`)).privateKey };
}

function submit(provider: TestProvider, user: string, token: string) {
  return nodemailer.createTransport({ host: "127.0.0.1", port: provider.submissionPort, secure: false, ignoreTLS: true, auth: { user, pass: token } });
}

async function incomingTexts(provider: TestProvider, owner: Account): Promise<string[]> {
  const queue = await incoming(provider, owner.token);
  const key = await readPrivateKey({ armoredKey: owner.privateKey });
  return Promise.all(
    queue.docs.map(async (doc) => {
      const { data } = await decrypt({ message: await readMessage({ armoredMessage: doc.data }), decryptionKeys: key, format: "binary" });
      return Buffer.from(data as Uint8Array).toString("utf8");
    }),
  );
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** An MX stand-in that answers RCPT with `reply(attempt)` (undefined: accept). */
async function fakeMx(reply: (attempt: number) => { code: number; text: string } | undefined) {
  let attempts = 0;
  const received: string[] = [];
  const server = new SMTPServer({
    disabledCommands: ["AUTH"],
    hideSTARTTLS: true,
    logger: false,
    onRcptTo(_address, _session, callback) {
      const refusal = reply(++attempts);
      callback(refusal ? Object.assign(new Error(refusal.text), { responseCode: refusal.code }) : null);
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        received.push(Buffer.concat(chunks).toString("utf8"));
        callback();
      });
    },
  });
  server.listen(0, "127.0.0.1");
  await once(server.server, "listening");
  return { port: (server.server.address() as AddressInfo).port, received, attempts: () => attempts, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("submission", () => {
  let provider: TestProvider;
  let alice: Account;
  beforeAll(async () => {
    provider = await startTestProvider();
    alice = await account(provider, "alice");
    await account(provider, "bob");
  });
  afterAll(() => provider.stop());

  it("delivers to local users through the MX path", async () => {
    await submit(provider, "alice", alice.token).sendMail({ from: "alice@example.org", to: "alice@example.org", subject: "to myself", text: "hi" });
    expect((await incomingTexts(provider, alice)).some((text) => text.includes("Subject: to myself"))).toBe(true);
  });

  it("refuses a wrong token, another user's name and a foreign MAIL FROM", async () => {
    await expect(submit(provider, "alice", "A".repeat(43)).verify()).rejects.toMatchObject({ responseCode: 535 });
    await expect(submit(provider, "bob", alice.token).verify()).rejects.toMatchObject({ responseCode: 535 });
    await expect(
      submit(provider, "alice@example.org", alice.token).sendMail({ from: "bob@example.org", to: "alice@example.org", text: "x" }),
    ).rejects.toMatchObject({ responseCode: 553 });
  });

  it("applies the MX rules to local recipients and refuses domains without a route", async () => {
    const transport = submit(provider, "alice", alice.token);
    await expect(transport.sendMail({ from: "alice@example.org", to: "nobody@example.org", text: "x" })).rejects.toMatchObject({ responseCode: 550 });
    await expect(transport.sendMail({ from: "alice@example.org", to: "someone@unrouted.test", text: "x" })).rejects.toMatchObject({
      responseCode: 550,
      response: expect.stringContaining("5.1.2"),
    });
  });

  it("needs authentication", async () => {
    const anonymous = nodemailer.createTransport({ host: "127.0.0.1", port: provider.submissionPort, secure: false, ignoreTLS: true });
    await expect(anonymous.sendMail({ from: "alice@example.org", to: "alice@example.org", text: "x" })).rejects.toMatchObject({ responseCode: 530 });
  });
});

describe("two providers on loopback", () => {
  let org: TestProvider;
  let net: TestProvider;
  beforeAll(async () => {
    // Each needs the other's MX port for its route: the second one's MX
    // port is picked before the first starts.
    const netMxPort = await freePort();
    org = await startTestProvider({ domain: "example.org", routes: { "example.net": { host: "127.0.0.1", port: netMxPort } } });
    net = await startTestProvider({ domain: "example.net", mxPort: netMxPort, routes: { "example.org": { host: "127.0.0.1", port: org.mxPort } } });
  });
  afterAll(async () => {
    await org.stop();
    await net.stop();
  });

  it("mail each other through submission, relay and MX, encrypted at each end", async () => {
    const alice = await account(org, "alice");
    const carol = await account(net, "carol");
    await submit(org, "alice", alice.token).sendMail({
      from: "alice@example.org",
      to: ["carol@example.net", "alice@example.org"],
      subject: "across",
      text: "hello carol",
    });
    const atCarol = await eventually(async () => (await incomingTexts(net, carol)).find((text) => text.includes("Subject: across")), 10_000, "mail at carol");
    expect(atCarol).toContain("hello carol");
    expect((await incomingTexts(org, alice)).some((text) => text.includes("Subject: across"))).toBe(true);

    await submit(net, "carol", carol.token).sendMail({ from: "carol@example.net", to: "alice@example.org", subject: "reply", text: "hi alice" });
    await eventually(async () => (await incomingTexts(org, alice)).find((text) => text.includes("Subject: reply")), 10_000, "reply at alice");
  });
});

describe("relay retries and bounces", () => {
  it("retries a temporary refusal, then delivers", async () => {
    const remote = await fakeMx((attempt) => (attempt <= 2 ? { code: 451, text: "4.3.0 try later" } : undefined));
    const provider = await startTestProvider({ routes: { "flaky.test": { host: "127.0.0.1", port: remote.port } }, retryDelaysMs: [50, 50, 50] });
    try {
      const alice = await account(provider, "alice");
      await submit(provider, "alice", alice.token).sendMail({ from: "alice@example.org", to: "bob@flaky.test", subject: "persist", text: "x" });
      await eventually(async () => (remote.received.length > 0 ? true : undefined), 10_000, "delivery after retries");
      expect(remote.attempts()).toBe(3);
      expect(remote.received[0]).toContain("Subject: persist");
      expect(await incomingTexts(provider, alice)).toEqual([]);
    } finally {
      await provider.stop();
      await remote.close();
    }
  });

  it("bounces to the sender's incoming queue after the last retry fails", async () => {
    const deadPort = await freePort();
    const provider = await startTestProvider({ routes: { "down.test": { host: "127.0.0.1", port: deadPort } }, retryDelaysMs: [30, 30] });
    try {
      const alice = await account(provider, "alice");
      await submit(provider, "alice", alice.token).sendMail({ from: "alice@example.org", to: "dan@down.test", subject: "lost", text: "x" });
      const bounce = await eventually(async () => (await incomingTexts(provider, alice))[0], 15_000, "bounce");
      expect(bounce).toContain("From: Mail Delivery System <mailer-daemon@example.org>");
      expect(bounce).toContain("Final-Recipient: rfc822; dan@down.test");
      expect(bounce).toContain("Subject: lost"); // the original headers
    } finally {
      await provider.stop();
    }
  });

  it("bounces a permanent refusal at once, without retrying", async () => {
    const remote = await fakeMx(() => ({ code: 550, text: "5.1.1 no such user" }));
    const provider = await startTestProvider({ routes: { "strict.test": { host: "127.0.0.1", port: remote.port } }, retryDelaysMs: [60_000] });
    try {
      const alice = await account(provider, "alice");
      await submit(provider, "alice", alice.token).sendMail({ from: "alice@example.org", to: "eve@strict.test", subject: "refused", text: "x" });
      const bounce = await eventually(async () => (await incomingTexts(provider, alice))[0], 10_000, "bounce");
      expect(bounce).toContain("Status: 5.1.1");
      expect(remote.attempts()).toBe(1);
    } finally {
      await provider.stop();
      await remote.close();
    }
  });
});
