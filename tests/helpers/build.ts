// Bundles programs for tests that run them as processes, the way
// scripts/build.mjs does: inside the repository so the bundles find
// node_modules, in a folder of their own so parallel test files and a
// concurrent `npm run build` never race.
import path from "node:path";
import { build } from "esbuild";

export const ROOT = path.resolve(import.meta.dirname, "../..");

/** `dist/test-<name>-<pid>`: one folder per test file and process. */
export function testBuildDir(name: string): string {
  return path.join(ROOT, "dist", `test-${name}-${process.pid}`);
}

export async function buildPrograms(outdir: string, entryPoints: Record<string, string>): Promise<void> {
  await build({
    entryPoints,
    absWorkingDir: ROOT,
    outdir,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    packages: "external",
    logLevel: "warning",
  });
}

/** The web reader's pages, bundled as scripts/build.mjs does, into `outdir`. */
export async function buildWebPages(outdir: string): Promise<void> {
  // @ts-expect-error: a plain .mjs script without types
  const pages = (await import("../../scripts/web-pages.mjs")) as { buildWebPages(outdir: string): Promise<void> };
  await pages.buildWebPages(outdir);
}
