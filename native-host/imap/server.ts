// The local IMAP server: loopback only, one ImapSession per connection.
// Connections waiting to log in have a small budget of their own (a new one
// past it drops the oldest), and logged-in sessions a cap per account, so
// idle connections from another local process cannot lock the user out or
// use up the daemon's file descriptors.
import net from "node:net";
import type { Account } from "../mail/account";
import { CommandFailure } from "./command";
import { MAX_SESSIONS_PER_ACCOUNT, MAX_UNAUTHENTICATED_CONNECTIONS } from "./limits";
import { DEFAULT_TIMEOUTS, type ImapHooks, ImapSession, type SessionTimeouts } from "./session";

export const DEFAULT_IMAP_PORT = 1984;

export type ImapServerOptions = { host?: string; port?: number };

type Connection = { socket: net.Socket; account: Account | null };

export class ImapServer {
  private readonly server: net.Server;
  /** In order of arrival, so the first one not logged in is the oldest. */
  private readonly connections = new Set<Connection>();
  private waiting = 0;
  private readonly sessionsPerAccount = new Map<Account, number>();

  constructor(
    private readonly hooks: ImapHooks,
    private readonly timeouts: SessionTimeouts = DEFAULT_TIMEOUTS,
  ) {
    this.server = net.createServer((socket) => {
      socket.setNoDelay(true);
      const connection: Connection = { socket, account: null };
      this.connections.add(connection);
      this.waiting++;
      socket.on("close", () => this.forget(connection));
      if (this.waiting > MAX_UNAUTHENTICATED_CONNECTIONS) this.dropOldestWaiting();
      new ImapSession(socket, this.hooksFor(connection), this.timeouts);
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
    for (const { socket } of this.connections) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The embedder's hooks, with a login that takes the connection out of the
   * waiting budget and counts it against its account's cap. */
  private hooksFor(connection: Connection): ImapHooks {
    return {
      ...this.hooks,
      authenticate: async (username, password) => {
        const account = await this.hooks.authenticate(username, password);
        if (!account || account === "locked" || !this.connections.has(connection)) return account;
        const sessions = this.sessionsPerAccount.get(account) ?? 0;
        if (sessions >= MAX_SESSIONS_PER_ACCOUNT) throw new CommandFailure(`${username} has ${sessions} sessions open already`, "LIMIT");
        this.sessionsPerAccount.set(account, sessions + 1);
        connection.account = account;
        this.waiting--;
        return account;
      },
    };
  }

  private dropOldestWaiting(): void {
    for (const connection of this.connections) {
      if (connection.account) continue;
      connection.socket.write("* BYE too many connections waiting to log in\r\n");
      connection.socket.destroySoon();
      this.forget(connection);
      return;
    }
  }

  private forget(connection: Connection): void {
    if (!this.connections.delete(connection)) return;
    if (!connection.account) {
      this.waiting--;
      return;
    }
    const sessions = this.sessionsPerAccount.get(connection.account)! - 1;
    if (sessions === 0) this.sessionsPerAccount.delete(connection.account);
    else this.sessionsPerAccount.set(connection.account, sessions);
  }
}
