// The attack: any local process opens connections to the SMTP gateway and
// IMAP and never logs in. 20 idle SMTP connections (a NOOP every 20 s) used
// the gateway's whole client cap, so the user's send got 421; IMAP had no
// cap at all, and 21,000 idle connections used up the daemon's file
// descriptors. Connections not logged in now have a small budget of their
// own (a new one drops the oldest) and a deadline to log in that NOOPs do
// not extend; logged-in sessions are capped per account.
//
// Scaled down: NOOPs every 100 ms instead of 20 s (the attack is the same:
// the connections keep busy), and 300 IMAP connections instead of 21,000
// (far past the budget; the point is how many the server keeps, not the
// file descriptor limit of this machine).
import net from "node:net";
import { ImapFlow } from "imapflow";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_SESSIONS_PER_ACCOUNT, MAX_UNAUTHENTICATED_CONNECTIONS } from "../../native-host/imap/limits";
import { MAX_UNAUTHENTICATED_CLIENTS } from "../../native-host/smtp/limits";
import { eventually } from "../helpers/provider";
import { ADDRESS, startImap } from "../helpers/imap-server";
import { RawImap } from "../helpers/raw-imap";
import { nodemailerClient, SENDER, startGateway } from "../helpers/smtp-gateway";

/** A connection that never logs in and keeps sending `noop` lines. */
class IdleIntruder {
  received = "";
  closed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly socket: net.Socket,
    noop: string,
  ) {
    socket.on("data", (chunk: Buffer) => (this.received += chunk.toString("latin1")));
    socket.on("close", () => (this.closed = true));
    socket.on("error", () => {});
    // Polite: NOOPs only once greeted, as a real client would.
    this.timer = setInterval(() => {
      if (!this.closed && this.received) socket.write(noop);
    }, 100);
  }

  static async open(port: number, noop: string): Promise<IdleIntruder> {
    const socket = net.connect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new IdleIntruder(socket, noop);
  }

  stop(): void {
    clearInterval(this.timer);
    this.socket.destroy();
  }
}

const intruders: IdleIntruder[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const intruder of intruders.splice(0)) intruder.stop();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function openIntruders(count: number, port: number, noop: string): Promise<IdleIntruder[]> {
  const opened: IdleIntruder[] = [];
  for (let n = 0; n < count; n++) opened.push(await IdleIntruder.open(port, noop));
  intruders.push(...opened);
  return opened;
}

describe("idle connections that never log in", () => {
  it("20 of them on the SMTP gateway do not stop an authenticated send", async () => {
    const gateway = await startGateway();
    cleanups.push(() => gateway.stop());
    const idle = await openIntruders(20, gateway.port, "NOOP\r\n");
    // The budget is kept: all but the newest few were told why and closed.
    await eventually(async () => (idle.filter((intruder) => !intruder.closed).length <= MAX_UNAUTHENTICATED_CLIENTS ? true : undefined));
    expect(idle.find((intruder) => intruder.closed)!.received).toContain("421 4.4.2 too many connections waiting to log in");

    const message = Buffer.from(`From: ${SENDER}\r\nTo: bob@example.net\r\nSubject: still sending\r\n\r\nHello.\r\n`);
    const result = await nodemailerClient.send({ port: gateway.port, user: SENDER, pass: gateway.token, from: SENDER, to: ["bob@example.net"], message });
    expect(result.replies).toMatch(/^250/);
    expect(result.accepted).toBe(true);
    await eventually(async () => (gateway.sink.received.length === 1 ? true : undefined));
  });

  it("300 of them on IMAP leave the budget's worth open, and the user still logs in", async () => {
    const imap = await startImap();
    cleanups.push(() => imap.stop());
    const idle = await openIntruders(300, imap.port, "a NOOP\r\n");
    await eventually(async () => (idle.filter((intruder) => !intruder.closed).length <= MAX_UNAUTHENTICATED_CONNECTIONS ? true : undefined));
    expect(idle[0]!.received).toContain("* BYE too many connections waiting to log in");

    const client = await imap.client();
    const status = await client.status("INBOX", { messages: true });
    expect(status && status.messages).toBe(0);
  });

  it("NOOPs do not keep a connection past its deadline to log in", async () => {
    const imap = await startImap({ notAuthenticatedMs: 1_000 });
    cleanups.push(() => imap.stop());
    const [busy] = await openIntruders(1, imap.port, "a NOOP\r\n");
    await eventually(async () => (busy!.closed ? true : undefined), 10_000, "the busy connection to be logged out");
    expect(busy!.received).toContain("* BYE autologout");
    expect(busy!.received.match(/a OK/g)!.length).toBeGreaterThan(3);
  });
});

describe("logged-in sessions per account", () => {
  it("past the cap, a login is refused with NO [LIMIT]; closing one makes room", async () => {
    const imap = await startImap();
    cleanups.push(() => imap.stop());
    const sessions: RawImap[] = [];
    cleanups.push(async () => sessions.forEach((session) => session.close()));
    for (let n = 0; n < MAX_SESSIONS_PER_ACCOUNT; n++) {
      const session = await RawImap.connect(imap.port);
      sessions.push(session);
      expect(await session.command("a", `LOGIN ${ADDRESS} ${imap.token}`)).toMatch(/^a OK/m);
    }
    const refused = await RawImap.connect(imap.port);
    sessions.push(refused);
    expect(await refused.command("a", `LOGIN ${ADDRESS} ${imap.token}`)).toMatch(/^a NO \[LIMIT\]/m);

    sessions[0]!.close();
    await eventually(async () => {
      const client = new ImapFlow({ host: "127.0.0.1", port: imap.port, secure: false, auth: { user: ADDRESS, pass: imap.token }, logger: false });
      try {
        await client.connect();
        await client.logout();
        return true;
      } catch {
        return undefined;
      }
    });
  });
});
