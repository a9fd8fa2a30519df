// The provider's MX: who is refused at RCPT (swaks and nodemailer as the
// sending MTA), and that accepted mail is stored encrypted to the
// recipient's key, byte for byte.
import { decrypt, readMessage, readPrivateKey } from "openpgp";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeRun, requireTool, runTool } from "../helpers/tools";
import { incoming, newAccount, publishNewKey, request, startTestProvider, type TestProvider } from "../helpers/provider";

const swaksMissing = requireTool({ name: "swaks", install: "apt-get install swaks" }, "provider MX tests with swaks");

let provider: TestProvider;
let alice: { token: string; privateKey: string };
let bobToken: string;
beforeAll(async () => {
  provider = await startTestProvider({ limits: { maxMessageBytes: 200_000 } });
  const token = await newAccount(provider, "alice");
  alice = { token, privateKey: (await publishNewKey(provider, token, "alice@example.org")).privateKey };
  bobToken = await newAccount(provider, "bob"); // no key published
});
afterAll(() => provider.stop());

async function decryptIncoming(armored: string, privateKey: string): Promise<Buffer> {
  const { data } = await decrypt({
    message: await readMessage({ armoredMessage: armored }),
    decryptionKeys: await readPrivateKey({ armoredKey: privateKey }),
    format: "binary",
  });
  return Buffer.from(data as Uint8Array);
}

function mx() {
  return nodemailer.createTransport({ host: "127.0.0.1", port: provider.mxPort, secure: false, ignoreTLS: true });
}

describe("MX recipient rules (nodemailer)", () => {
  it("refuses an unknown user with 550 5.1.1", async () => {
    await expect(mx().sendMail({ envelope: { from: "x@example.net", to: ["nobody@example.org"] }, raw: "Subject: x\r\n\r\nx\r\n" })).rejects.toMatchObject({
      responseCode: 550,
      response: expect.stringContaining("5.1.1"),
    });
  });

  it("defers a user without a published key with 450 4.7.13", async () => {
    await expect(mx().sendMail({ envelope: { from: "x@example.net", to: ["bob@example.org"] }, raw: "Subject: x\r\n\r\nx\r\n" })).rejects.toMatchObject({
      responseCode: 450,
      response: expect.stringContaining("4.7.13"),
    });
  });

  it("refuses to relay for other domains", async () => {
    await expect(mx().sendMail({ envelope: { from: "x@example.net", to: ["someone@example.com"] }, raw: "Subject: x\r\n\r\nx\r\n" })).rejects.toMatchObject({
      responseCode: 550,
    });
  });

  it("refuses a message over the size limit with 552", async () => {
    const raw = `Subject: big\r\n\r\n${"x".repeat(100)}\r\n`.repeat(3000);
    await expect(mx().sendMail({ envelope: { from: "x@example.net", to: ["alice@example.org"] }, raw })).rejects.toMatchObject({ responseCode: 552 });
  });

  it("stores accepted mail encrypted to the recipient's key, exactly as sent", async () => {
    const raw = Buffer.concat([
      Buffer.from("From: x@example.net\r\nTo: alice@example.org\r\nSubject: hello\r\n\r\n"),
      Buffer.from([0xe9, 0xff, 0x00, 0x0d, 0x0a]),
      Buffer.from(".leading dot\r\nlast line\r\n"),
    ]);
    await mx().sendMail({ envelope: { from: "x@example.net", to: ["alice@example.org"] }, raw });
    const queue = await incoming(provider, alice.token);
    expect(queue.docs).toHaveLength(1);
    const doc = queue.docs[0]!;
    expect(doc.data).toMatch(/^-----BEGIN PGP MESSAGE-----/);
    expect((await decryptIncoming(doc.data, alice.privateKey)).equals(raw)).toBe(true);

    expect((await request(provider, "DELETE", `/incoming/${doc.id}`, { token: alice.token })).status).toBe(204);
    expect((await request(provider, "DELETE", `/incoming/${doc.id}`, { token: alice.token })).status).toBe(204);
    expect((await incoming(provider, alice.token)).docs).toEqual([]);
  });

  it("keeps each user's incoming queue to themselves", async () => {
    await mx().sendMail({ envelope: { from: "x@example.net", to: ["alice@example.org"] }, raw: "Subject: private\r\n\r\nx\r\n" });
    expect((await incoming(provider, bobToken)).docs).toEqual([]);
    const [doc] = (await incoming(provider, alice.token)).docs;
    expect((await request(provider, "DELETE", `/incoming/${doc!.id}`, { token: bobToken })).status).toBe(204);
    expect((await incoming(provider, alice.token)).docs).toHaveLength(1);
    await request(provider, "DELETE", `/incoming/${doc!.id}`, { token: alice.token });
  });
});

describe.skipIf(swaksMissing)("MX recipient rules (swaks)", () => {
  const swaks = (to: string, extra: string[] = []) =>
    runTool("swaks", ["--server", "127.0.0.1", "--port", String(provider.mxPort), "--from", "sender@example.net", "--to", to, ...extra], {
      timeoutMs: 20_000,
    });

  it("answers RCPT as the rules say", async () => {
    const unknown = await swaks("nobody@example.org");
    expect(unknown.stdout, describeRun(unknown)).toMatch(/<\*\* 550 5\.1\.1/);
    const noKey = await swaks("bob@example.org");
    expect(noKey.stdout, describeRun(noKey)).toMatch(/<\*\* 450 4\.7\.13/);
  });

  it("delivers to a user with a key", async () => {
    const sent = await swaks("alice@example.org", ["--header", "Subject: from swaks", "--body", "swaks body"]);
    expect(sent.code, describeRun(sent)).toBe(0);
    const queue = await incoming(provider, alice.token);
    const texts = await Promise.all(queue.docs.map(async (doc) => (await decryptIncoming(doc.data, alice.privateKey)).toString("utf8")));
    expect(texts.some((text) => text.includes("Subject: from swaks") && text.includes("swaks body"))).toBe(true);
  });
});
