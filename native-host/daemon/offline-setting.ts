// Whether the user keeps this device's daemon offline: one small file in the
// data folder (not an account's store: it holds for every account, and is
// known before any is unlocked), so the choice survives a restart.
import { existsSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

const OFFLINE_FILE = "offline";

export function readOfflineSetting(dataDir: string): boolean {
  return existsSync(path.join(dataDir, OFFLINE_FILE));
}

export function writeOfflineSetting(dataDir: string, offline: boolean): void {
  const file = path.join(dataDir, OFFLINE_FILE);
  if (offline) writeFileSync(file, "the user took bitmaskd offline (bitmaskctl offline off undoes it)\n", { mode: 0o600 });
  else rmSync(file, { force: true });
}
