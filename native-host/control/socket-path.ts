// Where the control socket lives: in the data folder (mode 0700), so one
// daemon serves one data folder, and only its owner can reach it.
import path from "node:path";

export const CONTROL_SOCKET_NAME = "bitmaskd.sock";

/** Unix socket paths are limited to 107 bytes on Linux (sun_path). */
const MAX_SOCKET_PATH_BYTES = 107;

export function controlSocketPath(dataDir: string): string {
  const socketPath = path.resolve(dataDir, CONTROL_SOCKET_NAME);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`control socket path too long for a Unix socket (${socketPath}); use a shorter --data-dir`);
  }
  return socketPath;
}
