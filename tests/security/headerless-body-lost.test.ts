// The attack (or just a careless client): a message with no blank line
// between its header and its body. The SMTP gateway answered 250 and sent
// it with an empty body: everything after the header fields was dropped (a
// 30 MB body, a line of text, junk bytes alike). Now the header block ends
// at the first line that is not a header field, and what follows is the
// body, as Postfix and other MTAs read it.
//
// The big body is 5 MB rather than 30 (it is signed and encrypted in this
// process; the size does not change where the header ends).
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OwnKey } from "../../native-host/keys/keymanager-api";
import { type Gateway, SENDER, nodemailerClient, openAs, startGateway, swaksClient } from "../helpers/smtp-gateway";
import { requireTool } from "../helpers/tools";

const BOB = "bob@example.net";

let gateway: Gateway;
let bob: OwnKey;

beforeAll(async () => {
  gateway = await startGateway();
  bob = await gateway.addContact(BOB);
});

afterAll(() => gateway?.stop());

/** Sends `message` through the gateway and opens what reached the relay, as Bob. */
async function sendAndOpen(message: Buffer, client = nodemailerClient): Promise<Buffer> {
  const before = gateway.sink.received.length;
  const result = await client.send({ port: gateway.port, user: SENDER, pass: gateway.token, from: SENDER, to: [BOB], message });
  expect({ accepted: result.accepted, replies: result.replies }).toMatchObject({ accepted: true });
  const relayed = gateway.sink.received[before];
  if (!relayed) throw new Error("nothing reached the relay");
  return (await openAs(relayed.raw, bob, gateway.own)).message;
}

describe("a message without the blank line after its header", () => {
  const header = `From: ${SENDER}\r\nTo: ${BOB}\r\nSubject: no blank line\r\n`;

  it("keeps a line of text that follows the header as its body", async () => {
    const opened = await sendAndOpen(Buffer.from(`${header}This line is the whole body.\r\nAnd this one.\r\n`));
    expect(opened.toString("latin1")).toMatch(/Subject: no blank line\r\n(.*\r\n)*\r\nThis line is the whole body\.\r\nAnd this one\.\r\n/);
  });

  it("keeps junk bytes that follow the header as its body", async () => {
    const junk = Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x20, 0x3a, 0x41, 0x0d, 0x0a]);
    const opened = await sendAndOpen(Buffer.concat([Buffer.from(header), junk, Buffer.from("tail\r\n")]));
    expect(opened.includes(Buffer.concat([junk, Buffer.from("tail\r\n")]))).toBe(true);
  });

  it("keeps a big body that follows the header", async () => {
    const lines = randomBytes(3_750_000).toString("base64").replace(/.{76}/g, "$&\r\n");
    const opened = await sendAndOpen(Buffer.from(`${header}${lines}\r\n`));
    expect(opened.toString("latin1")).toContain(lines);
  });

  it("is read the same way from swaks, a real SMTP client", async (context) => {
    if (requireTool({ name: "swaks", install: "apt-get install swaks" }, "swaks")) return context.skip();
    const opened = await sendAndOpen(Buffer.from(`${header}Sent by swaks, no blank line.\r\n`), swaksClient);
    expect(opened.toString("latin1")).toContain("\r\n\r\nSent by swaks, no blank line.\r\n");
  });

  it("still reads a header continuation line as part of the header", async () => {
    const opened = await sendAndOpen(Buffer.from(`${header}X-Folded: one\r\n two\r\n\r\nBody.\r\n`));
    expect(opened.toString("latin1")).toMatch(/X-Folded: one\r\n two\r\n(.*\r\n)*\r\nBody\.\r\n/);
  });
});
