// The native-messaging bridge as Thunderbird runs it: the built
// native-host.js with HOME in a temp folder, spoken to in native framing on
// stdin/stdout. It must start the daemon when none runs, relay requests and
// events, and answer every bad message with an error reply, never crash.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ControlClient } from "../../native-host/control/client";
import { startDaemon, type Daemon } from "../../native-host/daemon/daemon";
import { runBridge } from "../../native-host/native/bridge";
import { encodeNativeMessage, NativeMessageReader } from "../../native-host/native/framing";
import { MAX_MESSAGE_FROM_THUNDERBIRD_BYTES, MAX_MESSAGE_TO_THUNDERBIRD_BYTES } from "../../native-host/native/limits";
import { buildPrograms, testBuildDir } from "../helpers/build";

/** Inside the repository (bundles find node_modules), in a folder of its own. */
const BUILD_DIR = testBuildDir("bridge");

/** Thunderbird's end of one bridge: framed writes, parsed replies and events. */
class ThunderbirdEnd {
  readonly received: Record<string, unknown>[] = [];
  private readonly reader = new NativeMessageReader(MAX_MESSAGE_TO_THUNDERBIRD_BYTES + 1024);

  constructor(
    private readonly input: NodeJS.WritableStream,
    output: NodeJS.ReadableStream,
  ) {
    output.on("data", (chunk: Buffer) => {
      for (const frame of this.reader.push(chunk)) {
        if (frame.kind !== "message") throw new Error(`the bridge sent a ${frame.length}-byte message`);
        this.received.push(JSON.parse(frame.text) as Record<string, unknown>);
      }
    });
  }

  send(message: unknown): void {
    this.input.write(encodeNativeMessage(message));
  }

  sendRaw(bytes: Buffer): void {
    this.input.write(bytes);
  }

  async reply(id: number | null, count = 1): Promise<Record<string, unknown>> {
    await expect.poll(() => this.received.filter((message) => "id" in message && message.id === id).length, { timeout: 15_000 }).toBeGreaterThanOrEqual(count);
    return this.received.filter((message) => "id" in message && message.id === id)[count - 1]!;
  }

  async event(name: string): Promise<Record<string, unknown>> {
    await expect.poll(() => this.received.some((message) => message.event === name), { timeout: 15_000 }).toBe(true);
    return this.received.find((message) => message.event === name)!;
  }
}

describe("the bridge process", () => {
  let home: string;
  let bridge: ChildProcess;
  let tb: ThunderbirdEnd;

  beforeAll(async () => {
    await buildPrograms(BUILD_DIR, { "native-host": "native-host/native/main.ts", bitmaskd: "native-host/daemon/main.ts" });
    home = mkdtempSync(path.join(os.tmpdir(), "bridge-"));
    // Port 0: the daemon the bridge starts must not collide with a real one on 1984 (or its web reader on 1986).
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, BITMASK_IMAP_PORT: "0", BITMASK_WEB_PORT: "0" };
    delete env.XDG_DATA_HOME;
    bridge = spawn(process.execPath, [path.join(BUILD_DIR, "native-host.js"), "/path/to/manifest.json", "bitmask-mail@bitmask.net"], {
      env,
      stdio: ["pipe", "pipe", "inherit"],
    });
    tb = new ThunderbirdEnd(bridge.stdin!, bridge.stdout!);
  }, 60_000);

  afterAll(async () => {
    bridge?.kill("SIGKILL");
    // Stop the daemon the bridge started (it outlives the bridge by design).
    const status = tb?.received.find((message) => message.id === 1) as { result?: { pid: number } } | undefined;
    if (status?.result) process.kill(status.result.pid, "SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 300));
    rmSync(home, { recursive: true, force: true });
    rmSync(BUILD_DIR, { recursive: true, force: true });
  });

  it("starts the daemon (locked, no account) and relays a request", async () => {
    tb.send({ id: 1, method: "status", params: {} });
    const reply = await tb.reply(1);
    expect(reply.result).toMatchObject({ accounts: [], locked: [] });
    expect((reply.result as { pid: number }).pid).not.toBe(bridge.pid);
    expect(await tb.event("daemon")).toEqual({ event: "daemon", state: "connected" });
  });

  it("answers malformed and refused messages with errors and keeps going", async () => {
    const notJson = Buffer.from("{nope", "utf8");
    const header = Buffer.alloc(4);
    header.writeUInt32LE(notJson.length);
    tb.sendRaw(Buffer.concat([header, notJson]));
    tb.send({ id: 2, method: "mail.rotate_token" }); // bitmaskctl only
    tb.send({ id: 3, method: "no.such.method" });
    tb.send({ id: 4, method: "mail.get_token", params: { address: 5 } });
    tb.send(["not", "an", "object"]);
    expect(await tb.reply(2)).toMatchObject({ error: { code: "bad-request" } });
    expect(await tb.reply(3)).toMatchObject({ error: { code: "bad-request" } });
    expect(await tb.reply(4)).toMatchObject({ error: { code: "bad-request" } });
    expect(await tb.reply(null, 2)).toMatchObject({ error: { code: "bad-request" } });

    // Over the limit: skipped unread, answered, and the next message is read normally.
    const big = Buffer.alloc(MAX_MESSAGE_FROM_THUNDERBIRD_BYTES + 1, 0x20);
    const bigHeader = Buffer.alloc(4);
    bigHeader.writeUInt32LE(big.length);
    tb.sendRaw(Buffer.concat([bigHeader, big]));
    tb.send({ id: 5, method: "status" });
    expect((await tb.reply(5)).result).toMatchObject({ accounts: [] });
    expect(tb.received.some((message) => (message as { error?: { code: string } }).error?.code === "too-large")).toBe(true);
    expect(bridge.exitCode).toBeNull();
  });

  it("relays events and the daemon's errors, and exits when Thunderbird closes stdin", async () => {
    tb.send({ id: 6, method: "account.create", params: { address: "dora@example.org", passphrase: "pw" } });
    expect(await tb.reply(6)).toMatchObject({ result: { address: "dora@example.org" } });
    expect(await tb.event("account-unlocked")).toEqual({ event: "account-unlocked", address: "dora@example.org" });
    tb.send({ id: 7, method: "account.login", params: { address: "dora@example.org", passphrase: "wrong" } });
    expect(await tb.reply(7)).toMatchObject({ error: { code: "wrong-passphrase" } });
    // The popup's "Open web mail": a one-time link to the daemon's web reader.
    tb.send({ id: 8, method: "web.open_link", params: { address: "dora@example.org" } });
    expect(await tb.reply(8)).toMatchObject({ result: { address: "dora@example.org", url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/login\?secret=/) } });

    const exited = new Promise<number | null>((resolve) => bridge.once("exit", (code) => resolve(code)));
    bridge.stdin!.end();
    expect(await exited).toBe(0);
  });
});

describe("the bridge in process", () => {
  let dataDir: string;
  let daemon: Daemon;

  afterEach(async () => {
    await daemon?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("replaces a reply over Thunderbird's 1 MB limit with an error, and relays token rotations", async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "bridge-in-"));
    daemon = await startDaemon({ dataDir, imapPort: 0, log: pino({ level: "silent" }) });
    const account = await daemon.createAccount("erin@example.org", "pw");
    for (let n = 0; n < 60; n++) account.context.reportError("test", "x".repeat(20_000));
    const input = new PassThrough();
    const output = new PassThrough();
    const tb = new ThunderbirdEnd(input, output);
    const done = runBridge({ input, output, connectDaemon: () => ControlClient.connect(daemon.controlSocketPath!), log: () => undefined });

    tb.send({ id: 1, method: "mail.errors", params: {} });
    expect(await tb.reply(1)).toMatchObject({ id: 1, error: { code: "too-large" } });
    await tb.event("daemon");
    daemon.rotateToken();
    expect(await tb.event("token-rotated")).toEqual({ event: "token-rotated", address: "erin@example.org" });

    // The daemon going away ends the bridge (the add-on reconnects).
    await daemon.stop();
    await done;
    expect(tb.received.at(-1)).toMatchObject({ event: "daemon", state: "disconnected" });
  });

  it("answers daemon-unavailable while no daemon can be reached, and keeps trying", async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "bridge-none-"));
    const input = new PassThrough();
    const output = new PassThrough();
    const tb = new ThunderbirdEnd(input, output);
    let attempts = 0;
    const done = runBridge({
      input,
      output,
      connectDaemon: () => {
        attempts++;
        return Promise.reject(new Error("bitmaskd did not start"));
      },
      log: () => undefined,
    });
    tb.send({ id: 1, method: "status" });
    expect(await tb.reply(1)).toMatchObject({ error: { code: "daemon-unavailable", message: "bitmaskd did not start" } });
    const before = attempts;
    tb.send({ id: 2, method: "status" });
    expect(await tb.reply(2)).toMatchObject({ error: { code: "daemon-unavailable" } });
    expect(attempts).toBe(before + 1);
    input.end();
    await done;
  });
});
