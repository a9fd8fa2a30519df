// `npm run package`: the .xpi is a well-formed ZIP holding what the manifest
// names, and its lint passes the add-on as it is but fails a real error
// (broken JavaScript, a broken manifest) while dropping the findings every
// experiment add-on gets from Firefox's rules.
import { spawnSync } from "node:child_process";
import { appendFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADDON_ID } from "../../shared/native-messaging";

const ROOT = path.resolve(import.meta.dirname, "../..");
const WORK_DIR = path.join(ROOT, "dist", `test-package-${process.pid}`);
const OUT_DIR = path.join(WORK_DIR, "extension");
const XPI = path.join(WORK_DIR, "bitmask-mail.xpi");

type LintMessage = { code: string; message: string; file?: string };
type Packager = {
  buildExtension(options: { outDir: string; xpiPath: string }): Promise<string>;
  lintExtension(outDir: string): Promise<{ real: LintMessage[]; dropped: number }>;
};
// A plain .mjs script: imported by path, typed here.
const packagerPath = path.join(ROOT, "scripts", "package-extension.mjs");
const { buildExtension, lintExtension } = (await import(packagerPath)) as Packager;

beforeAll(() => buildExtension({ outDir: OUT_DIR, xpiPath: XPI }), 60_000);
afterAll(() => rmSync(WORK_DIR, { recursive: true, force: true }));

describe("the packaged add-on", () => {
  it("is a ZIP with the manifest, background, pages and experiment", () => {
    const listing = spawnSync("python3", ["-m", "zipfile", "-l", XPI], { encoding: "utf8" });
    expect(listing.status, listing.stderr).toBe(0);
    for (const file of ["manifest.json", "background.js", "popup.html", "popup.js", "setup.html", "setup.js", "experiment/schema.json", "experiment/implementation.js"]) {
      expect(listing.stdout).toContain(file);
    }
    expect(spawnSync("python3", ["-m", "zipfile", "-t", XPI]).status).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(OUT_DIR, "manifest.json"), "utf8")) as {
      browser_specific_settings: { gecko: { id: string } };
    };
    // One id everywhere: the host manifest's allowed_extensions is made from manifest.json.
    expect(manifest.browser_specific_settings.gecko.id).toBe(ADDON_ID);
  });

  it("lints clean, and the lint catches real errors", async () => {
    const clean = await lintExtension(OUT_DIR);
    expect(clean.real).toEqual([]);
    expect(clean.dropped).toBeGreaterThan(0);

    appendFileSync(path.join(OUT_DIR, "popup.js"), "\nfunction broken( {\n");
    const syntax = await lintExtension(OUT_DIR);
    expect(syntax.real.map((message) => message.code)).toContain("JS_SYNTAX_ERROR");

    const manifestPath = path.join(OUT_DIR, "manifest.json");
    writeFileSync(manifestPath, readFileSync(manifestPath, "utf8").replace('"manifest_version": 3', '"manifest_version": "three"'));
    const manifest = await lintExtension(OUT_DIR);
    expect(manifest.real.some((message) => message.file === "manifest.json")).toBe(true);
  }, 60_000);
});
