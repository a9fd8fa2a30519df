// The add-on's popup and setup page as a user sees them in Thunderbird, in
// its light and dark appearance: screenshots kept in tests/artifacts (the
// ones in docs/ are copies), each read back with OCR so a page that failed
// to render (or to follow the theme) fails the test.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon } from "../../native-host/daemon/daemon";
import { createProfile, freePort, requireXvfbTools, startXvfb, Thunderbird, waitFor } from "../helpers/thunderbird";

const ROOT = path.resolve(import.meta.dirname, "../..");
const ARTIFACTS = path.join(ROOT, "tests", "artifacts");
const skipReason = requireXvfbTools("the add-on page screenshots");


let root = "";
let daemon: Daemon | undefined;
let xvfb: { display: string; stop(): void } | undefined;
let thunderbird: Thunderbird | undefined;

beforeAll(async () => {
  if (skipReason) return;
  execFileSync(process.execPath, [path.join(ROOT, "scripts/build.mjs"), "bitmaskd", "native-host", "--package"], { cwd: ROOT, stdio: "pipe" });
  root = mkdtempSync(path.join(os.tmpdir(), "tb-shots-"));
  const home = path.join(root, "home");
  mkdirSync(home, { recursive: true });
  mkdirSync(path.join(root, "tmp"), { recursive: true });
  execFileSync(process.execPath, [path.join(ROOT, "scripts/register-host.mjs")], { env: { ...process.env, HOME: home } });
  // One account served, one locked (made, then left locked by a restart of the daemon).
  const dataDir = path.join(home, ".local", "share", "bitmask-mail");
  const log = pino({ level: "silent" });
  const first = await startDaemon({ dataDir, imapPort: 0, socketPath: null, log });
  await first.createAccount("bob@localhost", "bob's passphrase");
  await first.stop();
  daemon = await startDaemon({ dataDir, imapPort: 0, log });
  await daemon.createAccount("alice@localhost", "alice's passphrase");
  const marionettePort = await freePort();
  createProfile(path.join(root, "profile"), path.join(ROOT, "dist", "bitmask-mail.xpi"), marionettePort);
  xvfb = await startXvfb();
  thunderbird = await Thunderbird.start({ profile: path.join(root, "profile"), home, tmp: path.join(root, "tmp"), marionettePort, display: xvfb.display });
}, 120_000);

afterAll(async () => {
  await thunderbird?.kill();
  xvfb?.stop();
  await daemon?.stop();
  if (root) rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
});

function ocr(screenshot: string): string {
  const enlarged = path.join(root, "ocr.png");
  execFileSync("convert", [screenshot, "-colorspace", "Gray", "-resize", "200%", enlarged]);
  return spawnSync("tesseract", [enlarged, "-", "--psm", "11"], { encoding: "utf8" }).stdout;
}

/** The mean brightness of the page area (0 black .. 1 white). */
function brightness(screenshot: string): number {
  return Number(execFileSync("convert", [screenshot, "-crop", "600x300+400+300", "-colorspace", "Gray", "-format", "%[fx:mean]", "info:"], { encoding: "utf8" }));
}

describe.skipIf(skipReason)("the add-on's pages, light and dark", () => {
  it("renders the popup and the setup page in both appearances (screenshots kept)", async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const shown: Record<string, number> = {};
    // The windows the add-on opened by itself (the unlock offer for bob) would cover the tabs.
    await waitFor("the add-on's own unlock window", 30_000, async () => (await thunderbird!.closeAddonWindows("/setup.html")) > 0);
    await thunderbird!.closeAddonWindows("/popup.html");
    for (const page of ["popup", "setup"] as const) {
      await thunderbird!.openAddonPage(`${page}.html`);
      await waitFor(`${page}.html to render`, 30_000, () =>
        thunderbird!.inExtensionPage<boolean>(`/${page}.html`, page === "popup" ? `return doc.querySelectorAll("section.account").length === 1;` : `return doc.querySelectorAll("#locked-forms form").length === 1;`),
      );
      for (const scheme of ["light", "dark"] as const) {
        // The system's appearance, which Thunderbird and its pages follow: 1 dark, 0 light.
        await thunderbird!.marionette.evaluate(`Services.prefs.setIntPref("ui.systemUsesDarkTheme", args[0]);`, [scheme === "dark" ? 1 : 0]);
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const screenshot = path.join(ARTIFACTS, `${page}-${scheme}.png`);
        execFileSync("import", ["-display", xvfb!.display, "-window", "root", screenshot]);
        const text = ocr(screenshot);
        expect(text, `${page} ${scheme}`).toContain(page === "popup" ? "alice@localhost" : "Unlock");
        shown[`${page}-${scheme}`] = brightness(screenshot);
      }
      expect(shown[`${page}-dark`]!).toBeLessThan(shown[`${page}-light`]!);
    }
  }, 180_000);
});
