// External programs the integration tests run (mbsync, offlineimap, mutt...).
//
// The rule for a missing tool: under CI=true the test must fail, since CI
// installs every tool (scripts/ci-deps.sh) and a silent skip there would hide
// a broken setup; elsewhere the test may skip, saying why on the console.
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";

/** The absolute path of an executable found on PATH, or null. */
export function findOnPath(name: string): string | null {
  if (name.includes("/")) return isExecutable(name) ? name : null;
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export type ToolNeed = { name: string; /** What provides it, e.g. "apt-get install isync". */ install?: string };

/** Why the tools cannot run here, or null when they all can. */
export function toolsUnavailable(needs: readonly (ToolNeed | string)[]): string | null {
  const missing = needs
    .map((need) => (typeof need === "string" ? { name: need } : need))
    .filter((need) => findOnPath(need.name) === null)
    .map((need) => (need.install ? `${need.name} not found on PATH (${need.install})` : `${need.name} not found on PATH`));
  return missing.length > 0 ? missing.join("; ") : null;
}

/**
 * For tests that need external tools. Returns null when every tool is there.
 * When one is missing: under CI=true it throws (so the test file fails);
 * otherwise it prints the reason and returns it, for `describe.skipIf(reason)`.
 */
export function requireTool(needs: ToolNeed | string | readonly (ToolNeed | string)[], what = "test"): string | null {
  const list = Array.isArray(needs) ? (needs as readonly (ToolNeed | string)[]) : [needs as ToolNeed | string];
  const reason = toolsUnavailable(list);
  if (!reason) return null;
  if (process.env.CI === "true") throw new Error(`${what} needs a tool that is missing under CI=true: ${reason}`);
  console.warn(`Skipping ${what}: ${reason}`);
  return reason;
}

export type ToolRun = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number };

/**
 * Runs a program to completion without blocking the event loop (the IMAP
 * server it talks to runs in this process), killing it after `timeoutMs`.
 * Never rejects for a non-zero exit: callers check `code` and show output.
 */
export async function runTool(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number; input?: string },
): Promise<ToolRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const result = {
        code,
        signal,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        ms: Date.now() - started,
      };
      if (timedOut) {
        reject(new Error(`${command} ${args.join(" ")} timed out after ${options.timeoutMs} ms\n${describeRun(result)}`));
      } else resolve(result);
    });
    // A tool may exit without reading its input (gpg refusing an argument):
    // the closed pipe is not the error; its exit code and stderr tell what was.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}

/** A run's exit status and the tail of its output, for assertion messages. */
export function describeRun(run: ToolRun, tailChars = 6000): string {
  const tail = (text: string) => (text.length > tailChars ? `...${text.slice(-tailChars)}` : text);
  return `exit ${run.code ?? run.signal} after ${run.ms} ms\n--- stdout ---\n${tail(run.stdout)}\n--- stderr ---\n${tail(run.stderr)}`;
}

/** Throws with the tool's output unless it exited with 0. */
export function expectSuccess(run: ToolRun, what: string): ToolRun {
  if (run.code !== 0) throw new Error(`${what} failed: ${describeRun(run)}`);
  return run;
}
