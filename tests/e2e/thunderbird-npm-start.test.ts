// What a newcomer does, step by step as `npm start` prints it, in a fresh
// HOME and a fresh Thunderbird profile on Xvfb: `npm start` (bitmask-local),
// then the printed `npm run package` and `npm run register-host`, then the
// .xpi installed from file into a running Thunderbird (which shows its
// first-run account hub, having no account). The account appears by
// itself, the hub goes, mail sent from outside with the printed swaks
// command shows in the INBOX, and no password dialog ever appears. The
// window's screenshot (kept in tests/artifacts) is read back with OCR: the
// account is in the folder pane, the hub's "Add Your Account" is not.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProfile, freePort, requireXvfbTools, startXvfb, Thunderbird, thunderbirdVersion, waitFor } from "../helpers/thunderbird";
import { requireTool } from "../helpers/tools";

const ROOT = path.resolve(import.meta.dirname, "../..");
const ARTIFACTS = path.join(ROOT, "tests", "artifacts");
const ADDRESS = "alice@bitmask.localhost";
/** The daemon's rounds with the provider come every minute: mail from outside shows within two. */
const MAIL_DEADLINE_MS = 150_000;
const STEP_DEADLINE_MS = 60_000;

const skipReason =
  requireXvfbTools("the npm start walk-through in Thunderbird") ??
  requireTool([{ name: "swaks", install: "apt-get install swaks" }, { name: "openssl", install: "apt-get install openssl" }], "npm start");


let root = "";
let home = "";
let xvfb: { display: string; stop(): void } | undefined;
let npmStart: ChildProcess | undefined;
let thunderbird: Thunderbird | undefined;

/** The newcomer's shell: HOME in the temp folder, nothing pointing elsewhere. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, BITMASK_PASSPHRASE: "a newcomer's passphrase, long enough" };
  for (const name of ["XDG_DATA_HOME", "BITMASK_IMAP_PORT", "BITMASK_SMTP_PORT", "npm_config_cache"]) delete env[name];
  return env;
}

/** `npm start`, on free ports (its usual ones may be taken on a test machine); resolves with what it printed. */
async function startNpmStart(): Promise<string> {
  const ports: string[] = [];
  for (const name of ["--imap-port", "--smtp-port", "--web-port", "--provider-port", "--mx-port", "--submission-port"]) ports.push(name, String(await freePort()));
  execFileSync(process.execPath, [path.join(ROOT, "scripts/build.mjs")], { cwd: ROOT, stdio: "pipe" });
  npmStart = spawn(process.execPath, [path.join(ROOT, "dist", "bitmask-local.js"), ...ports], { cwd: ROOT, env: userEnv(), stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    npmStart!.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      if (stdout.includes("Mail from outside")) setTimeout(() => resolve(stdout), 200);
    });
    npmStart!.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    npmStart!.once("exit", (code) => reject(new Error(`npm start exited ${code}:\n${stdout}\n${stderr}`)));
  });
}

beforeAll(async () => {
  if (skipReason) return;
  root = mkdtempSync(path.join(os.tmpdir(), "tb-start-"));
  home = path.join(root, "home");
  mkdirSync(home, { recursive: true });
  mkdirSync(path.join(root, "tmp"), { recursive: true });
  xvfb = await startXvfb();
}, 60_000);

afterAll(async () => {
  await thunderbird?.kill();
  npmStart?.kill("SIGINT");
  xvfb?.stop();
  if (root) rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
});

describe.skipIf(skipReason)(`npm start's printed steps, in ${skipReason ? "Thunderbird" : thunderbirdVersion()}`, () => {
  it("account appears, the hub goes, mail from outside shows in INBOX, no password dialog", async () => {
    const printed = await startNpmStart();
    expect(printed).toContain(`data in ${path.join(home, ".local", "share", "bitmask-mail")}`);

    // The printed add-on steps, run as printed (npm scripts, in the repository).
    const npmSteps = [...printed.matchAll(/^\s+(npm run [\w-]+)/gm)].map((match) => match[1]!);
    expect(npmSteps).toEqual(["npm run package", "npm run register-host"]);
    for (const step of npmSteps) execFileSync("sh", ["-c", step], { cwd: ROOT, env: userEnv(), stdio: "pipe" });
    const xpi = /Install Add-on From File > (\S+)/.exec(printed)![1]!;

    // A fresh profile, no account: Thunderbird opens its account hub. Then "Install Add-on From File".
    const marionettePort = await freePort();
    const profile = path.join(root, "profile");
    createProfile(profile, null, marionettePort);
    thunderbird = await Thunderbird.start({ profile, home, tmp: path.join(root, "tmp"), marionettePort, display: xvfb!.display });
    const dialogs = async () => (await thunderbird!.openWindowTypes()).filter((type) => type === "commonDialog" || type === "prompt");
    await waitFor("Thunderbird's first-run account hub", STEP_DEADLINE_MS, () => thunderbird!.accountHubOpen());
    await thunderbird.installAddon(path.join(ROOT, xpi));

    await waitFor("the account in Thunderbird", STEP_DEADLINE_MS, async () => (await thunderbird!.inboxSubjects(ADDRESS)) !== null);
    await waitFor("the account hub to close", STEP_DEADLINE_MS, async () => !(await thunderbird!.accountHubOpen()));
    expect(await dialogs()).toEqual([]);

    // Mail from outside, with the printed swaks line (plus a subject to find it by).
    const swaks = /^\s+(swaks .+)$/m.exec(printed)![1]!;
    const subject = `from outside ${Date.now()}`;
    execFileSync("sh", ["-c", `${swaks} --header 'Subject: ${subject}' --body 'Hello from outside.'`], { env: userEnv(), stdio: "pipe" });
    await waitFor(`"${subject}" in Thunderbird's INBOX`, MAIL_DEADLINE_MS, async () => {
      if ((await dialogs()).length > 0) throw new Error("a dialog appeared while waiting for the mail");
      const subjects = await thunderbird!.inboxSubjects(ADDRESS);
      if (subjects?.includes(subject)) return true;
      await thunderbird!.getNewMessages(ADDRESS);
      return false;
    });
    expect(await dialogs()).toEqual([]);

    // The window as the user sees it: the account in the folder pane, no hub over it.
    mkdirSync(ARTIFACTS, { recursive: true });
    const screenshot = path.join(ARTIFACTS, "thunderbird-npm-start.png");
    const enlarged = path.join(root, "ocr.png");
    let seen = "";
    await waitFor("the account in the window's screenshot", 30_000, () => {
      execFileSync("import", ["-display", xvfb!.display, "-window", "root", screenshot]);
      execFileSync("convert", [screenshot, "-colorspace", "Gray", "-resize", "200%", enlarged]);
      seen = spawnSync("tesseract", [enlarged, "-", "--psm", "11"], { encoding: "utf8" }).stdout;
      return seen.toLowerCase().includes("bitmask.localhost");
    }).catch((error: Error) => {
      throw new Error(`${error.message}; OCR saw:\n${seen}\n(screenshot: ${screenshot})`);
    });
    expect(seen).not.toMatch(/Add Your Account/i);
    await thunderbird.quit();
    thunderbird = undefined;
  }, 400_000);
});
