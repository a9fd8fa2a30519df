// The SMTP gateway's rules, each driven by both real SMTP clients, nodemailer
// and swaks: login with the mail token, MAIL FROM, per-recipient encryption,
// always-encrypt, Bcc privacy, a 25 MB attachment, and a relay that is down
// or refuses. The relay is a recording SMTP sink over TLS (smtp-sink.ts).
import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { OwnKey } from "../../native-host/keys/keymanager-api";
import { HIDDEN_SUBJECT } from "../../native-host/pgp/build";
import { openMessage } from "../../native-host/pgp/open";
import {
  type Gateway,
  type SmtpClient,
  SENDER,
  headerOf,
  nodemailerClient,
  openAs,
  startGateway,
  swaksClient,
} from "../helpers/smtp-gateway";
import { messageWithAttachment } from "../helpers/messages";
import { requireTool } from "../helpers/tools";

const BOB = "bob@example.net";
const CAROL = "carol@example.com";
const DAVE = "dave@example.org";

function composed(headers: { to: string[]; cc?: string[]; bcc?: string[] }, subject = "Lunch plans"): Buffer {
  const lines = [`From: Alice <${SENDER}>`, `To: ${headers.to.join(", ")}`];
  if (headers.cc) lines.push(`Cc: ${headers.cc.join(", ")}`);
  if (headers.bcc) lines.push(`Bcc: ${headers.bcc.join(", ")}`);
  lines.push(`Subject: ${subject}`, "Date: Mon, 23 Nov 2026 10:00:00 +0000", `Message-ID: <${randomBytes(6).toString("hex")}@example.org>`);
  lines.push("MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit");
  return Buffer.from(`${lines.join("\r\n")}\r\n\r\nSee you at noon. Grüße!\r\n`, "utf8");
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

const clients: SmtpClient[] = [nodemailerClient, swaksClient];

describe.each(clients)("the gateway, driven by $name", (client) => {
  const missing = client.tool ? requireTool({ name: client.tool, install: `apt-get install ${client.tool}` }, `SMTP tests with ${client.name}`) : null;
  let gateway: Gateway;
  let bob: OwnKey;
  let dave: OwnKey;

  beforeAll(async () => {
    if (missing) return;
    gateway = await startGateway();
    bob = await gateway.addContact(BOB);
    dave = await gateway.addContact(DAVE);
  });
  afterAll(async () => {
    if (!missing) await gateway.stop();
  });
  beforeEach(() => {
    if (missing) return;
    gateway.sink.received.length = 0;
    gateway.sink.recipientReply = () => null;
    gateway.setAlwaysEncrypt(false);
  });

  const send = (to: string[], message: Buffer, options: { pass?: string; from?: string; user?: string } = {}) =>
    client.send({
      port: gateway.port,
      user: options.user ?? SENDER,
      pass: options.pass ?? gateway.token,
      from: options.from ?? SENDER,
      to,
      message,
    });

  it.skipIf(missing)("refuses a wrong token, and a right token for another address, with 535 5.7.8", async () => {
    const wrongToken = await send([BOB], composed({ to: [BOB] }), { pass: "not-the-token" });
    expect(wrongToken.accepted).toBe(false);
    expect(wrongToken.replies).toMatch(/535 5\.7\.8 authentication failed/);
    const wrongUser = await send([BOB], composed({ to: [BOB] }), { user: "mallory@example.org" });
    expect(wrongUser.replies).toMatch(/535 5\.7\.8/);
    expect(gateway.sink.received).toHaveLength(0);
  });

  it.skipIf(missing)("refuses a MAIL FROM other than the logged-in address with 550 5.7.1, saying why", async () => {
    const result = await send([BOB], composed({ to: [BOB] }), { from: "boss@example.org" });
    expect(result.accepted).toBe(false);
    expect(result.replies).toMatch(/550 5\.7\.1 sender <boss@example\.org> is not the logged-in address <alice@example\.org>/);
    expect(gateway.sink.received).toHaveLength(0);
  });

  it.skipIf(missing)("encrypts to recipients with a key, signs for the others, one envelope each, Autocrypt on all", async () => {
    const result = await send([BOB, CAROL], composed({ to: [BOB, CAROL] }));
    expect(result).toMatchObject({ accepted: true });
    expect(result.replies).toMatch(/250 2\.6\.0 sent to 2 recipient/);
    const received = gateway.sink.received;
    expect(received.map((mail) => mail.to)).toEqual(expect.arrayContaining([[BOB], [CAROL]]));
    expect(received.every((mail) => mail.from === SENDER)).toBe(true);
    for (const mail of received) expect(headerOf(mail.raw)).toMatch(/^Autocrypt: addr=alice@example\.org;/m);

    const toBob = received.find((mail) => mail.to[0] === BOB)!;
    expect(headerOf(toBob.raw)).toContain("Content-Type: multipart/encrypted");
    expect(headerOf(toBob.raw)).toContain(`Subject: ${HIDDEN_SUBJECT}\r\n`);
    expect(toBob.raw.toString("latin1")).not.toContain("Lunch plans");
    const opened = await openAs(toBob.raw, bob, gateway.own);
    expect(opened.signature).toEqual({ status: "valid", fingerprint: gateway.own.fingerprint });
    expect(opened.message.toString("utf8")).toContain("Subject: Lunch plans\r\n");
    expect(opened.message.toString("utf8")).toContain("See you at noon. Grüße!");

    const toCarol = received.find((mail) => mail.to[0] === CAROL)!;
    expect(headerOf(toCarol.raw)).toContain("Content-Type: multipart/signed");
    const verified = await openMessage(toCarol.raw, { decryptionKeys: [], verificationKeys: [gateway.own.publicKey] });
    expect(verified.signature).toEqual({ status: "valid", fingerprint: gateway.own.fingerprint });
  });

  it.skipIf(missing)("under always-encrypt, refuses a recipient without a key with 550 5.7.1 and sends to nobody", async () => {
    gateway.setAlwaysEncrypt(true);
    const result = await send([BOB, CAROL], composed({ to: [BOB, CAROL] }));
    expect(result.accepted).toBe(false);
    // The RCPT refusal names carol; a client that goes on to DATA anyway gets the same reason again.
    expect(result.replies).toMatch(/550 5\.7\.1 (not sent to anyone: )?no encryption key for <carol@example\.com>/);
    expect(result.replies).not.toMatch(/no encryption key for <bob/);
    expect(gateway.sink.received).toHaveLength(0);
  });

  it.skipIf(missing)("keeps Bcc recipients out of every other copy", async () => {
    const message = composed({ to: [BOB], cc: [CAROL], bcc: [DAVE] });
    const result = await send([BOB, CAROL, DAVE], message);
    expect(result.accepted).toBe(true);
    const received = gateway.sink.received;
    expect(received.map((mail) => mail.to).sort()).toEqual([[BOB], [CAROL], [DAVE]]);
    for (const mail of received) expect(headerOf(mail.raw)).not.toMatch(/^Bcc:/im);
    const toBob = received.find((mail) => mail.to[0] === BOB)!;
    const toCarol = received.find((mail) => mail.to[0] === CAROL)!;
    expect(toBob.raw.toString("latin1")).not.toContain(DAVE);
    expect(toCarol.raw.toString("latin1")).not.toContain(DAVE);
    expect((await openAs(toBob.raw, bob, gateway.own)).message.toString("latin1")).not.toContain(DAVE);
    // Dave's own copy is his, encrypted to his key only (and the sender's).
    const toDave = received.find((mail) => mail.to[0] === DAVE)!;
    const forDave = await openAs(toDave.raw, dave, gateway.own);
    expect(forDave.message.toString("utf8")).toContain("Subject: Lunch plans");
    await expect(openAs(toDave.raw, bob, gateway.own)).rejects.toThrow(/cannot decrypt/);
  });

  it.skipIf(missing)("sends a message with a 25 MB attachment, encrypted, intact", async () => {
    const attachment = randomBytes(25 * 1000 * 1000);
    const result = await send([BOB], messageWithAttachment(1, attachment, "big.bin"));
    expect(result.accepted).toBe(true);
    const [toBob] = gateway.sink.received;
    const opened = await openAs(toBob!.raw, bob, gateway.own);
    expect(opened.signature).toMatchObject({ status: "valid" });
    const text = opened.message.toString("latin1");
    const base64 = text.slice(text.indexOf("Content-Transfer-Encoding: base64\r\n\r\n") + 37, text.lastIndexOf("\r\n--b1--"));
    expect(sha256(Buffer.from(base64, "base64"))).toBe(sha256(attachment));
  }, 120_000);

  it.skipIf(missing)("answers 451 4.4.1 when the relay is down, so the client keeps the message", async () => {
    await gateway.sink.stop();
    try {
      const result = await send([BOB, CAROL], composed({ to: [BOB, CAROL] }));
      expect(result.accepted).toBe(false);
      expect(result.replies).toMatch(/451 4\.4\.1 not sent to anyone, try again later/);
      expect(gateway.queue.pending()).toEqual([]);
    } finally {
      await gateway.sink.start();
    }
    expect(gateway.sink.received).toHaveLength(0);
  });

  it.skipIf(missing)("passes on the relay's permanent refusal when it refuses every recipient", async () => {
    gateway.sink.recipientReply = () => "550 5.1.1 no such user here";
    const result = await send([BOB], composed({ to: [BOB] }));
    expect(result.accepted).toBe(false);
    expect(result.replies).toMatch(/550 5\.1\.1 not sent to anyone: bob@example\.net: the provider refused the message: "550 5\.1\.1 no such user here"/);
    expect(gateway.sink.received).toHaveLength(0);
    expect(gateway.queue.pending()).toEqual([]);
  });

  it.skipIf(missing)("accepts when the relay refuses only some recipients, and bounces those into INBOX", async () => {
    const bouncesBefore = gateway.bounces.length;
    gateway.sink.recipientReply = (address) => (address === CAROL ? "550 5.1.1 carol has left" : null);
    const result = await send([BOB, CAROL], composed({ to: [BOB, CAROL] }, "Partly refused"));
    expect(result.accepted).toBe(true);
    expect(result.replies).toMatch(/250 2\.6\.0 sent to 1 recipient\(s\); refused for carol@example\.com \(see the bounce in INBOX\)/);
    expect(gateway.sink.received.map((mail) => mail.to)).toEqual([[BOB]]);
    expect(gateway.bounces.slice(bouncesBefore)).toMatchObject([{ failures: [{ recipient: CAROL, reason: "550 5.1.1 carol has left" }] }]);
    const inbox = gateway.account.requireMailbox("INBOX");
    const bounce = inbox.get(inbox.uids()[inbox.uids().length - 1]!)!;
    const raw = bounce.raw().toString("utf8");
    expect(raw).toContain("From: Bitmask Mail <bounce@localhost>");
    expect(raw).toContain("carol@example.com: 550 5.1.1 carol has left");
    expect(raw).toContain("Subject of your message: Partly refused");
    expect(raw).toMatch(/Content-Type: message\/rfc822[\s\S]*Subject: Partly refused/);
  });
});
