// bitmaskctl's mail commands against a bitmaskd process: a message put in
// over IMAP (imapflow, as a mail client) is listed, shown, searched, and its
// attachment saved; bad names and UIDs exit with the not-found code; a send
// with no provider to relay through says so and exits 1; `web open` makes a
// log-in link for the web reader.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ImapFlow } from "imapflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DaemonStatus, MessagePage } from "../../shared/control-api";
import { EXIT } from "../../native-host/cli/exit-codes";
import { buildPrograms, testBuildDir } from "../helpers/build";
import { runTool, type ToolRun } from "../helpers/tools";

const PASSPHRASE = "correct horse battery staple";
const BUILD_DIR = testBuildDir("mail-cli");
const ADDRESS = "alice@example.org";

let dataDir: string;
let daemon: ChildProcess;

function ctl(args: string[], input?: string): Promise<ToolRun> {
  const env = { ...process.env };
  delete env.BITMASK_PASSPHRASE;
  return runTool(process.execPath, [path.join(BUILD_DIR, "bitmaskctl.js"), "--data-dir", dataDir, ...args], { env, timeoutMs: 20_000, input });
}

const MESSAGE = [
  "From: Dora <dora@example.net>",
  `To: ${ADDRESS}`,
  "Subject: the harbour list",
  "Date: Tue, 01 Dec 2026 10:00:00 +0000",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="b1"',
  "",
  "--b1",
  "Content-Type: text/plain; charset=utf-8",
  "",
  "Ropes, lanterns and a compass.",
  "--b1",
  'Content-Type: text/csv; name="list.csv"',
  'Content-Disposition: attachment; filename="list.csv"',
  "Content-Transfer-Encoding: base64",
  "",
  Buffer.from("rope,2\nlantern,1\n").toString("base64"),
  "--b1--",
  "",
].join("\r\n");

beforeAll(async () => {
  await buildPrograms(BUILD_DIR, { bitmaskd: "native-host/daemon/main.ts", bitmaskctl: "native-host/cli/main.ts" });
  dataDir = mkdtempSync(path.join(os.tmpdir(), "mailcli-"));
  daemon = spawn(process.execPath, [path.join(BUILD_DIR, "bitmaskd.js"), "--data-dir", dataDir, "--imap-port", "0", "--smtp-port", "0", "--web-port", "0", "--address", ADDRESS], {
    env: { ...process.env, BITMASK_PASSPHRASE: PASSPHRASE },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    let stdout = "";
    daemon.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      if (stdout.includes("Press Ctrl-C")) resolve();
    });
    daemon.once("exit", (code) => reject(new Error(`bitmaskd exited ${code}: ${stdout}`)));
  });
  const status = JSON.parse((await ctl(["--json", "status"])).stdout) as DaemonStatus;
  const token = (await ctl(["mail", "get_token"])).stdout.trim();
  const imap = new ImapFlow({ host: "127.0.0.1", port: status.accounts[0]!.imap.port, secure: false, auth: { user: ADDRESS, pass: token }, logger: false });
  await imap.connect();
  await imap.append("INBOX", Buffer.from(MESSAGE));
  await imap.logout();
}, 90_000);

afterAll(() => {
  daemon?.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(BUILD_DIR, { recursive: true, force: true });
});

describe("bitmaskctl mail", () => {
  it("ls lists the mailboxes, and a mailbox's messages, as text and --json", async () => {
    const boxes = await ctl(["mail", "ls"]);
    expect(boxes.code, boxes.stderr).toBe(EXIT.ok);
    expect(boxes.stdout).toMatch(/^INBOX\s+1 messages\s+1 unread$/m);
    const list = await ctl(["mail", "ls", "INBOX"]);
    expect(list.stdout).toMatch(/^\s+1 N\s+2026-12-01 10:00  Dora <dora@example.net>\s+the harbour list$/m);
    expect(list.stdout).toContain("INBOX: 1 messages, page 1 of 1");
    const json = JSON.parse((await ctl(["--json", "mail", "ls", "INBOX", "--page-size", "10"])).stdout) as MessagePage;
    expect(json).toMatchObject({ mailbox: "INBOX", total: 1, pageSize: 10, messages: [{ uid: 1, subject: "the harbour list" }] });
  });

  it("show prints the message and its parts; --part writes one decoded", async () => {
    const shown = await ctl(["mail", "show", "INBOX", "1"]);
    expect(shown.code, shown.stderr).toBe(EXIT.ok);
    expect(shown.stdout).toContain("Subject:  the harbour list");
    expect(shown.stdout).toContain("Security: not encrypted, not signed");
    expect(shown.stdout).toContain("Ropes, lanterns and a compass.");
    expect(shown.stdout).toContain("[part 2] list.csv  text/csv");
    expect((await ctl(["mail", "show", "INBOX", "1", "--part", "2"])).stdout).toBe("rope,2\nlantern,1\n");
  });

  it("search finds by the words of the text", async () => {
    const found = await ctl(["mail", "search", "INBOX", "lanterns", "compass"]);
    expect(found.stdout).toContain("the harbour list");
    expect(found.stdout).toContain("1 found");
    expect((await ctl(["mail", "search", "INBOX", "submarine"])).stdout).toContain("0 found");
  });

  it("exits with the not-found code, naming what is missing", async () => {
    const noBox = await ctl(["mail", "ls", "Nowhere"]);
    expect(noBox.code).toBe(EXIT.notFound);
    expect(noBox.stderr).toContain("no mailbox named Nowhere");
    const noUid = await ctl(["--json", "mail", "show", "INBOX", "42"]);
    expect(noUid.code).toBe(EXIT.notFound);
    expect(JSON.parse(noUid.stdout)).toEqual({ error: { code: "not-found", message: expect.stringContaining("no message with UID 42 in INBOX") } });
    const oversized = await ctl(["mail", "ls", "INBOX", "--page-size", "100000"]);
    expect(oversized.code).toBe(EXIT.usage);
    expect(oversized.stderr).toContain("pageSize");
  });

  it("send says why it could not send (no provider here) and exits 1; nothing lands in Sent", async () => {
    const sent = await ctl(["mail", "send", "--to", "bob@example.net", "--subject", "hello"], "hi Bob\n");
    expect(sent.code).toBe(EXIT.failed);
    expect(sent.stderr).toMatch(/not sent: 4\d\d .*no provider to send through/);
    expect((await ctl(["mail", "ls"])).stdout).toMatch(/^Sent\s+0 messages/m);
  });

  it("web open prints a log-in link to the web reader that works once", async () => {
    const opened = await ctl(["web", "open"]);
    expect(opened.code, opened.stderr).toBe(EXIT.ok);
    const link = opened.stdout.trim();
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/login\?secret=[\w-]{43}$/);
    expect((await fetch(link, { redirect: "manual" })).status).toBe(303);
    expect((await fetch(link, { redirect: "manual" })).status).toBe(403);
    const json = JSON.parse((await ctl(["--json", "web", "open", ADDRESS])).stdout) as { address: string; url: string };
    expect(json.address).toBe(ADDRESS);
  });
});
