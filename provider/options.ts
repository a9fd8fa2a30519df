// What startProvider takes, with the defaults the CLI uses.
import type { Logger } from "pino";
import { MAX_PUSH_BYTES } from "../shared/provider-api";

/** Time and timers, injectable so tests can expire tokens and run retries
 * without waiting. */
export type Clock = {
  now(): number;
  setTimeout(callback: () => void, ms: number): NodeJS.Timeout;
  clearTimeout(timer: NodeJS.Timeout): void;
};

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer),
};

/** An SMTP server to hand mail to: a TCP address, or a Unix socket (Postfix
 * on the same host). */
export type Route = { host: string; port: number } | { socket: string };

/** Production mode: Postfix in front of the provider (provider/postfix). */
export type PostfixLink = {
  /** Unix socket where Postfix delivers mail for our domain over LMTP. */
  lmtpSocket: string;
  /** Unix socket of the recipient lookup Postfix asks at RCPT time (socketmap). */
  lookupSocket: string;
  /** Group given both sockets (Postfix's), which are not world-writable. */
  socketGroupId?: number;
  /** Where outgoing mail goes: Postfix's submission socket or port. */
  relay: Route;
  /** Signs outgoing mail for the domain; the selector's public key is in DNS. */
  dkim?: { selector: string; privateKey: string };
  /** DNS servers ("ip" or "ip:port") for SPF, DKIM and DMARC; the system's when absent. */
  dnsServers?: string[];
};

export type Limits = {
  /** Largest sync push body. */
  maxPushBytes: number;
  /** Largest body of any other request (JSON, armored keys). */
  maxJsonBytes: number;
  /** Largest message the MX and the submission service accept. */
  maxMessageBytes: number;
  /** Per user: sync documents plus incoming mail. */
  quotaBytes: number;
  /** A changes response stops adding documents after this many data bytes. */
  changesByteBudget: number;
  /** Event streams kept per account; a new one closes the oldest. */
  eventStreamsPerAccount: number;
  /** A keep-alive on every event stream this often. */
  eventKeepAliveMs: number;
  /** An event stream with more unsent bytes than this is closed: its device stopped reading. */
  eventBacklogBytes: number;
};

export const DEFAULT_LIMITS: Limits = {
  maxPushBytes: MAX_PUSH_BYTES,
  maxJsonBytes: 1024 * 1024,
  maxMessageBytes: 25 * 1024 * 1024,
  quotaBytes: 1024 * 1024 * 1024,
  changesByteBudget: 16 * 1024 * 1024,
  // A person's phone, laptops and desktops, with room for a device whose
  // old stream is not yet known dead when it reconnects.
  eventStreamsPerAccount: 16,
  // Under the 60 s that proxies and NAT boxes commonly allow an idle
  // connection; a device waits about twice this before reconnecting.
  eventKeepAliveMs: 25_000,
  // Some hundred events: a device that reads nothing for that long is gone.
  eventBacklogBytes: 16 * 1024,
};

/** Relay retries: the delay before each retry; after the last one fails the
 * sender gets a bounce. Default: 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h. */
export const DEFAULT_RETRY_DELAYS_MS = [60_000, 300_000, 1_800_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000];

export type ProviderOptions = {
  /** The provider's one mail domain: users are username@domain. */
  domain: string;
  /** Holds the SQLite database. */
  dataDir: string;
  /** Address every service binds to. Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  httpPort: number;
  mxPort: number;
  submissionPort: number;
  /** Where mail for other domains goes: domain -> that provider's MX. */
  routes?: Record<string, Route>;
  /** Mail to and from other domains through Postfix; without it, static routes only. */
  postfix?: PostfixLink;
  /** PEM certificate and key: HTTPS, and STARTTLS on both SMTP services. */
  tls?: { cert: string; key: string };
  logger: Logger;
  limits?: Partial<Limits>;
  /** Session token lifetime. Default 24 hours. */
  sessionTtlMs?: number;
  /** How long a failed log-in waits before its 401. Default 1 second. */
  authFailureDelayMs?: number;
  retryDelaysMs?: readonly number[];
  clock?: Clock;
};
