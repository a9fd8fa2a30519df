// `npm start`'s program (bitmask-local) as a newcomer runs it: it prints the
// settings and the token; a real IMAP client logs in with them; mail sent to
// the provider's MX with swaks shows up decrypted after `bitmaskctl sync`;
// Ctrl-C stops it cleanly, and the next start unlocks the same account.
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { ImapFlow } from "imapflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPrograms, buildWebPages, testBuildDir } from "../helpers/build";
import { tempDir } from "../helpers/temp-store";
import { expectSuccess, requireTool, runTool } from "../helpers/tools";

const skipReason = requireTool([{ name: "swaks", install: "apt-get install swaks" }, { name: "openssl", install: "apt-get install openssl" }], "npm start");
const BUILD_DIR = testBuildDir("start");
const PASSPHRASE = "correct horse battery staple";

/** Free ports picked now and kept across restarts: the account remembers its provider's URL. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

type Started = { child: ChildProcess; stdout: string; exited: Promise<number | null> };

let data: ReturnType<typeof tempDir>;
let ports: string[];

function start(): Promise<Started> {
  const child = spawn(process.execPath, [path.join(BUILD_DIR, "bitmask-local.js"), "--data-dir", data.dir, ...ports], {
    env: { ...process.env, BITMASK_PASSPHRASE: PASSPHRASE },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      if (stdout.includes("Mail from outside")) resolve({ child, stdout, exited });
    });
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    void exited.then((code) => reject(new Error(`bitmask-local exited ${code}: ${stderr}`)));
  });
}

function setting(stdout: string, name: string): string {
  const match = new RegExp(`^${name}\\s+(\\S+)`, "m").exec(stdout);
  if (!match) throw new Error(`no ${name} in:\n${stdout}`);
  return match[1]!;
}

beforeAll(async () => {
  await buildPrograms(BUILD_DIR, { "bitmask-local": "native-host/daemon/local-main.ts", bitmaskctl: "native-host/cli/main.ts" });
  await buildWebPages(path.join(BUILD_DIR, "web"));
  data = tempDir("bitmask-start-");
  const names = ["--imap-port", "--smtp-port", "--web-port", "--provider-port", "--mx-port", "--submission-port"];
  ports = [];
  for (const name of names) ports.push(name, String(await freePort()));
}, 60_000);

afterAll(() => {
  data?.cleanup();
  rmSync(BUILD_DIR, { recursive: true, force: true });
});

describe.skipIf(skipReason)("npm start (bitmask-local)", () => {
  it("prints working settings; mail from outside arrives decrypted; stops and starts again", async () => {
    const first = await start();
    try {
      const [, imapPort] = setting(first.stdout, "IMAP").split(":");
      const user = setting(first.stdout, "Username");
      const token = setting(first.stdout, "Password");
      expect(setting(first.stdout, "Key")).toMatch(/^[0-9A-F]{40}$/);
      const mx = /MX 127\.0\.0\.1:(\d+)/.exec(first.stdout)![1]!;
      const webPort = ports[ports.indexOf("--web-port") + 1];
      expect(setting(first.stdout, "Web mail")).toBe(`http://127.0.0.1:${webPort}`);
      const link = /log in \(once.*\): (\S+)/.exec(first.stdout)![1]!;
      const loggedIn = await fetch(link, { redirect: "manual" });
      expect(loggedIn.status).toBe(303);
      const cookie = loggedIn.headers.get("set-cookie")!.split(";")[0]!;
      expect((await fetch(`http://127.0.0.1:${webPort}/`, { headers: { cookie } })).status).toBe(200);

      const sent = await runTool("swaks", ["--server", `127.0.0.1:${mx}`, "--from", "bob@example.net", "--to", user, "--header", "Subject: from outside", "--body", "plain words"], {
        timeoutMs: 20_000,
      });
      expectSuccess(sent, "swaks");
      const sync = await runTool(process.execPath, [path.join(BUILD_DIR, "bitmaskctl.js"), "--data-dir", data.dir, "sync"], { timeoutMs: 30_000 });
      expectSuccess(sync, "bitmaskctl sync");

      const client = new ImapFlow({ host: "127.0.0.1", port: Number(imapPort), secure: false, auth: { user, pass: token }, logger: false });
      await client.connect();
      try {
        await client.mailboxOpen("INBOX");
        const message = await client.fetchOne("*", { source: true });
        const source = message && message.source ? message.source.toString("utf8") : "";
        expect(source).toContain("Subject: from outside");
        expect(source).toContain("X-Leap-Signature: could not verify");
        expect(source).toContain("plain words");
      } finally {
        await client.logout();
      }
    } finally {
      first.child.kill("SIGINT");
    }
    expect(await first.exited).toBe(0);

    const second = await start();
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    expect(second.stdout).toContain("Account   alice@bitmask.localhost");
  });
});
