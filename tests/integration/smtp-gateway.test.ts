// The SMTP gateway at the protocol level (what EHLO says, SIZE, loopback
// only) and the parts of its policy that need a closer look than a client
// gives: pass-through of encrypted mail, the relay over STARTTLS, a relay
// that refuses our login, and a partial deferral that goes to the queue.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OwnKey } from "../../native-host/keys/keymanager-api";
import { signAndEncryptMessage } from "../../native-host/pgp/build";
import { SmtpGateway } from "../../native-host/smtp/gateway";
import { MAX_MESSAGE_BYTES, QUEUE_RETRY_DELAYS_MS } from "../../native-host/smtp/limits";
import { type Gateway, ManualClock, SENDER, headerOf, nodemailerClient, openAs, startGateway } from "../helpers/smtp-gateway";

const BOB = "bob@example.net";
const CAROL = "carol@example.com";

const plain = (subject: string) =>
  Buffer.from(`From: ${SENDER}\r\nTo: ${BOB}, ${CAROL}\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\n\r\nHello.\r\n`);

/** A raw SMTP conversation: sends each line, returns every reply, in order. */
async function converse(port: number, lines: string[]): Promise<string[]> {
  const socket = net.connect(port, "127.0.0.1");
  const replies: string[] = [];
  let buffer = "";
  let waiting: (() => void) | null = null;
  socket.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("latin1");
    // A complete reply ends with a line "ddd text" (no dash after the code).
    const match = /(^|\r\n)\d{3} [^\r\n]*\r\n$/.exec(buffer);
    if (match) {
      replies.push(buffer.trimEnd());
      buffer = "";
      waiting?.();
    }
  });
  let failure: Error | null = null;
  socket.on("error", (error) => {
    failure = error;
    waiting?.();
  });
  const nextReply = () => new Promise<void>((resolve) => (waiting = resolve));
  await nextReply();
  for (const line of lines) {
    socket.write(`${line}\r\n`);
    await nextReply();
  }
  socket.destroy();
  if (failure) throw failure;
  return replies;
}

const authPlain = (user: string, pass: string) => `AUTH PLAIN ${Buffer.from(`\0${user}\0${pass}`).toString("base64")}`;

describe("the SMTP gateway", () => {
  let gateway: Gateway;
  let clock: ManualClock;
  let bob: OwnKey;

  beforeAll(async () => {
    clock = new ManualClock();
    gateway = await startGateway({ relayTls: "starttls", clock });
    bob = await gateway.addContact(BOB);
  });
  afterAll(() => gateway.stop());

  it("advertises SIZE with its limit, PIPELINING, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES and AUTH PLAIN LOGIN", async () => {
    const [greeting, ehlo] = await converse(gateway.port, ["EHLO client.test"]);
    expect(greeting).toMatch(/^220 /);
    for (const extension of ["PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "AUTH PLAIN LOGIN", `SIZE ${MAX_MESSAGE_BYTES}`]) {
      expect(ehlo).toContain(`250-${extension}`.replace("250-SIZE", "250 SIZE"));
    }
    expect(ehlo).not.toContain("STARTTLS");
  });

  it("wants a login before MAIL, and refuses a declared size over the limit with 552", async () => {
    const [, , early, login, tooBig] = await converse(gateway.port, [
      "EHLO client.test",
      `MAIL FROM:<${SENDER}>`,
      authPlain(SENDER, gateway.token),
      `MAIL FROM:<${SENDER}> SIZE=${MAX_MESSAGE_BYTES + 1}`,
    ]);
    expect(early).toMatch(/^530 5\.7\.0 /);
    expect(login).toMatch(/^235 2\.7\.0 /);
    expect(tooBig).toMatch(/^552 5\.3\.4 /);
  });

  it("listens on loopback only", async () => {
    const other = new SmtpGateway({ authenticate: async () => null });
    await expect(other.listen(0, "0.0.0.0")).rejects.toThrow(/loopback only/);
  });

  it("relays over STARTTLS, with the session credential", async () => {
    const result = await nodemailerClient.send({ port: gateway.port, user: SENDER, pass: gateway.token, from: SENDER, to: [BOB], message: plain("Over STARTTLS") });
    expect(result.accepted).toBe(true);
    const [toBob] = gateway.sink.received.splice(0);
    expect((await openAs(toBob!.raw, bob, gateway.own)).message.toString()).toContain("Subject: Over STARTTLS");
    expect(gateway.usedForEncryption(BOB)).toBe(true);
    expect(gateway.events).toContainEqual(expect.objectContaining({ type: "sent", encrypted: 1, signedOnly: 0 }));
  });

  it("passes an already encrypted message through unchanged, adding only the Autocrypt header", async () => {
    const encrypted = await signAndEncryptMessage(plain("Encrypted by the client"), gateway.own.privateKey, [bob.publicKey]);
    const result = await nodemailerClient.send({ port: gateway.port, user: SENDER, pass: gateway.token, from: SENDER, to: [BOB, CAROL], message: encrypted });
    expect(result.accepted).toBe(true);
    const received = gateway.sink.received.splice(0);
    expect(received.map((mail) => mail.to)).toEqual([[BOB], [CAROL]]);
    for (const mail of received) {
      expect(headerOf(mail.raw)).toMatch(/^Autocrypt: addr=alice@example\.org;/);
      const withoutAutocrypt = mail.raw.toString("latin1").replace(/^Autocrypt:.*\r\n(?:[ \t].*\r\n)*/, "");
      expect(withoutAutocrypt).toBe(encrypted.toString("latin1"));
    }
  });

  it("answers 451 when the relay refuses our login, and sends nothing", async () => {
    gateway.relayCredential.pass = "expired-session";
    try {
      const result = await nodemailerClient.send({ port: gateway.port, user: SENDER, pass: gateway.token, from: SENDER, to: [BOB], message: plain("Stale session") });
      expect(result.accepted).toBe(false);
      expect(result.replies).toMatch(/451 4\.4\.1 not sent to anyone, try again later: the provider refused our login: "535 bad credential"/);
    } finally {
      gateway.relayCredential.pass = "provider-session-token";
    }
    expect(gateway.sink.received).toHaveLength(0);
  });

  it("queues the recipients the relay defers once others were delivered, and delivers them on retry", async () => {
    gateway.sink.recipientReply = (address) => (address === CAROL ? "451 4.2.1 try again later" : null);
    const result = await nodemailerClient.send({ port: gateway.port, user: SENDER, pass: gateway.token, from: SENDER, to: [BOB, CAROL], message: plain("Deferred") });
    expect(result.accepted).toBe(true);
    expect(result.replies).toMatch(/250 2\.6\.0 sent to 1 recipient\(s\); queued for carol@example\.com/);
    expect(gateway.sink.received.splice(0).map((mail) => mail.to)).toEqual([[BOB]]);
    expect(gateway.queue.pending()).toMatchObject([{ recipients: [CAROL], attempts: 0, lastError: "451 4.2.1 try again later" }]);

    gateway.sink.recipientReply = () => null;
    clock.advance(QUEUE_RETRY_DELAYS_MS[0]!);
    await gateway.queue.retryDue();
    const [toCarol] = gateway.sink.received.splice(0);
    expect(toCarol?.to).toEqual([CAROL]);
    expect(headerOf(toCarol!.raw)).toContain("Content-Type: multipart/signed");
    expect(gateway.queue.pending()).toEqual([]);
    expect(gateway.bounces).toEqual([]);
    expect(gateway.queueErrors).toEqual([]);
  });
});
