// The local IMAP server: loopback only, one ImapSession per connection.
import net from "node:net";
import { DEFAULT_TIMEOUTS, type ImapHooks, ImapSession, type SessionTimeouts } from "./session";

export const DEFAULT_IMAP_PORT = 1984;

export type ImapServerOptions = { host?: string; port?: number };

export class ImapServer {
  private readonly server: net.Server;
  private readonly sessions = new Set<net.Socket>();

  constructor(
    private readonly hooks: ImapHooks,
    private readonly timeouts: SessionTimeouts = DEFAULT_TIMEOUTS,
  ) {
    this.server = net.createServer((socket) => {
      socket.setNoDelay(true);
      this.sessions.add(socket);
      socket.on("close", () => this.sessions.delete(socket));
      new ImapSession(socket, this.hooks, this.timeouts);
    });
  }

  /** Listens on 127.0.0.1 (never another interface); port 0 picks a free port. */
  listen(options: ImapServerOptions = {}): Promise<net.AddressInfo> {
    const host = options.host ?? "127.0.0.1";
    if (!["127.0.0.1", "::1", "localhost"].includes(host)) throw new Error(`IMAP listens on loopback only, not ${host}`);
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen({ host, port: options.port ?? DEFAULT_IMAP_PORT }, () => {
        this.server.off("error", reject);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sessions) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
