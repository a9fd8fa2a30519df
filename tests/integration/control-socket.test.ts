// The daemon's control socket, in process: who may connect (mode 0600),
// what a bad line gets (an error reply, never a crash), each method's
// answer and error code, events, and the plug-in points later stages use
// (a stand-in sync service shows progress events reach subscribers).
import { mkdtempSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ControlEvent, SyncStatus } from "../../shared/control-api";
import { ControlClient, ControlRequestError, DaemonNotRunningError } from "../../native-host/control/client";
import { MAX_CONTROL_LINE_BYTES } from "../../native-host/control/limits";
import { DaemonAlreadyRunningError } from "../../native-host/control/server";
import { startDaemon, type Daemon } from "../../native-host/daemon/daemon";
import type { AccountServiceFactory } from "../../native-host/daemon/services";

const PASSPHRASE = "correct horse battery staple";

/** A stand-in sync service: a "sync" of 5 documents, reporting each. */
const fakeSync: AccountServiceFactory = async () => {
  let status: SyncStatus = { state: "idle", progress: null, lastSyncedAt: null };
  return {
    name: "sync (test stand-in)",
    sync: {
      status: () => status,
      async syncNow(onProgress) {
        for (let done = 0; done <= 5; done++) onProgress(done, 5);
        status = { state: "idle", progress: null, lastSyncedAt: Date.now() };
        return status;
      },
    },
    stop: async () => undefined,
  };
};

/** Sends raw lines and collects the reply lines. */
async function rawExchange(socketPath: string, payload: string | Buffer, replies: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString("utf8");
      const lines = text.split("\n").filter(Boolean);
      if (lines.length >= replies) {
        socket.destroy();
        resolve(lines.map((line) => JSON.parse(line) as unknown));
      }
    });
    socket.on("error", reject);
    socket.write(payload);
  });
}

describe("control socket", () => {
  let dataDir: string;
  let daemon: Daemon;
  let client: ControlClient;

  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "control-"));
    daemon = await startDaemon({ dataDir, imapPort: 0, log: pino({ level: "silent" }), services: { perAccount: [fakeSync] } });
    client = await ControlClient.connect(daemon.controlSocketPath!);
  });
  afterEach(async () => {
    client.close();
    await daemon.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("is a socket only its owner can use, and one daemon per data folder", async () => {
    const socketPath = daemon.controlSocketPath!;
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o077).toBe(0);
    await expect(startDaemon({ dataDir, imapPort: 0, log: pino({ level: "silent" }) })).rejects.toBeInstanceOf(DaemonAlreadyRunningError);
    // The refused second daemon left the first one's socket alone.
    expect((await client.request("status", {})).pid).toBe(process.pid);
  });

  it("answers bad lines with error replies and keeps serving", async () => {
    const replies = await rawExchange(
      daemon.controlSocketPath!,
      ['not json', '{"no":"id"}', '{"id":1,"method":"nope"}', '{"id":2,"method":"mail.get_token","params":{"address":"not an address"}}', '{"id":3,"method":"status"}']
        .map((line) => `${line}\n`)
        .join(""),
      5,
    );
    const byId = (id: unknown) => replies.find((reply) => (reply as { id: unknown }).id === id) as Record<string, { code: string }>;
    expect(replies.filter((reply) => (reply as { id: unknown }).id === null).map((reply) => (reply as { error: { code: string } }).error.code)).toEqual([
      "bad-request",
      "bad-request",
    ]);
    expect(byId(1).error!.code).toBe("unknown-method");
    expect(byId(2).error!.code).toBe("bad-request");
    expect(byId(3).result).toMatchObject({ accounts: [], locked: [] });
  });

  it("refuses a line over the limit and closes that connection only", async () => {
    const [reply] = await rawExchange(daemon.controlSocketPath!, Buffer.alloc(MAX_CONTROL_LINE_BYTES + 10, "x"), 1);
    expect(reply).toMatchObject({ id: null, error: { code: "too-large" } });
    expect((await client.request("status", {})).accounts).toEqual([]);
  });

  it("creates, locks out wrong passphrases, logs in, rotates the token with an event", async () => {
    const events: ControlEvent[] = [];
    await client.request("subscribe", {});
    client.onEvent((event) => events.push(event));

    const created = await client.request("account.create", { address: "Alice@Example.org", passphrase: PASSPHRASE });
    expect(created).toMatchObject({ address: "alice@example.org", imap: { host: "127.0.0.1", port: daemon.imapPort }, keyFingerprint: null });
    await expect(client.request("account.create", { address: "alice@example.org", passphrase: PASSPHRASE })).rejects.toMatchObject({ code: "exists" });

    const { token } = await client.request("mail.get_token", {});
    const rotated = await client.request("mail.rotate_token", { address: "alice@example.org" });
    expect(rotated.token).not.toBe(token);
    expect((await client.request("mail.get_token", { address: "alice@example.org" })).token).toBe(rotated.token);
    await expect.poll(() => events).toContainEqual({ event: "token-rotated", address: "alice@example.org" });
    expect(events).toContainEqual({ event: "account-unlocked", address: "alice@example.org" });

    // A second daemon on the same folder finds the account locked until its passphrase comes.
    await daemon.stop();
    daemon = await startDaemon({ dataDir, imapPort: 0, log: pino({ level: "silent" }) });
    client = await ControlClient.connect(daemon.controlSocketPath!);
    expect(await client.request("status", {})).toMatchObject({ accounts: [], locked: ["alice@example.org"] });
    await expect(client.request("mail.get_token", { address: "alice@example.org" })).rejects.toMatchObject({ code: "locked" });
    await expect(client.request("mail.get_token", {})).rejects.toMatchObject({ code: "no-account" });
    await expect(client.request("account.login", { address: "alice@example.org", passphrase: "wrong" })).rejects.toMatchObject({
      code: "wrong-passphrase",
    });
    await client.request("account.login", { address: "alice@example.org", passphrase: PASSPHRASE });
    expect((await client.request("mail.get_token", {})).token).toBe(rotated.token);

    await client.request("account.passphrase", { address: "alice@example.org", passphrase: PASSPHRASE, newPassphrase: "new one" });
    await expect(
      client.request("account.passphrase", { address: "alice@example.org", passphrase: PASSPHRASE, newPassphrase: "x" }),
    ).rejects.toMatchObject({ code: "wrong-passphrase" });
  });

  it("reports sync progress to subscribers, refuses sync while offline, says what is not there yet", async () => {
    await client.request("account.create", { address: "bob@example.org", passphrase: PASSPHRASE });
    const progress: [number, number | null][] = [];
    await client.request("subscribe", {});
    client.onEvent((event) => {
      if (event.event === "sync-progress") progress.push([event.done, event.total]);
    });
    const synced = await client.request("sync", {});
    expect(synced.lastSyncedAt).toBeGreaterThan(0);
    await expect.poll(() => progress.length).toBe(6);
    expect(progress.at(-1)).toEqual([5, 5]);

    await client.request("offline", { offline: true });
    expect((await client.request("mail.status", {})).sync.state).toBe("offline");
    await expect(client.request("sync", {})).rejects.toMatchObject({ code: "unavailable" });
    await client.request("offline", { offline: false });

    const keysError = await client.request("keys.list", {}).catch((error: unknown) => error);
    expect(keysError).toBeInstanceOf(ControlRequestError);
    expect(keysError).toMatchObject({ code: "unavailable", message: expect.stringContaining("keymanager") });
  });

  it("reports unread mail and errors in the status", async () => {
    const created = await client.request("account.create", { address: "carol@example.org", passphrase: PASSPHRASE });
    expect(created.unread).toBe(0);
    const account = daemon.account("carol@example.org");
    account.mail.requireMailbox("INBOX").add(Buffer.from("Subject: hi\r\n\r\nhello\r\n"));
    account.context.reportError("incoming", "a message could not be decrypted");
    const status = await client.request("mail.status", {});
    expect(status.unread).toBe(1);
    expect(await client.request("mail.errors", {})).toMatchObject([{ source: "incoming", message: "a message could not be decrypted" }]);
  });

  it("tells a client plainly when no daemon runs", async () => {
    await expect(ControlClient.connect(path.join(dataDir, "nothing.sock"))).rejects.toBeInstanceOf(DaemonNotRunningError);
  });
});
