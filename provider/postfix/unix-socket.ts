// Listening on a Unix socket that Postfix connects to: a stale socket file
// from an earlier run is replaced, and the socket is open to its owner and
// Postfix's group only (a local user able to write LMTP could claim any
// sender address and SPF result).
import { chmod, chown, rm } from "node:fs/promises";
import type { Server } from "node:net";
import { once } from "node:events";

export async function listenOnUnixSocket(server: Server, path: string, groupId: number | undefined): Promise<void> {
  await rm(path, { force: true });
  server.listen(path);
  await Promise.race([once(server, "listening"), once(server, "error").then(([error]) => Promise.reject(error as Error))]);
  await chmod(path, 0o660);
  if (groupId !== undefined) await chown(path, -1, groupId);
}
