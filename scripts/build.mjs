// Bundles the Node programs with esbuild into dist/. Native and optional
// modules stay external and load from node_modules at run time.
import { build } from "esbuild";

const programs = {
  bitmaskd: "native-host/daemon/main.ts",
  "bitmask-provider": "provider/main.ts",
  bitmaskctl: "native-host/cli/main.ts",
  "native-host": "native-host/native/main.ts",
  "bitmask-local": "native-host/daemon/local-main.ts",
  bench: "scripts/bench/main.ts",
};

// `node scripts/build.mjs [name...]` builds the named programs, or all of them.
const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
for (const name of wanted) if (!(name in programs)) throw new Error(`unknown program ${name}`);
const entryPoints = wanted.length ? Object.fromEntries(wanted.map((name) => [name, programs[name]])) : programs;

await build({
  entryPoints,
  outdir: "dist",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  packages: "external",
  logLevel: "warning",
  banner: { js: "#!/usr/bin/env node" },
});

// The daemons serve the web reader's pages from dist/web.
if (wanted.length === 0 || wanted.some((name) => ["bitmaskd", "bitmask-local"].includes(name))) {
  await (await import("./web-pages.mjs")).buildWebPages("dist/web");
}

// `--package` also builds the Thunderbird add-on (dist/bitmask-mail.xpi) and lints it.
if (process.argv.includes("--package")) await (await import("./package-extension.mjs")).packageExtension();
