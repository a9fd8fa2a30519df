// Wiring of the user's daemon: one process per user (one per data folder,
// held by the control socket) serving every unlocked account over one local
// IMAP listener (and the SMTP gateway), with per-account services (sync,
// incoming, keys) plugged in through services.ts.
import { EventEmitter } from "node:events";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { AccountStatus, ControlEvent, DaemonStatus, SyncStatus } from "../../shared/control-api";
import { CONTROL_PROTOCOL_VERSION } from "../../shared/control-api";
import { DocumentCipher } from "../../shared/crypto/document-cipher";
import { MailTokens } from "../auth/mail-token";
import { ControlServer } from "../control/server";
import { controlSocketPath } from "../control/socket-path";
import { ImapServer, DEFAULT_IMAP_PORT } from "../imap/server";
import type { SessionEvent } from "../imap/session";
import { FAILED_LOGIN_DELAY_MS } from "../limits";
import { Account } from "../mail/account";
import { DEFAULT_SMTP_PORT } from "../smtp/gateway";
import {
  AccountExistsError,
  accountStoreExists,
  changePassphrase,
  createAccountStore,
  NoAccountError,
  STORE_FILE,
  unlockSecret,
} from "../store/account-store";
import { DocumentStore } from "../store/document-store";
import { newStorageSecret, unwrapSecret } from "../store/secrets";
import { updateSettings } from "../store/settings";
import type { OwnKeyAlgorithm } from "../keys/keymanager";
import { type ProviderEndpoint, srpSecretFor } from "../sync/provider-client";
import { logInAtProvider, readProviderLink, sessionFor, signUpAtProvider, writeProviderLink } from "../sync/provider-link";
import { accountDir } from "./account-folder";
import { controlHandlers } from "./control-handlers";
import { watchMailChanges } from "./mail-changes";
import { WebServer } from "../web/server";
import type { AccountContext, AccountService, DaemonServices, ListeningService } from "./services";


/** Recent problems kept per account for `mail errors`; older ones drop off. */
const MAX_KEPT_ERRORS = 100;

export type DaemonOptions = {
  dataDir: string;
  /** 127.0.0.1 port for IMAP; 0 picks a free one. Default 1984. */
  imapPort?: number;
  /** Default 2013; only used when services.smtp is given. */
  smtpPort?: number;
  /** The control socket; default `<dataDir>/bitmaskd.sock`, null for none. */
  socketPath?: string | null;
  services?: DaemonServices;
  /** The web reader on 127.0.0.1 (port 0: any free one); none when left out. */
  web?: { port: number; pagesDir: string };
  log: Logger;
};

export class PortInUseError extends Error {
  constructor(
    readonly service: string,
    readonly port: number,
  ) {
    super(`${service} port ${port} on 127.0.0.1 is already in use (is another bitmaskd running?)`);
    this.name = "PortInUseError";
  }
}

export class WebReaderOffError extends Error {
  constructor() {
    super("the web reader is not running in this daemon (turned off, or its port was taken: see its log)");
    this.name = "WebReaderOffError";
  }
}

export class AccountLockedError extends Error {
  constructor(readonly address: string) {
    super(`the account ${address} is locked: log in with its passphrase first`);
    this.name = "AccountLockedError";
  }
}

export class NoSuchAccountError extends Error {
  constructor(address: string | undefined, unlocked: number) {
    super(
      address
        ? `no account ${address}`
        : unlocked === 0
          ? "no unlocked account: create one or log in"
          : "several accounts are unlocked: name one with its address",
    );
    this.name = "NoSuchAccountError";
  }
}

/** One unlocked account and what runs for it. */
export class UnlockedAccount {
  readonly errors: AccountStatus["errors"] = [];
  readonly services: AccountService[] = [];
  readonly context: AccountContext;
  private statusTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly address: string,
    readonly dir: string,
    readonly store: DocumentStore,
    cipher: DocumentCipher,
    private readonly daemon: Daemon,
    log: Logger,
  ) {
    const mail = Account.open(store);
    this.context = {
      address,
      dir,
      store,
      cipher,
      mail,
      tokens: new MailTokens(store),
      log: log.child({ account: address }),
      reportError: (source, message) => {
        this.errors.push({ at: Date.now(), source, message });
        if (this.errors.length > MAX_KEPT_ERRORS) this.errors.splice(0, this.errors.length - MAX_KEPT_ERRORS);
        this.context.log.warn({ source }, message);
        this.statusChanged();
      },
      statusChanged: () => this.statusChanged(),
      isOffline: () => daemon.offline,
    };
    const inbox = mail.requireMailbox("INBOX");
    for (const name of ["new", "changed", "expunged"] as const) inbox.events.on(name, () => this.statusChanged());
    watchMailChanges(address, mail, (event) => daemon.emitEvent(event));
  }

  get tokens(): MailTokens {
    return this.context.tokens;
  }

  get mail(): Account {
    return this.context.mail;
  }

  get sync(): AccountService["sync"] {
    return this.services.find((service) => service.sync)?.sync;
  }

  get keys(): AccountService["keys"] {
    return this.services.find((service) => service.keys)?.keys;
  }

  get sender(): AccountService["sender"] {
    return this.services.find((service) => service.sender)?.sender;
  }

  status(): AccountStatus {
    const sync: SyncStatus = this.sync?.status() ?? { state: "off", progress: null, lastSyncedAt: null };
    return {
      address: this.address,
      imap: { host: "127.0.0.1", port: this.daemon.imapPort },
      smtp: this.daemon.smtpPort === null ? null : { host: "127.0.0.1", port: this.daemon.smtpPort },
      sync: this.daemon.offline && sync.state !== "off" ? { ...sync, state: "offline" } : sync,
      keyFingerprint: this.keys?.ownFingerprint() ?? null,
      unread: this.mail.requireMailbox("INBOX").counts().unseen,
      errors: [...this.errors],
    };
  }

  /** Many changes in a burst (a sync storing hundreds of messages) make one event. */
  private statusChanged(): void {
    if (this.statusTimer) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = null;
      this.daemon.emitEvent({ event: "status-changed", address: this.address });
    }, 200);
    this.statusTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.statusTimer) clearTimeout(this.statusTimer);
    // Services stop in reverse order of start: incoming before sync, say.
    for (const service of [...this.services].reverse()) await service.stop();
    this.store.close();
  }
}

export type DaemonEvents = {
  /** Every control event, also for in-process users (tests). */
  control: [ControlEvent];
  /** Every IMAP session event (logins, selects, errors; never content). */
  imap: [SessionEvent];
  /** `bitmaskctl stop`: whoever runs the daemon stops it, as on SIGTERM. */
  "stop-requested": [];
};

export class Daemon {
  readonly events = new EventEmitter<DaemonEvents>();
  readonly accounts = new Map<string, UnlockedAccount>();
  offline = false;
  imapPort = 0;
  smtpPort: number | null = null;
  private readonly imap: ImapServer;
  private smtp: ListeningService | null = null;
  private control: ControlServer | null = null;
  private web: WebServer | null = null;

  private constructor(readonly options: DaemonOptions) {
    this.imap = new ImapServer({
      authenticate: async (username, password) => {
        const context = await this.authenticate(username, password);
        return context === "locked" ? context : (context?.mail ?? null);
      },
      onEvent: (event) => {
        logSessionEvent(options.log, event);
        this.events.emit("imap", event);
      },
    });
  }

  static async start(options: DaemonOptions): Promise<Daemon> {
    const daemon = new Daemon(options);
    try {
      await daemon.listen();
    } catch (error) {
      await daemon.stop();
      throw error;
    }
    return daemon;
  }

  get controlSocketPath(): string | null {
    return this.control?.socketPath ?? null;
  }

  /** The control socket first: it is what makes this the user's only daemon. */
  private async listen(): Promise<void> {
    const { options } = this;
    const socketPath = options.socketPath === undefined ? controlSocketPath(options.dataDir) : options.socketPath;
    if (socketPath !== null) {
      this.control = await ControlServer.listen({
        socketPath,
        handlers: controlHandlers(this),
        onError: (method, error) => options.log.info({ method, error: (error as Error).message }, "control request failed"),
      });
    }
    const imapPort = options.imapPort ?? DEFAULT_IMAP_PORT;
    this.imapPort = await listenOrExplain("IMAP", imapPort, async () => (await this.imap.listen({ port: imapPort })).port);
    if (options.services?.smtp) {
      const smtpPort = options.smtpPort ?? DEFAULT_SMTP_PORT;
      const startSmtp = options.services.smtp;
      this.smtp = await listenOrExplain("SMTP", smtpPort, () =>
        startSmtp({
          port: smtpPort,
          authenticate: async (username, password) => {
            const context = await this.authenticate(username, password);
            return context && context !== "locked" ? (this.accounts.get(context.address)?.sender ?? null) : null;
          },
          log: options.log.child({ service: "smtp" }),
        }),
      );
      this.smtpPort = this.smtp.port;
    }
    if (options.web) {
      const { port, pagesDir } = options.web;
      this.web = await listenOrWarn(options.log, "web reader", port, () =>
        WebServer.listen({
          port,
          pagesDir,
          handlers: controlHandlers(this),
          subscribe: (listener) => {
            this.events.on("control", listener);
            return () => this.events.off("control", listener);
          },
        }),
      );
    }
  }

  /** The web reader's address, or null when it does not run. */
  get webOrigin(): string | null {
    return this.web?.origin ?? null;
  }

  /** A one-time log-in link to the web reader for an unlocked account. */
  webLoginLink(address?: string): { address: string; url: string } {
    if (!this.web) throw new WebReaderOffError();
    const account = this.account(address);
    return { address: account.address, url: this.web.loginLink(account.address) };
  }

  /** Both local servers log in through here: the named account must be
   * unlocked and the token its own. Unknown names wait as long as a wrong
   * token does, so a guess learns nothing from timing. An account on disk
   * that waits for its passphrase is "locked": its client is told so. */
  async authenticate(username: string, password: string): Promise<AccountContext | "locked" | null> {
    const account = this.accounts.get(username.toLowerCase());
    if (!account) {
      await sleep(FAILED_LOGIN_DELAY_MS);
      return this.knownAddresses().includes(username.toLowerCase()) ? "locked" : null;
    }
    return (await account.tokens.verify(password)) ? account.context : null;
  }

  emitEvent(event: ControlEvent): void {
    this.control?.broadcast(event);
    this.events.emit("control", event);
  }

  /** Accounts on disk under the data folder, unlocked or not. */
  knownAddresses(): string[] {
    const root = path.join(this.options.dataDir, "accounts");
    if (!existsSync(root)) return [];
    return readdirSync(root).filter((name) => accountStoreExists(path.join(root, name)));
  }

  /** The named account, or the only unlocked one when no name is given. */
  account(address?: string): UnlockedAccount {
    if (address) {
      const account = this.accounts.get(address.toLowerCase());
      if (account) return account;
      if (this.knownAddresses().includes(address.toLowerCase())) throw new AccountLockedError(address);
      throw new NoSuchAccountError(address, this.accounts.size);
    }
    if (this.accounts.size === 1) return [...this.accounts.values()][0]!;
    throw new NoSuchAccountError(undefined, this.accounts.size);
  }

  /** Creates the account's store (with a provider: signs up there first,
   * so a refused sign-up leaves nothing behind), then serves it. */
  async createAccount(address: string, passphrase: string, provider?: ProviderEndpoint, keyAlgorithm?: OwnKeyAlgorithm): Promise<UnlockedAccount> {
    const dir = accountDir(this.options.dataDir, address);
    if (accountStoreExists(dir)) throw new AccountExistsError(dir);
    const link = provider ? await signUpAtProvider(provider, address, passphrase) : null;
    const secret = newStorageSecret();
    const store = await createAccountStore(dir, passphrase, secret);
    if (link) writeProviderLink(store, link);
    if (keyAlgorithm) updateSettings(store, { keyAlgorithm });
    return this.serve(address, dir, store, secret);
  }

  /** Unlocks an account with its passphrase, then serves it. An account not
   * on this device is fetched from `provider`: log in there, take the
   * storage secret from the secrets blob; the first sync brings the rest. */
  async unlockAccount(address: string, passphrase: string, provider?: ProviderEndpoint): Promise<UnlockedAccount> {
    const dir = accountDir(this.options.dataDir, address);
    const existing = this.accounts.get(address.toLowerCase());
    if (existing) {
      // Already served; the passphrase must still be right (a log-in is a check).
      await unlockSecret(dir, passphrase);
      return existing;
    }
    if (!accountStoreExists(dir) && provider) {
      const { link, secretsBlob } = await logInAtProvider(provider, address, passphrase);
      const secret = secretsBlob === null ? newStorageSecret() : await unwrapSecret(JSON.parse(secretsBlob), passphrase);
      const store = await createAccountStore(dir, passphrase, secret);
      writeProviderLink(store, link);
      return this.serve(address, dir, store, secret);
    }
    if (!accountStoreExists(dir)) throw new NoAccountError(dir);
    const secret = await unlockSecret(dir, passphrase);
    return this.serve(address, dir, await DocumentStore.open(path.join(dir, STORE_FILE), secret), secret);
  }

  /** Re-wraps the storage secret under a new passphrase (a wrong old one
   * changes nothing). An account at a provider gives the provider its new
   * SRP verifier and blob first, so a second device logs in with the new
   * passphrase, and keeps the new SRP secret for its own log-ins. */
  async changePassphrase(address: string, passphrase: string, newPassphrase: string): Promise<void> {
    const dir = accountDir(this.options.dataDir, address);
    await changePassphrase(dir, passphrase, newPassphrase, async (secret, wrapped) => {
      const served = this.accounts.get(address.toLowerCase());
      const store = served?.store ?? (await DocumentStore.open(path.join(dir, STORE_FILE), secret));
      try {
        const link = readProviderLink(store);
        if (!link) return;
        const srpSecret = await srpSecretFor(link.address, newPassphrase);
        await sessionFor(link).changePassphrase(srpSecret, JSON.stringify(wrapped));
        writeProviderLink(store, { ...link, srpSecret });
      } finally {
        if (!served) store.close();
      }
    });
  }

  private async serve(address: string, dir: string, store: DocumentStore, secret: Uint8Array): Promise<UnlockedAccount> {
    const normalized = address.toLowerCase();
    const account = new UnlockedAccount(normalized, dir, store, await DocumentCipher.create(secret), this, this.options.log);
    account.tokens.current();
    try {
      for (const factory of this.options.services?.perAccount ?? []) account.services.push(await factory(account.context));
    } catch (error) {
      await account.stop();
      throw error;
    }
    this.accounts.set(normalized, account);
    this.emitEvent({ event: "account-unlocked", address: normalized });
    return account;
  }

  /** A new token at once; clients that hold the old one (the add-on) are told. */
  rotateToken(address?: string): { address: string; token: string } {
    const account = this.account(address);
    const token = account.tokens.rotate();
    this.emitEvent({ event: "token-rotated", address: account.address });
    return { address: account.address, token };
  }

  setOffline(offline: boolean): void {
    this.offline = offline;
    for (const account of this.accounts.values()) {
      account.sync?.setOffline?.(offline);
      this.emitEvent({ event: "status-changed", address: account.address });
    }
  }

  status(): DaemonStatus {
    const unlocked = [...this.accounts.values()];
    return {
      protocol: CONTROL_PROTOCOL_VERSION,
      pid: process.pid,
      offline: this.offline,
      accounts: unlocked.map((account) => account.status()),
      locked: this.knownAddresses().filter((address) => !this.accounts.has(address)),
    };
  }

  /** After the current control reply is sent: the program running this
   * daemon stops it (and itself); with no such program, it stops itself. */
  requestStop(): void {
    setImmediate(() => {
      if (this.events.listenerCount("stop-requested") > 0) this.events.emit("stop-requested");
      else void this.stop();
    });
  }

  /** Graceful: stop taking requests and logins, then close each account
   * (its services, then its store) so nothing is left half-written. */
  async stop(): Promise<void> {
    await this.control?.close();
    this.control = null;
    await this.imap.close().catch(() => undefined);
    await this.smtp?.close();
    this.smtp = null;
    await this.web?.close();
    this.web = null;
    for (const account of this.accounts.values()) await account.stop();
    this.accounts.clear();
  }
}

/** For what mail does not need (the web reader): a taken port is a warning, not a failure. */
async function listenOrWarn<T>(log: Logger, service: string, port: number, listen: () => Promise<T>): Promise<T | null> {
  try {
    return await listen();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    log.warn(`${service} not started: port ${port} on 127.0.0.1 is already in use`);
    return null;
  }
}

async function listenOrExplain<T>(service: string, port: number, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") throw new PortInUseError(service, port);
    throw error;
  }
}

/** Session events as log lines: who logged in and what they selected, never content. */
function logSessionEvent(log: Logger, event: SessionEvent): void {
  if (event.type === "login") log.info({ session: event.session, user: event.username, method: event.method }, "imap login");
  else if (event.type === "login-failed") log.warn({ session: event.session, user: event.username }, "imap login failed");
  else if (event.type === "login-locked") log.info({ session: event.session, user: event.username }, "imap login to a locked account");
  else if (event.type === "select") log.info({ session: event.session, mailbox: event.mailbox }, "imap select");
  else if (event.type === "error") log.error({ session: event.session, command: event.command, error: event.error }, "imap command failed");
}

/** The daemon in this process; see DaemonOptions. */
export function startDaemon(options: DaemonOptions): Promise<Daemon> {
  return Daemon.start(options);
}
