// `bitmask-provider setup --domain D --postfix DIR` writes a configuration
// Postfix accepts and prints the DNS records (the DKIM key's among them);
// it never overwrites an earlier setup; the provider started with
// `--postfix DIR` opens its LMTP and lookup sockets there, and a missing
// setup is a clear error.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { requireTool, runTool } from "../helpers/tools";

const tsx = path.resolve("node_modules/.bin/tsx");
const main = path.resolve("provider/main.ts");
const root = mkdtempSync(path.join(tmpdir(), "bm-setup-"));
const dir = path.join(root, "postfix");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const skip = requireTool({ name: "postconf", install: "apt-get install postfix" }, "setup tests");

describe.skipIf(skip)("bitmask-provider setup", () => {
  it("writes the Postfix and DKIM configuration and prints the DNS records", async () => {
    const run = await runTool(tsx, [main, "setup", "--domain", "Example.TEST", "--postfix", dir], { timeoutMs: 30_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("example.test. IN MX 10 mx.example.test.");
    expect(run.stdout).toContain('example.test. IN TXT "v=spf1 mx -all"');
    expect(run.stdout).toMatch(/bitmask1\._domainkey\.example\.test\. IN TXT "v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+" "[A-Za-z0-9+/=]+"/);
    expect(run.stdout).toContain("_dmarc.example.test. IN TXT");
    expect(statSync(path.join(dir, "dkim-bitmask1.pem")).mode & 0o777).toBe(0o600);
    // Postfix reads the additions: a copy of the system's files with them appended.
    const etc = path.join(root, "etc");
    mkdirSync(etc);
    writeFileSync(path.join(etc, "main.cf"), readFileSync(path.join(dir, "main.cf.bitmask")));
    copyFileSync("/etc/postfix/master.cf", path.join(etc, "master.cf"));
    writeFileSync(path.join(etc, "master.cf"), readFileSync(path.join(dir, "master.cf.bitmask")), { flag: "a" });
    const mainCf = await runTool("postconf", ["-c", etc, "-n", "virtual_transport", "virtual_mailbox_maps"], { timeoutMs: 10_000 });
    expect(mainCf.stdout).toContain(`virtual_transport = lmtp:unix:${dir}/lmtp`);
    expect(mainCf.stdout).toContain(`virtual_mailbox_maps = socketmap:unix:${dir}/lookup:mailbox`);
    const master = await runTool("postconf", ["-c", etc, "-M", "bitmask-submit/unix"], { timeoutMs: 10_000 });
    expect(master.stdout, master.stderr).toMatch(/^bitmask-submit\s+unix\s+n\s+-\s+n\s+-\s+-\s+smtpd/);
  });

  it("refuses to overwrite an earlier setup, keeping its key", async () => {
    const key = readFileSync(path.join(dir, "dkim-bitmask1.pem"), "utf8");
    const again = await runTool(tsx, [main, "setup", "--domain", "example.test", "--postfix", dir], { timeoutMs: 30_000 });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already holds a setup");
    expect(readFileSync(path.join(dir, "dkim-bitmask1.pem"), "utf8")).toBe(key);
  });

  it("starts the provider with --postfix: the LMTP and lookup sockets open to Postfix's group only", async () => {
    const dataDir = path.join(root, "data");
    const child = spawn(tsx, [main, "--domain", "example.test", "--data-dir", dataDir, "--http-port", "0", "--mx-port", "0", "--submission-port", "0", "--postfix", dir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const stderr: string[] = [];
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString("utf8")));
    const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
    expect(JSON.parse(line)).toMatchObject({ event: "listening", domain: "example.test" });
    for (const socket of ["lmtp", "lookup"]) {
      const stat = statSync(path.join(dir, socket));
      expect(stat.isSocket()).toBe(true);
      expect(stat.mode & 0o777).toBe(0o660);
    }
    child.kill("SIGTERM");
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code, stderr.join("")).toBe(0);
  });

  it("says what is wrong with a --postfix folder that was never set up", async () => {
    const run = await runTool(tsx, [main, "--domain", "example.test", "--data-dir", path.join(root, "d2"), "--postfix", path.join(root, "nothing")], { timeoutMs: 30_000 });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("run bitmask-provider setup --domain D --postfix");
  });
});
