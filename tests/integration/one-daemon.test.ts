// One daemon per user, in one data folder: bitmaskd, bitmaskctl and `npm
// start` (bitmask-local) started with no --data-dir all use the same default
// under HOME (the folder the add-on's native host uses too). `npm start`
// that finds a daemon running attaches to it instead of failing, and leaves
// it running on Ctrl-C; `bitmaskctl stop` stops a daemon cleanly, whether it
// is bitmaskd on its own or the one inside `npm start`.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { ImapFlow } from "imapflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../native-host/cli/exit-codes";
import { buildPrograms, testBuildDir } from "../helpers/build";
import { tempDir } from "../helpers/temp-store";
import { freePort } from "../helpers/thunderbird";
import { requireTool, runTool, type ToolRun } from "../helpers/tools";

const skipReason = requireTool({ name: "openssl", install: "apt-get install openssl" }, "npm start's local provider certificate");
const BUILD_DIR = testBuildDir("one-daemon");
const PASSPHRASE = "correct horse battery staple";
const ADDRESS = "alice@bitmask.localhost";

let home: ReturnType<typeof tempDir>;
const running = new Set<ChildProcess>();

/** A user's environment: HOME in a temp folder, nothing else pointing at a data folder. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home.dir, ...extra };
  for (const name of ["XDG_DATA_HOME", "BITMASK_PASSPHRASE", "BITMASK_IMAP_PORT", "BITMASK_SMTP_PORT"]) if (!(name in extra)) delete env[name];
  return env;
}

type Started = { child: ChildProcess; stdout: string; exited: Promise<number | null> };

/** Runs one of the built programs; resolves once stdout shows `ready`. */
function startProgram(name: string, args: string[], ready: string, extra: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, [path.join(BUILD_DIR, `${name}.js`), ...args], { env: userEnv(extra), stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      if (stdout.includes(ready)) resolve({ child, stdout, exited });
    });
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    void exited.then((code) => reject(new Error(`${name} exited ${code} before it was ready:\n${stdout}\n${stderr}`)));
  });
}

function ctl(args: string[]): Promise<ToolRun> {
  return runTool(process.execPath, [path.join(BUILD_DIR, "bitmaskctl.js"), ...args], { env: userEnv(), timeoutMs: 40_000 });
}

async function localArgs(): Promise<string[]> {
  const args: string[] = [];
  for (const name of ["--imap-port", "--smtp-port", "--provider-port", "--mx-port", "--submission-port"]) args.push(name, String(await freePort()));
  return args;
}

function setting(stdout: string, name: string): string {
  const match = new RegExp(`^${name}\\s+(\\S+)`, "m").exec(stdout);
  if (!match) throw new Error(`no ${name} in:\n${stdout}`);
  return match[1]!;
}

beforeAll(async () => {
  await buildPrograms(BUILD_DIR, {
    bitmaskd: "native-host/daemon/main.ts",
    bitmaskctl: "native-host/cli/main.ts",
    "bitmask-local": "native-host/daemon/local-main.ts",
  });
  home = tempDir("one-daemon-home-");
  mkdirSync(home.dir, { recursive: true });
}, 60_000);

afterAll(() => {
  for (const child of running) child.kill("SIGKILL");
  home?.cleanup();
  rmSync(BUILD_DIR, { recursive: true, force: true });
});

describe.skipIf(skipReason)("one daemon per user", () => {
  it("npm start attaches to a running bitmaskd in the shared default folder; bitmaskctl stop stops it", async () => {
    const dataDir = path.join(home.dir, ".local", "share", "bitmask-mail");
    // bitmaskd as the native host starts it: no account named, every one locked.
    const daemon = await startProgram("bitmaskd", ["--imap-port", "0", "--smtp-port", "0"], "Press Ctrl-C");
    expect(setting(daemon.stdout, "Control")).toBe(path.join(dataDir, "bitmaskd.sock"));
    const daemonImap = setting(daemon.stdout, "IMAP");

    // npm start finds it and uses it: the account is created in that daemon.
    const local = await startProgram("bitmask-local", await localArgs(), "Mail from outside", { BITMASK_PASSPHRASE: PASSPHRASE });
    expect(local.stdout).toContain(`data in ${dataDir}`);
    expect(local.stdout).toMatch(/bitmaskd \(pid \d+\) was already running: this uses it/);
    expect(local.stdout).toContain("node dist/bitmaskctl.js stop");
    expect(setting(local.stdout, "IMAP")).toBe(daemonImap);
    const client = new ImapFlow({
      host: "127.0.0.1",
      port: Number(daemonImap.split(":")[1]),
      secure: false,
      auth: { user: setting(local.stdout, "Username"), pass: setting(local.stdout, "Password") },
      logger: false,
    });
    await client.connect();
    await client.logout();

    // Ctrl-C on npm start leaves the daemon (and the account) served.
    local.child.kill("SIGINT");
    expect(await local.exited).toBe(0);
    const status = await ctl(["--json", "status"]);
    expect(status.code, status.stderr).toBe(EXIT.ok);
    expect(JSON.parse(status.stdout)).toMatchObject({ accounts: [{ address: ADDRESS }], locked: [] });

    const stop = await ctl(["stop"]);
    expect(stop.code, stop.stderr).toBe(EXIT.ok);
    expect(stop.stdout).toMatch(/^bitmaskd \(pid \d+\) stopped$/m);
    expect(await daemon.exited).toBe(0);
    expect((await ctl(["status"])).code).toBe(EXIT.daemonNotRunning);
  }, 90_000);

  it("bitmaskctl stop ends npm start's own daemon, and npm start with it", async () => {
    const local = await startProgram("bitmask-local", await localArgs(), "Mail from outside", { BITMASK_PASSPHRASE: PASSPHRASE });
    expect(local.stdout).toContain("Ctrl-C stops it.");
    expect(setting(local.stdout, "Account")).toBe(ADDRESS);
    const stop = await ctl(["stop"]);
    expect(stop.code, stop.stderr).toBe(EXIT.ok);
    expect(await local.exited).toBe(0);
    expect((await ctl(["stop"])).code).toBe(EXIT.daemonNotRunning);
  }, 90_000);
});
