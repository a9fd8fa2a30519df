// Bundles the web reader's pages (native-host/web/pages) with esbuild into a
// folder the daemon serves: app.js (the browser code), index.html and
// style.css as they are. scripts/build.mjs puts them in dist/web; tests
// build their own copy.
import path from "node:path";
import { build } from "esbuild";

const ROOT = path.resolve(import.meta.dirname, "..");
const PAGES = "native-host/web/pages";

export async function buildWebPages(outdir) {
  await build({
    entryPoints: [`${PAGES}/app.ts`, `${PAGES}/index.html`, `${PAGES}/style.css`],
    absWorkingDir: ROOT,
    outdir,
    bundle: true,
    platform: "browser",
    target: "chrome120",
    format: "iife",
    loader: { ".html": "copy" },
    logLevel: "warning",
  });
}
