// Offline mode and the push state as a user sees them. Offline closes the
// event stream and fetches nothing; the choice survives a daemon restart;
// `bitmaskd --offline` starts that way; `bitmaskctl mail status` and
// `status --json` say whether the push channel is up.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daemonStatus } from "../../shared/control-api";
import { buildPrograms, testBuildDir } from "../helpers/build";
import { signUpAccount, startTestDaemon, startTlsProvider, syncNow, type TlsProvider } from "../helpers/daemon";
import { eventually } from "../helpers/provider";
import { describeRun, runTool } from "../helpers/tools";

const PASSPHRASE = "correct horse battery staple";
const BUILD_DIR = testBuildDir("push-offline");

let provider: TlsProvider;
const folders: string[] = [];

function folder(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  folders.push(dir);
  return dir;
}

beforeAll(async () => {
  provider = await startTlsProvider();
  await buildPrograms(BUILD_DIR, { bitmaskd: "native-host/daemon/main.ts", bitmaskctl: "native-host/cli/main.ts" });
}, 60_000);

afterAll(async () => {
  await provider?.stop();
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  rmSync(BUILD_DIR, { recursive: true, force: true });
});

async function sendToMx(to: string, subject: string): Promise<void> {
  const transport = nodemailer.createTransport({ host: "127.0.0.1", port: provider.mxPort, secure: false, ignoreTLS: true });
  try {
    await transport.sendMail({ envelope: { from: "bob@example.net", to: [to] }, raw: `Subject: ${subject}\r\nMessage-ID: <${subject}@example.net>\r\n\r\nhello\r\n` });
  } finally {
    transport.close();
  }
}

describe("offline mode", () => {
  it("closes the event stream and fetches nothing, also after a restart, until it is turned off", async () => {
    const address = "olive@example.org";
    const dataDir = folder("push-offline-");
    const first = await startTestDaemon({ dataDir, push: true });
    const account = await signUpAccount(first.daemon, provider, address, PASSPHRASE);
    await syncNow(account);
    await eventually(async () => (account.sync!.status().push === "up" ? true : undefined), 10_000, "the stream up");

    first.daemon.setOffline(true);
    await eventually(async () => (account.sync!.status().push === "off" ? true : undefined), 5_000, "the stream closed");
    expect(account.status().sync.state).toBe("offline");
    await sendToMx(address, "while-offline");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(account.mail.requireMailbox("INBOX").counts().messages).toBe(0);
    await first.daemon.stop();

    const second = await startTestDaemon({ dataDir, push: true });
    try {
      expect(second.daemon.status().offline).toBe(true);
      const again = await second.daemon.unlockAccount(address, PASSPHRASE);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(again.sync!.status().push).toBe("off");
      expect(again.mail.requireMailbox("INBOX").counts().messages).toBe(0);

      second.daemon.setOffline(false);
      await eventually(async () => (again.sync!.status().push === "up" ? true : undefined), 10_000, "the stream up again");
      const inbox = again.mail.requireMailbox("INBOX");
      await eventually(async () => (inbox.byMessageId("<while-offline@example.net>").length === 1 ? true : undefined), 10_000, "the mail sent while offline");
    } finally {
      await second.daemon.stop();
    }
    const third = await startTestDaemon({ dataDir });
    try {
      expect(third.daemon.status().offline).toBe(false);
    } finally {
      await third.daemon.stop();
    }
  }, 90_000);
});

describe("bitmaskd and bitmaskctl", () => {
  let dataDir: string;
  let daemon: ChildProcess | null = null;

  const ctl = (args: string[]) =>
    runTool(process.execPath, [path.join(BUILD_DIR, "bitmaskctl.js"), "--data-dir", dataDir, ...args], {
      env: { ...process.env, BITMASK_PASSPHRASE: PASSPHRASE },
      timeoutMs: 30_000,
    });

  function startBitmaskd(args: string[]): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(BUILD_DIR, "bitmaskd.js"), "--data-dir", dataDir, "--imap-port", "0", "--smtp-port", "0", "--no-web-port", ...args], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      daemon = child;
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        stdout += chunk.toString("utf8");
        if (stdout.includes("Press Ctrl-C")) resolve({ stdout, stderr });
      });
      child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      child.once("exit", (code) => reject(new Error(`bitmaskd exited ${code}: ${stderr}`)));
    });
  }

  async function stopBitmaskd(): Promise<void> {
    const child = daemon;
    if (!child) return;
    daemon = null;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }

  beforeAll(() => {
    dataDir = folder("push-cli-");
  });

  afterAll(async () => {
    await stopBitmaskd();
  });

  it("mail status says the push channel is up; --offline starts offline, and stays so across a restart until `offline off`", async () => {
    const caFile = path.join(dataDir, "provider-ca.pem");
    writeFileSync(caFile, provider.ca);
    await startBitmaskd([]);
    const created = await ctl(["account", "create", "pat@example.org", "--provider", provider.url, "--provider-ca", caFile]);
    expect(created.code, describeRun(created)).toBe(0);
    await eventually(
      async () => {
        const status = await ctl(["mail", "status"]);
        return /^ {2}push {5}up \(/m.test(status.stdout) ? status.stdout : undefined;
      },
      20_000,
      "mail status saying push up",
    );
    await stopBitmaskd();

    const offline = await startBitmaskd(["--offline"]);
    expect(offline.stdout).toMatch(/^Offline /m);
    const json = daemonStatus.parse(JSON.parse((await ctl(["--json", "status"])).stdout));
    expect(json.offline).toBe(true);
    const login = await ctl(["account", "login", "pat@example.org"]);
    expect(login.code, describeRun(login)).toBe(0);
    expect(login.stdout).toMatch(/^ {2}push {5}off$/m);
    await stopBitmaskd();

    await startBitmaskd([]);
    expect((await ctl(["status"])).stdout).toMatch(/^bitmaskd running \(pid \d+\), offline$/m);
    expect((await ctl(["offline", "off"])).stdout.trim()).toBe("online");
    expect(await ctl(["account", "login", "pat@example.org"])).toMatchObject({ code: 0 });
    await eventually(async () => (/^ {2}push {5}up \(/m.test((await ctl(["mail", "status"])).stdout) ? true : undefined), 20_000, "push up again");
  }, 120_000);
});
