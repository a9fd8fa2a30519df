// The daemon's life around a running Thunderbird, all real processes: the
// user starts bitmaskd by hand (account alice), the add-on attaches to it;
// a second account (bob) is made with bitmaskctl and appears by itself.
// `bitmaskctl stop` takes the daemon away: the add-on retries, its native
// host starts a new daemon (locked), and the add-on offers its unlock page.
// Get Messages on the locked account shows no Thunderbird dialog (its NO
// [UNAVAILABLE] alert is taken by the add-on, which brings the unlock page
// back). Alice is unlocked on the setup page, Bob from the popup; new mail
// then reaches Thunderbird's INBOX. The add-on's daemon survives a
// Thunderbird restart and ends with `bitmaskctl stop`.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ImapFlow } from "imapflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../native-host/cli/exit-codes";
import { runTool, type ToolRun } from "../helpers/tools";
import { createProfile, freePort, requireThunderbird, Thunderbird, thunderbirdVersion, waitFor } from "../helpers/thunderbird";

const ROOT = path.resolve(import.meta.dirname, "../..");
const DIST = path.join(ROOT, "dist");
const ALICE = "alice@localhost";
const BOB = "bob@localhost";
const PASSPHRASES: Record<string, string> = { [ALICE]: "alice's long passphrase here", [BOB]: "bob's own long passphrase" };
const STEP_DEADLINE_MS = 60_000;

const skipReason = requireThunderbird("the daemon life-cycle test in Thunderbird");


let root = "";
let home = "";
let tmp = "";
let profile = "";
let marionettePort = 0;
/** Fixed for the test's life, as 1984 and 2013 are for a user: Thunderbird's account keeps its port while an account is locked. */
const ports = { imap: "0", smtp: "0" };
let handStarted: ChildProcess | undefined;
let thunderbird: Thunderbird | undefined;

/** The user's environment: HOME in the temp folder; the daemon picks free ports. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, BITMASK_IMAP_PORT: ports.imap, BITMASK_SMTP_PORT: ports.smtp, BITMASK_WEB_PORT: "0", ...extra };
  for (const name of ["XDG_DATA_HOME", "BITMASK_PASSPHRASE"]) if (!(name in extra)) delete env[name];
  return env;
}

function ctl(args: string[], extra: Record<string, string> = {}): Promise<ToolRun> {
  return runTool(process.execPath, [path.join(DIST, "bitmaskctl.js"), ...args], { env: userEnv(extra), timeoutMs: 40_000 });
}

type Status = { pid: number; accounts: { address: string; imap: { port: number } }[]; locked: string[] };
async function status(): Promise<Status | null> {
  const run = await ctl(["--json", "status"]);
  return run.code === EXIT.ok ? (JSON.parse(run.stdout) as Status) : null;
}

function startThunderbird(): Promise<Thunderbird> {
  return Thunderbird.start({ profile, home, tmp, marionettePort, env: { BITMASK_IMAP_PORT: ports.imap, BITMASK_SMTP_PORT: ports.smtp, BITMASK_WEB_PORT: "0" } });
}

async function dialogs(): Promise<string[]> {
  return (await thunderbird!.openWindowTypes()).filter((type) => type === "commonDialog" || type === "prompt");
}

/** Puts a message in the account's INBOX over IMAP, as any client could. */
async function deliver(address: string, subject: string): Promise<void> {
  const state = (await status())!;
  const token = (await ctl(["mail", "get_token", address])).stdout.trim();
  const port = state.accounts.find((account) => account.address === address)!.imap.port;
  const client = new ImapFlow({ host: "127.0.0.1", port, secure: false, auth: { user: address, pass: token }, logger: false });
  await client.connect();
  try {
    await client.append("INBOX", `From: carol@example.org\r\nTo: ${address}\r\nSubject: ${subject}\r\n\r\nHello.\r\n`);
  } finally {
    await client.logout();
  }
}

/** Get Messages until Thunderbird lists `subject` in the account's INBOX. */
async function shownInThunderbird(address: string, subject: string): Promise<void> {
  await waitFor(`"${subject}" in Thunderbird's INBOX of ${address}`, STEP_DEADLINE_MS, async () => {
    const subjects = await thunderbird!.inboxSubjects(address);
    if (subjects?.includes(subject)) return true;
    if (subjects) await thunderbird!.getNewMessages(address);
    return false;
  });
}

beforeAll(() => {
  if (skipReason) return;
  execFileSync(process.execPath, [path.join(ROOT, "scripts/build.mjs"), "bitmaskd", "bitmaskctl", "native-host", "--package"], { cwd: ROOT, stdio: "pipe" });
  root = mkdtempSync(path.join(os.tmpdir(), "tb-life-"));
  home = path.join(root, "home");
  tmp = path.join(root, "tmp");
  profile = path.join(root, "profile");
  mkdirSync(home, { recursive: true });
  mkdirSync(tmp, { recursive: true });
  execFileSync(process.execPath, [path.join(ROOT, "scripts/register-host.mjs")], { env: userEnv() });
}, 120_000);

afterAll(async () => {
  await thunderbird?.kill();
  handStarted?.kill("SIGKILL");
  // The add-on's daemon runs detached: stop it (or, if the test failed before, kill what answers).
  const left = root ? await status() : null;
  if (left) await ctl(["stop"]);
  if (root) rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
});

describe.skipIf(skipReason)(`the daemon's life around ${skipReason ? "Thunderbird" : thunderbirdVersion()}`, () => {
  it("attaches, recovers after a stop, unlocks from its own pages without a Thunderbird dialog, and the add-on's daemon outlives a restart", async () => {
    // 1. bitmaskd started by hand with alice; Thunderbird's add-on attaches to it.
    ports.imap = String(await freePort());
    ports.smtp = String(await freePort());
    handStarted = spawn(process.execPath, [path.join(DIST, "bitmaskd.js"), "--address", ALICE], {
      env: userEnv({ BITMASK_PASSPHRASE: PASSPHRASES[ALICE]! }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const handExited = new Promise<number | null>((resolve) => handStarted!.once("exit", resolve));
    await waitFor("bitmaskd to serve alice", 30_000, async () => (await status())?.accounts.length === 1);
    marionettePort = await freePort();
    createProfile(profile, path.join(DIST, "bitmask-mail.xpi"), marionettePort);
    thunderbird = await startThunderbird();
    await deliver(ALICE, "before the stop");
    await shownInThunderbird(ALICE, "before the stop");

    // 2. A second account made with the CLI appears in Thunderbird by itself.
    const created = await ctl(["account", "create", BOB], { BITMASK_PASSPHRASE: PASSPHRASES[BOB]! });
    expect(created.code, created.stderr).toBe(EXIT.ok);
    await waitFor("Thunderbird to list bob's INBOX", STEP_DEADLINE_MS, async () => (await thunderbird!.inboxSubjects(BOB)) !== null);

    // 3. The daemon stops; the add-on's native host starts one (everything locked) and the add-on offers to unlock.
    const handPid = (await status())!.pid;
    expect((await ctl(["stop"])).code).toBe(EXIT.ok);
    expect(await handExited).toBe(0);
    const addonDaemon = await waitFor("the add-on to start a daemon of its own", STEP_DEADLINE_MS, async () => {
      const now = await status();
      return now && now.pid !== handPid ? now : null;
    });
    expect(addonDaemon.locked.sort()).toEqual([ALICE, BOB]);
    const lockedOnPage = await waitFor("the setup page to offer the unlock", STEP_DEADLINE_MS, () =>
      thunderbird!.inExtensionPage<string[]>("/setup.html", `const labels = [...doc.querySelectorAll("#locked-forms label")].map((label) => label.textContent);
       return labels.length === 2 ? labels : undefined;`),
    );
    expect(lockedOnPage).toEqual(expect.arrayContaining([`Passphrase for ${ALICE}`, `Passphrase for ${BOB}`]));

    // 4. Get Messages while locked: no Thunderbird dialog; the add-on takes the alert and brings its page back.
    expect(await thunderbird.closeAddonWindows("/setup.html")).toBe(1);
    await thunderbird.getNewMessages(ALICE);
    await waitFor("the add-on to reopen its unlock page", STEP_DEADLINE_MS, () =>
      thunderbird!.inExtensionPage<boolean>("/setup.html", `return doc.querySelectorAll("#locked-forms form").length === 2;`),
    );
    expect(await dialogs()).toEqual([]);

    // 5. Alice unlocked on the setup page (Enter in the passphrase field), Bob from the popup.
    await thunderbird.inExtensionPage(
      "/setup.html",
      `const form = [...doc.querySelectorAll("#locked-forms form")].find((f) => f.textContent.includes(args[0]));
       form.querySelector("input").value = args[1];
       form.requestSubmit();
       return true;`,
      [ALICE, PASSPHRASES[ALICE]],
    );
    await waitFor("alice unlocked", STEP_DEADLINE_MS, async () => (await status())?.accounts.some((account) => account.address === ALICE));
    await thunderbird.openAddonPage("popup.html");
    await waitFor("the popup to offer bob's unlock", STEP_DEADLINE_MS, () =>
      thunderbird!.inExtensionPage<boolean>("/popup.html", `return [...doc.querySelectorAll("form.locked h2")].some((h) => h.textContent === args[0]);`, [BOB]),
    );
    await thunderbird.inExtensionPage(
      "/popup.html",
      `const form = [...doc.querySelectorAll("form.locked")].find((f) => f.querySelector("h2").textContent === args[0]);
       form.querySelector("input").value = args[1];
       form.querySelector("button[type=submit]").click();
       return true;`,
      [BOB, PASSPHRASES[BOB]],
    );
    await waitFor("bob unlocked", STEP_DEADLINE_MS, async () => (await status())?.locked.length === 0);
    await waitFor("the popup to show both accounts", STEP_DEADLINE_MS, () =>
      thunderbird!.inExtensionPage<boolean>("/popup.html", `return doc.querySelectorAll("section.account").length === 2 && !doc.querySelector("form.locked");`),
    );

    // Get Messages works again for both, without a dialog.
    await deliver(ALICE, "after the unlock");
    await deliver(BOB, "for bob after the unlock");
    await shownInThunderbird(ALICE, "after the unlock");
    await shownInThunderbird(BOB, "for bob after the unlock");
    expect(await dialogs()).toEqual([]);

    // 6. The add-on's daemon outlives Thunderbird: same pid, still unlocked, after a restart.
    await thunderbird.quit();
    thunderbird = await startThunderbird();
    await deliver(ALICE, "after the restart");
    await shownInThunderbird(ALICE, "after the restart");
    expect((await status())!.pid).toBe(addonDaemon.pid);
    expect(await dialogs()).toEqual([]);
    await thunderbird.quit();
    thunderbird = undefined;

    const stopped = await ctl(["stop"]);
    expect(stopped.stdout).toContain(`bitmaskd (pid ${addonDaemon.pid}) stopped`);
  }, 400_000);
});
