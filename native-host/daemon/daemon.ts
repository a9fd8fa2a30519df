// Wiring of the user's daemon: the unlocked account store, the mail model,
// the mail token and the local servers. Later stages (sync, incoming, SMTP,
// control socket) are started here too, each behind its own small interface.
import type { Logger } from "pino";
import { tokenAuthenticator } from "../auth/authenticator";
import { MailTokens } from "../auth/mail-token";
import { ImapServer, DEFAULT_IMAP_PORT } from "../imap/server";
import type { SessionEvent } from "../imap/session";
import { Account } from "../mail/account";
import type { DocumentStore } from "../store/document-store";

export type DaemonOptions = {
  address: string;
  store: DocumentStore;
  imapPort?: number;
  log: Logger;
};

export type RunningDaemon = {
  account: Account;
  tokens: MailTokens;
  imapPort: number;
  stop(): Promise<void>;
};

export class PortInUseError extends Error {
  constructor(readonly service: string, readonly port: number) {
    super(`${service} port ${port} on 127.0.0.1 is already in use (is another bitmaskd running?)`);
    this.name = "PortInUseError";
  }
}

/** Session events as log lines: who logged in and what they selected, never content. */
function logSessionEvent(log: Logger, event: SessionEvent): void {
  if (event.type === "login") log.info({ session: event.session, user: event.username, method: event.method }, "imap login");
  else if (event.type === "login-failed") log.warn({ session: event.session, user: event.username }, "imap login failed");
  else if (event.type === "select") log.info({ session: event.session, mailbox: event.mailbox }, "imap select");
  else if (event.type === "error") log.error({ session: event.session, command: event.command, error: event.error }, "imap command failed");
}

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const account = Account.open(options.store);
  const tokens = new MailTokens(options.store);
  tokens.current();
  const imap = new ImapServer({
    authenticate: tokenAuthenticator(options.address, tokens, account),
    onEvent: (event) => logSessionEvent(options.log, event),
  });
  const requestedPort = options.imapPort ?? DEFAULT_IMAP_PORT;
  let imapPort: number;
  try {
    imapPort = (await imap.listen({ port: requestedPort })).port;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") throw new PortInUseError("IMAP", requestedPort);
    throw error;
  }
  return {
    account,
    tokens,
    imapPort,
    async stop() {
      await imap.close();
      options.store.close();
    },
  };
}
