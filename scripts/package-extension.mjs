// Builds the Thunderbird add-on into dist/extension/ and packs it as
// dist/bitmask-mail.xpi, then lints it (see lintExtension for what fails).
// Run by `npm run package` (scripts/build.mjs --package).
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { deflateRawSync } from "node:zlib";
import { build } from "esbuild";

const root = path.resolve(import.meta.dirname, "..");
const OUT_DIR = path.join(root, "dist", "extension");
const XPI_PATH = path.join(root, "dist", "bitmask-mail.xpi");

/** Files copied as they are: the manifest (top level of the repository, as
 * docs/DESIGN.md's layout fixes) and the pages' static parts. */
const STATIC_FILES = [
  ["manifest.json", "manifest.json"],
  ["extension/popup.html", "popup.html"],
  ["extension/setup.html", "setup.html"],
  ["extension/style.css", "style.css"],
  ["extension/icon.svg", "icon.svg"],
  ["extension/experiment/schema.json", "experiment/schema.json"],
];

/** Builds into `outDir` and packs `xpiPath` (tests pass their own, so a
 * parallel build cannot race them). */
export async function buildExtension({ outDir = OUT_DIR, xpiPath = XPI_PATH } = {}) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(path.join(outDir, "experiment"), { recursive: true });
  const common = { bundle: true, format: "iife", target: "firefox128", logLevel: "warning", legalComments: "none" };
  // Pages and background: browser code, with zod and the polyfill bundled in.
  await build({
    ...common,
    entryPoints: {
      background: "extension/background.ts",
      popup: "extension/popup.ts",
      setup: "extension/setup.ts",
    },
    outdir: outDir,
    absWorkingDir: root,
  });
  // The experiment runs privileged in the parent process, with no imports.
  await build({ ...common, entryPoints: ["extension/experiment/implementation.ts"], outfile: path.join(outDir, "experiment/implementation.js"), absWorkingDir: root });
  for (const [from, to] of STATIC_FILES) copyFileSync(path.join(root, from), path.join(outDir, to));
  writeFileSync(xpiPath, zip(listFiles(outDir).map((file) => [path.relative(outDir, file), readFileSync(file)])));
  return xpiPath;
}

function listFiles(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const full = path.join(dir, name);
      return statSync(full).isDirectory() ? listFiles(full) : [full];
    });
}

// --- A minimal ZIP writer (deflate, no extra fields): an .xpi is a ZIP, and
// this keeps packaging free of a zip binary on the build machine.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function zip(entries) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name.split(path.sep).join("/"), "utf8");
    const compressed = deflateRawSync(data);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(0, 10); // time and date: fixed, so builds are reproducible
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(0, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, compressed);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + compressed.length;
  }
  const centralSize = centrals.reduce((sum, part) => sum + part.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

/**
 * `web-ext lint` checks Firefox's rules, and an add-on with an Experiment
 * API always fails them (experiments are not allowed on addons.mozilla.org,
 * and Thunderbird-only manifest keys and APIs are unknown to it). Those
 * findings are expected and dropped; everything else that is an error
 * (JavaScript syntax, a malformed manifest, a missing file, a bad JSON
 * schema) fails the build.
 */
function isExpectedForThunderbird(message) {
  // The one finding every experiment add-on gets: `experiment_apis` is a
  // privileged field for Firefox; Thunderbird allows it in any add-on.
  return message.code === "MANIFEST_FIELD_PRIVILEGED" && message.instancePath === "/experiment_apis";
}

export async function lintExtension(outDir = OUT_DIR) {
  const webExt = path.join(root, "node_modules", ".bin", "web-ext");
  const run = await promisify(execFile)(webExt, ["lint", "--source-dir", outDir, "--output", "json", "--no-config-discovery"], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error) => error); // web-ext exits non-zero whenever it reports errors
  let report;
  try {
    report = JSON.parse(run.stdout);
  } catch {
    throw new Error(`web-ext lint gave no JSON report:\n${run.stdout ?? ""}\n${run.stderr ?? ""}`);
  }
  const real = report.errors.filter((message) => !isExpectedForThunderbird(message));
  return { real, dropped: report.errors.length - real.length, warnings: report.warnings.length };
}

/** Builds the .xpi and lints it; throws when the lint finds a real error. */
export async function packageExtension() {
  const xpi = await buildExtension();
  const lint = await lintExtension();
  for (const message of lint.real) console.error(`lint error ${message.code}: ${message.message} (${message.file ?? "manifest.json"})`);
  if (lint.real.length > 0) throw new Error(`the add-on has ${lint.real.length} lint error(s)`);
  console.log(`${path.relative(root, xpi)} built; lint: no real errors (${lint.dropped} expected for an experiment add-on, ${lint.warnings} warnings)`);
  return xpi;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) await packageExtension();
