// bitmaskd and bitmaskctl as processes, as a user or a script runs them:
// exit codes, --json, --help, a clear message when a port is taken or a
// daemon already runs, and a graceful stop on SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../native-host/cli/exit-codes";
import { buildPrograms, testBuildDir } from "../helpers/build";
import { runTool, type ToolRun } from "../helpers/tools";

const PASSPHRASE = "correct horse battery staple";
const BUILD_DIR = testBuildDir("cli");

let dataDir: string;
let daemon: ChildProcess;

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean = { ...process.env, ...extra };
  if (!("BITMASK_PASSPHRASE" in extra)) delete clean.BITMASK_PASSPHRASE;
  return clean;
}

function ctl(args: string[], extra: Record<string, string> = {}): Promise<ToolRun> {
  return runTool(process.execPath, [path.join(BUILD_DIR, "bitmaskctl.js"), "--data-dir", dataDir, ...args], { env: env(extra), timeoutMs: 20_000 });
}

/** Starts bitmaskd; resolves once it printed its settings (or exited). */
function startBitmaskd(args: string[], extra: Record<string, string> = {}): Promise<{ child: ChildProcess; stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(BUILD_DIR, "bitmaskd.js"), "--data-dir", dataDir, "--imap-port", "0", "--smtp-port", "0", ...args], {
      env: env(extra),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      if (stdout.includes("Press Ctrl-C")) resolve({ child, stdout, stderr, code: null });
    });
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.once("exit", (code) => resolve({ child, stdout, stderr, code }));
  });
}

beforeAll(async () => {
  await buildPrograms(BUILD_DIR, { bitmaskd: "native-host/daemon/main.ts", bitmaskctl: "native-host/cli/main.ts" });
  dataDir = mkdtempSync(path.join(os.tmpdir(), "cli-"));
  const started = await startBitmaskd(["--address", "alice@example.org"], { BITMASK_PASSPHRASE: PASSPHRASE });
  expect(started.code, started.stderr).toBeNull();
  daemon = started.child;
}, 60_000);

afterAll(() => {
  daemon?.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(BUILD_DIR, { recursive: true, force: true });
});

describe("bitmaskctl", () => {
  it("shows status, as text and as JSON", async () => {
    const text = await ctl(["status"]);
    expect(text.code).toBe(EXIT.ok);
    expect(text.stdout).toContain("alice@example.org");
    expect(text.stdout).toMatch(/IMAP\s+127\.0\.0\.1:\d+/);
    const json = await ctl(["--json", "status"]);
    // A local account (no provider) makes its key when it is created.
    expect(JSON.parse(json.stdout)).toMatchObject({ accounts: [{ address: "alice@example.org", keyFingerprint: expect.stringMatching(/^[0-9A-F]{40}$/) }], locked: [] });
  });

  it("prints and rotates the mail token", async () => {
    const token = (await ctl(["mail", "get_token"])).stdout.trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{27}$/);
    expect(JSON.parse((await ctl(["--json", "mail", "get_token", "alice@example.org"])).stdout)).toEqual({ address: "alice@example.org", token });
    const rotated = (await ctl(["mail", "rotate_token"])).stdout.trim();
    expect(rotated).not.toBe(token);
    expect((await ctl(["mail", "get_token"])).stdout.trim()).toBe(rotated);
  });

  it("has meaningful exit codes", async () => {
    expect((await ctl(["mail", "get_token", "nobody@example.org"])).code).toBe(EXIT.noAccount);
    expect((await ctl(["keys", "list"])).code).toBe(EXIT.ok);
    // A local account has no provider to sync with.
    expect((await ctl(["sync"])).code).toBe(EXIT.unavailable);
    expect((await ctl(["account", "login", "alice@example.org"], { BITMASK_PASSPHRASE: "wrong" })).code).toBe(EXIT.wrongPassphrase);
    expect((await ctl(["account", "create", "alice@example.org"], { BITMASK_PASSPHRASE: PASSPHRASE })).code).toBe(EXIT.accountExists);
    expect((await ctl(["offline", "maybe"])).code).toBe(EXIT.usage);
    expect((await ctl(["no-such-command"])).code).toBe(EXIT.usage);
    const notRunning = await runTool(process.execPath, [path.join(BUILD_DIR, "bitmaskctl.js"), "--data-dir", path.join(dataDir, "elsewhere"), "status"], {
      env: env(),
      timeoutMs: 20_000,
    });
    expect(notRunning.code).toBe(EXIT.daemonNotRunning);
    expect(notRunning.stderr).toContain("bitmaskd is not running");
    const jsonError = await ctl(["--json", "sync"]);
    expect(JSON.parse(jsonError.stdout)).toMatchObject({ error: { code: "unavailable" } });
  });

  it("has --help on every command", async () => {
    for (const command of [[], ["mail"], ["mail", "get_token"], ["keys", "export"], ["sync"], ["offline"], ["account", "passphrase"]]) {
      const help = await ctl([...command, "--help"]);
      expect(help.code, command.join(" ")).toBe(EXIT.ok);
      expect(help.stdout).toContain("Usage: bitmaskctl");
    }
  });

  it("shows and sets always-encrypt", async () => {
    expect((await ctl(["mail", "always_encrypt"])).stdout.trim()).toBe("always encrypt: off");
    expect((await ctl(["mail", "always_encrypt", "on"])).stdout.trim()).toBe("always encrypt: on");
    expect(JSON.parse((await ctl(["--json", "mail", "always_encrypt"])).stdout)).toEqual({ address: "alice@example.org", alwaysEncrypt: true });
    expect((await ctl(["mail", "always_encrypt", "maybe"])).code).toBe(EXIT.usage);
    expect((await ctl(["mail", "always_encrypt", "off"])).stdout.trim()).toBe("always encrypt: off");
  });

  it("turns offline on and off", async () => {
    expect((await ctl(["offline", "on"])).stdout.trim()).toBe("offline");
    expect(JSON.parse((await ctl(["--json", "status"])).stdout).offline).toBe(true);
    expect((await ctl(["offline", "off"])).stdout.trim()).toBe("online");
  });
});

describe("bitmaskd", () => {
  it("refuses a second daemon for the same data folder", async () => {
    const second = await startBitmaskd([]);
    expect(second.code).toBe(4);
    expect(second.stderr).toContain("another bitmaskd already answers");
  });

  it("says which port is taken and exits with 3", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as net.AddressInfo;
    const otherDir = mkdtempSync(path.join(os.tmpdir(), "cli-port-"));
    try {
      const run = await runTool(process.execPath, [path.join(BUILD_DIR, "bitmaskd.js"), "--data-dir", otherDir, "--imap-port", String(port), "--smtp-port", "0"], {
        env: env(),
        timeoutMs: 20_000,
      });
      expect(run.code).toBe(3);
      expect(run.stderr).toContain(`IMAP port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it("exits with 2 on a wrong passphrase", async () => {
    const otherDir = mkdtempSync(path.join(os.tmpdir(), "cli-pass-"));
    try {
      const args = [path.join(BUILD_DIR, "bitmaskd.js"), "--data-dir", otherDir, "--imap-port", "0", "--smtp-port", "0", "--address", "x@example.org"];
      const missing = await runTool(process.execPath, args, { env: env(), timeoutMs: 20_000 });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("BITMASK_PASSPHRASE");
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it("stops gracefully on SIGTERM, removing its socket", async () => {
    const socketPath = path.join(dataDir, "bitmaskd.sock");
    expect(existsSync(socketPath)).toBe(true);
    const exited = new Promise<number | null>((resolve) => daemon.once("exit", (code) => resolve(code)));
    daemon.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(existsSync(socketPath)).toBe(false);
    // And the account unlocks again in a new daemon: the store was closed cleanly.
    const again = await startBitmaskd(["--address", "alice@example.org"], { BITMASK_PASSPHRASE: PASSPHRASE });
    expect(again.code, again.stderr).toBeNull();
    daemon = again.child;
    expect((await ctl(["mail", "get_token"])).code).toBe(EXIT.ok);
  });
});
