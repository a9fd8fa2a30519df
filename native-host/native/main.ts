// The native host Thunderbird starts for the add-on (registered as
// `bitmask_mail` by scripts/register-host.mjs). Thunderbird passes the host
// manifest's path and the add-on id as arguments; neither is needed here.
// It finds bitmaskd by its control socket in the default data folder and
// starts it (locked: the add-on's setup page logs in) when nothing answers.
import { spawn } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { ControlClient, DaemonNotRunningError } from "../control/client";
import { controlSocketPath } from "../control/socket-path";
import { defaultDataDir } from "../daemon/account-folder";
import { runBridge } from "./bridge";
import { DAEMON_START_TIMEOUT_MS } from "./limits";

const dataDir = defaultDataDir();
const socketPath = controlSocketPath(dataDir);
/** bitmaskd.js is built beside this file in dist/. */
const daemonScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "bitmaskd.js");

async function connectOrStartDaemon(): Promise<ControlClient> {
  try {
    return await ControlClient.connect(socketPath);
  } catch (error) {
    if (!(error instanceof DaemonNotRunningError)) throw error;
  }
  // Detached, in its own session, with no stdio: the daemon outlives this
  // bridge and Thunderbird, and nothing it prints lands in a file.
  const child = spawn(process.execPath, [daemonScript, "--data-dir", dataDir], { detached: true, stdio: "ignore" });
  let exitCode: number | null = null;
  child.once("exit", (code) => (exitCode = code));
  child.unref();
  const deadline = Date.now() + DAEMON_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exitCode !== null) throw new Error(`bitmaskd exited with code ${exitCode} (3: a port is taken; run it by hand to see why)`);
    try {
      return await ControlClient.connect(socketPath);
    } catch (error) {
      if (!(error instanceof DaemonNotRunningError)) throw error;
    }
    await sleep(100);
  }
  throw new Error(`bitmaskd did not start within ${DAEMON_START_TIMEOUT_MS / 1000} s`);
}

await runBridge({
  input: process.stdin,
  output: process.stdout,
  connectDaemon: connectOrStartDaemon,
  log: (message) => process.stderr.write(`${message}\n`),
});
// Let the last frames reach Thunderbird before leaving.
process.stdout.end(() => process.exit(0));
