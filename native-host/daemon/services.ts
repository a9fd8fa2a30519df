// The sockets where later stages plug into the daemon. Sync, incoming and
// the keymanager run per unlocked account; the SMTP gateway is one listener
// for all accounts, like IMAP. main.ts passes the factories it has; the
// daemon runs without any of them (status then says so: sync "off", no SMTP
// endpoint, no key fingerprint).
import type { Logger } from "pino";
import type { KeyListing, SyncStatus } from "../../shared/control-api";
import type { DocumentCipher } from "../../shared/crypto/document-cipher";
import type { MailTokens } from "../auth/mail-token";
import type { Account } from "../mail/account";
import type { Sender } from "../smtp/gateway";
import type { DocumentStore } from "../store/document-store";

/** What a per-account service is given when its account unlocks. */
export type AccountContext = {
  address: string;
  /** The account's folder (secrets file and store). */
  dir: string;
  store: DocumentStore;
  /** Seals and opens documents for sync (keys from the storage secret). */
  cipher: DocumentCipher;
  mail: Account;
  tokens: MailTokens;
  log: Logger;
  /** Shows a problem to the user (`bitmaskctl mail errors`, the popup). */
  reportError(source: string, message: string): void;
  /** Tells subscribers (the add-on's popup) to fetch the status again. */
  statusChanged(): void;
  /** True while the user keeps the daemon offline (`bitmaskctl offline on`). */
  isOffline(): boolean;
};

export type SyncControl = {
  status(): SyncStatus;
  /** One sync now; reports progress in documents as it goes (total null while unknown). */
  syncNow(onProgress: (done: number, total: number | null) => void): Promise<SyncStatus>;
  /** The user took the daemon offline, or back online. */
  setOffline?(offline: boolean): void;
};

export type KeysControl = {
  /** The account's own key's fingerprint; null while there is none yet. */
  ownFingerprint(): string | null;
  list(): Promise<KeyListing[]>;
  /** The armored public key of `address` (the own address when left out). */
  exportPublic(address?: string): Promise<string>;
  importPublic(armored: string): Promise<KeyListing>;
};

/** A running per-account service; the roles it takes are the optional members. */
export type AccountService = {
  name: string;
  sync?: SyncControl;
  keys?: KeysControl;
  /** What the SMTP gateway sends as, for this account. */
  sender?: Sender;
  stop(): Promise<void>;
};

export type AccountServiceFactory = (context: AccountContext) => Promise<AccountService>;

/** A login on the SMTP gateway: the sender of the unlocked account whose
 * address and token match, or null. */
export type GatewayAuthenticate = (username: string, password: string) => Promise<Sender | null>;

export type ListeningService = { port: number; close(): Promise<void> };

/** Starts the SMTP gateway on 127.0.0.1:`port` (0: any free port). An
 * EADDRINUSE from it becomes the daemon's clear "port taken" error. */
export type SmtpGatewayFactory = (options: {
  port: number;
  authenticate: GatewayAuthenticate;
  log: Logger;
}) => Promise<ListeningService>;

export type DaemonServices = {
  smtp?: SmtpGatewayFactory;
  perAccount?: AccountServiceFactory[];
};
