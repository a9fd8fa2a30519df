// Where accounts live: <data dir>/accounts/<address>/ holding the secrets
// file and the encrypted store.
import os from "node:os";
import path from "node:path";

export function defaultDataDir(): string {
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), ".local", "share");
  return path.join(base, "bitmask-mail");
}

const ADDRESS = /^[^\s@/\\]+@[^\s@/\\]+$/;

export function accountDir(dataDir: string, address: string): string {
  if (!ADDRESS.test(address) || address.includes("..")) throw new Error(`not a usable mail address: ${address}`);
  return path.join(dataDir, "accounts", address.toLowerCase());
}
