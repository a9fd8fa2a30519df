// Two providers on loopback, each with a full daemon: alice@example.org and
// bob@example.net mail each other through their daemons' SMTP gateways
// (nodemailer as the mail client), their providers' submission relays and
// the other provider's MX, and read what arrives over IMAP (imapflow),
// decrypted and verified.
//
// Key discovery across providers does not work here: a daemon asks only its
// own provider's key directory (which serves that provider's users) and has
// no WKD client (WKD is HTTPS on the address's domain, which tests cannot
// resolve). So bob first writes to alice, signed only since he knows no key
// for her; its Autocrypt header teaches alice bob's key, and her encrypted
// mail's Autocrypt header teaches bob hers.
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import path from "node:path";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UnlockedAccount } from "../../native-host/daemon/daemon";
import { httpRequest } from "../../native-host/http-request";
import { inboxOverImap, signUpAccount, startTestDaemon, startTlsProvider, syncNow, type TestDaemon, type TlsProvider } from "../helpers/daemon";
import { eventually } from "../helpers/provider";

const ALICE = "alice@example.org";
const BOB = "bob@example.net";

/** A TCP forwarder on a free port whose target is set later: the providers'
 * routes point at each other's MX, but one of them has to start first. */
async function forwarder(): Promise<{ port: number; target: (port: number) => void; close: () => Promise<void> }> {
  let targetPort: number | null = null;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  };
  const server: Server = createServer((client) => {
    track(client);
    if (targetPort === null) return void client.destroy();
    const upstream = connect(targetPort, "127.0.0.1");
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    target: (port) => {
      targetPort = port;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

type Side = { provider: TlsProvider; device: TestDaemon; account: UnlockedAccount };

let toNet: Awaited<ReturnType<typeof forwarder>>;
let org: Side;
let net: Side;

beforeAll(async () => {
  toNet = await forwarder();
  const orgProvider = await startTlsProvider({ domain: "example.org", routes: { "example.net": { host: "127.0.0.1", port: toNet.port } } });
  const netProvider = await startTlsProvider({ domain: "example.net", routes: { "example.org": { host: "127.0.0.1", port: orgProvider.mxPort } } });
  toNet.target(netProvider.mxPort);
  const side = async (provider: TlsProvider, address: string): Promise<Side> => {
    const device = await startTestDaemon();
    const account = await signUpAccount(device.daemon, provider, address, `passphrase of ${address}`);
    await syncNow(account); // makes and publishes the key
    return { provider, device, account };
  };
  [org, net] = await Promise.all([side(orgProvider, ALICE), side(netProvider, BOB)]);
}, 60_000);

afterAll(async () => {
  for (const side of [org, net]) {
    await side?.device.stop();
    await side?.provider.stop();
  }
  await toNet?.close();
});

/** Sends through the side's daemon SMTP gateway, as a mail client would. */
async function send(side: Side, to: string, subject: string, text: string, extra: { inReplyTo?: string; messageId?: string } = {}) {
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port: side.device.daemon.smtpPort!,
    secure: false,
    ignoreTLS: true,
    auth: { user: side.account.address, pass: side.account.tokens.current() },
  });
  try {
    return await transport.sendMail({ from: side.account.address, to, subject, text, ...extra });
  } finally {
    transport.close();
  }
}

function inbox(side: Side): Promise<string[]> {
  return inboxOverImap(side.device.daemon, side.account);
}

/** Rounds until a message with `needle` is in the side's INBOX (the relay
 * between the providers runs on its own); bounded by eventually's deadline. */
async function arrival(side: Side, needle: string): Promise<string> {
  return eventually(
    async () => {
      await syncNow(side.account);
      return (await inbox(side)).find((source) => source.includes(needle));
    },
    20_000,
    `a message with ${needle} in ${side.account.address}'s INBOX`,
  );
}

const headerOf = (source: string) => source.slice(0, source.search(/\r?\n\r?\n/) + 2);

describe("two providers on loopback", () => {
  it("has no key for bob on alice's side before any mail: her provider's directory serves its own domain only", async () => {
    const lookup = await httpRequest(`${org.provider.url}/keys/${encodeURIComponent(BOB)}`, { ca: org.provider.ca, timeoutMs: 5000, maxResponseBytes: 1 << 20 });
    expect(lookup.status).toBe(404);
    expect((await org.account.keys!.list()).map((key) => key.address)).toEqual([ALICE]);
  });

  it("bob introduces himself: signed only, verified by alice with the key from his Autocrypt header", async () => {
    const sent = await send(net, ALICE, "Hello from example.net", "ZQXJ-INTRO: I am bob.");
    expect(sent.rejected).toEqual([]);
    const source = await arrival(org, "ZQXJ-INTRO");
    const header = headerOf(source);
    expect(header).toContain(`X-Leap-Signature: valid; pubkey="${net.account.keys!.ownFingerprint()}"\r\n`);
    expect(header).not.toContain("X-Leap-Encryption");
    expect(header).toMatch(/^Autocrypt: addr=bob@example\.net;/m);
  });

  it("alice mails bob across the providers: bob's daemon shows it decrypted and verified", async () => {
    const sent = await send(org, BOB, "Lunch on Friday?", "ZQXJ-ALICE-TO-BOB: noon, the usual place.", { messageId: "<lunch@example.org>" });
    expect(sent.rejected).toEqual([]);
    const source = await arrival(net, "ZQXJ-ALICE-TO-BOB");
    const header = headerOf(source);
    expect(header).toMatch(/^X-Leap-Encryption: decrypted\r\n/);
    expect(header).toContain(`X-Leap-Signature: valid; pubkey="${org.account.keys!.ownFingerprint()}"\r\n`);
    // Protected headers: the real subject came back from inside the encryption.
    expect(header).toContain("Subject: Lunch on Friday?\r\n");
    expect(source).not.toContain("BEGIN PGP MESSAGE");
  });

  it("bob replies: alice's daemon shows the reply decrypted and verified", async () => {
    const sent = await send(net, ALICE, "Re: Lunch on Friday?", "ZQXJ-BOB-REPLIES: see you there.", { inReplyTo: "<lunch@example.org>" });
    expect(sent.rejected).toEqual([]);
    const source = await arrival(org, "ZQXJ-BOB-REPLIES");
    const header = headerOf(source);
    expect(header).toMatch(/^X-Leap-Encryption: decrypted\r\n/);
    expect(header).toContain(`X-Leap-Signature: valid; pubkey="${net.account.keys!.ownFingerprint()}"\r\n`);
    expect(header).toContain("Subject: Re: Lunch on Friday?\r\n");
    expect(header).toContain("In-Reply-To: <lunch@example.org>\r\n");
  });

  it("kept the mail encrypted on both providers' disks", () => {
    const encrypted = ["ZQXJ-ALICE-TO-BOB", "ZQXJ-BOB-REPLIES", "Lunch on Friday"];
    // The signed-only introduction passed bob's provider's relay queue
    // readable (no key for alice was known yet); once delivered, nothing of
    // it stays there. Alice's provider stored it encrypted.
    const scans = [
      { side: org, needles: [...encrypted, "ZQXJ-INTRO"] },
      { side: net, needles: [...encrypted, "ZQXJ-INTRO"] },
    ];
    for (const { side, needles } of scans) {
      for (const entry of readdirSync(side.provider.dataDir, { withFileTypes: true, recursive: true })) {
        if (!entry.isFile()) continue;
        const bytes = readFileSync(path.join(entry.parentPath, entry.name));
        expect(needles.filter((needle) => bytes.includes(Buffer.from(needle))), `${side.provider.domain}: ${entry.name}`).toEqual([]);
      }
    }
  });
});
