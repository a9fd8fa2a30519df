// The daemon's control API: what bitmaskctl and the native-messaging bridge
// (and so the add-on) ask bitmaskd over its Unix socket. One JSON object per
// line each way: requests carry an id, replies echo it, events carry none.
// Every method's params and result have a schema here, so the server checks
// what it is asked and the clients check what they are told.
import { z } from "zod";

export const CONTROL_PROTOCOL_VERSION = 1;

const address = z
  .string()
  .max(254)
  .regex(/^[^\s@/\\]+@[^\s@/\\]+$/, "not a mail address");
/** Passphrases are never empty; the cap only stops absurd payloads. */
const passphrase = z.string().min(1).max(1024);
/** Most methods act on one account; it may be left out when only one is unlocked. */
const forAccount = z.object({ address: address.optional() });

const endpoint = z.object({ host: z.string(), port: z.number().int().min(1).max(65535) });

export const SYNC_STATES = ["off", "idle", "syncing", "offline", "error"] as const;

export const syncStatus = z.object({
  state: z.enum(SYNC_STATES),
  /** Documents done and expected (null while not yet known) during a sync; null when not syncing. */
  progress: z.object({ done: z.number().int(), total: z.number().int().nullable() }).nullable(),
  lastSyncedAt: z.number().nullable(),
});
export type SyncStatus = z.infer<typeof syncStatus>;

/** Something that went wrong and that the user should be able to see
 * (a message that could not be decrypted, a failed sync, a relay failure). */
export const mailError = z.object({
  at: z.number(),
  source: z.string(),
  message: z.string(),
});
export type MailError = z.infer<typeof mailError>;

export const accountStatus = z.object({
  address,
  imap: endpoint,
  /** Null until the SMTP gateway runs in this daemon. */
  smtp: endpoint.nullable(),
  sync: syncStatus,
  /** The account's own OpenPGP key; null until the keymanager reports one. */
  keyFingerprint: z.string().nullable(),
  unread: z.number().int(),
  errors: z.array(mailError),
});
export type AccountStatus = z.infer<typeof accountStatus>;

export const daemonStatus = z.object({
  protocol: z.literal(CONTROL_PROTOCOL_VERSION),
  pid: z.number().int(),
  offline: z.boolean(),
  /** Unlocked accounts, served over IMAP (and SMTP). */
  accounts: z.array(accountStatus),
  /** Accounts on disk that wait for their passphrase (`account login`). */
  locked: z.array(address),
});
export type DaemonStatus = z.infer<typeof daemonStatus>;

export const keyListing = z.object({
  address,
  fingerprint: z.string(),
  own: z.boolean(),
  validation: z.string(),
  expires: z.number().nullable(),
});
export type KeyListing = z.infer<typeof keyListing>;

/** Where an account is (or will be) at: the provider's API URL and, when
 * the system does not trust its certificate, its CA (PEM). */
const providerParams = { provider: z.url().optional(), providerCa: z.string().max(64 * 1024).optional() };

export const providerCertificate = z.object({
  /** SHA-256, colon-separated hex pairs, as browsers show it. */
  fingerprint: z.string(),
  pem: z.string(),
  /** The system's CAs vouch for it (and its name): nothing to pin. */
  trusted: z.boolean(),
});
export type ProviderCertificate = z.infer<typeof providerCertificate>;

/** Every method: its params and its result. */
export const controlMethods = {
  status: { params: z.object({}), result: daemonStatus },
  "mail.get_token": { params: forAccount, result: z.object({ address, token: z.string() }) },
  "mail.rotate_token": { params: forAccount, result: z.object({ address, token: z.string() }) },
  "mail.status": { params: forAccount, result: accountStatus },
  "mail.errors": { params: forAccount, result: z.array(mailError) },
  /** Reads, or with `on` sets, the "always encrypt" setting (synced to every device). */
  "mail.always_encrypt": { params: forAccount.extend({ on: z.boolean().optional() }), result: z.object({ address, alwaysEncrypt: z.boolean() }) },
  "keys.list": { params: forAccount, result: z.array(keyListing) },
  "keys.export": { params: forAccount.extend({ keyAddress: address.optional() }), result: z.object({ armored: z.string() }) },
  "keys.import": { params: forAccount.extend({ armored: z.string().max(512 * 1024) }), result: keyListing },
  sync: { params: forAccount, result: syncStatus },
  offline: { params: z.object({ offline: z.boolean() }), result: z.object({ offline: z.boolean() }) },
  "account.create": {
    /** keyType: the account's own key; Curve25519 unless RSA-4096 is asked for. */
    params: z.object({ address, passphrase, ...providerParams, keyType: z.enum(["curve25519", "rsa4096"]).optional() }),
    result: accountStatus,
  },
  /** With a provider, an account not on this device is fetched from it (a second device). */
  "account.login": { params: z.object({ address, passphrase, ...providerParams }), result: accountStatus },
  "account.passphrase": {
    params: z.object({ address, passphrase, newPassphrase: passphrase }),
    result: z.object({ address }),
  },
  /** The provider's TLS certificate, unverified, for the user to compare before pinning it. */
  "provider.certificate": { params: z.object({ provider: z.url() }), result: providerCertificate },
  /** Stops the daemon cleanly (as SIGTERM does); answers with its pid, to wait for. */
  stop: { params: z.object({}), result: z.object({ pid: z.number().int() }) },
  /** From now on this connection also receives events. */
  subscribe: { params: z.object({}), result: z.object({ subscribed: z.literal(true) }) },
} as const;

export type ControlMethod = keyof typeof controlMethods;
export type ControlParams<M extends ControlMethod> = z.input<(typeof controlMethods)[M]["params"]>;
export type ControlResult<M extends ControlMethod> = z.infer<(typeof controlMethods)[M]["result"]>;

export function isControlMethod(name: string): name is ControlMethod {
  return Object.hasOwn(controlMethods, name);
}

const requestId = z.union([z.number().int(), z.string().max(64)]);

export const controlRequest = z.object({
  id: requestId,
  method: z.string().max(64),
  params: z.unknown().optional(),
});
export type ControlRequest = z.infer<typeof controlRequest>;

/** Why a request failed, as a code a program can act on. */
export const ERROR_CODES = [
  "bad-request", // not JSON, not a request, or params that fail their schema
  "unknown-method",
  "no-account", // no such account, or several unlocked and none named
  "locked", // the account exists but waits for its passphrase
  "exists", // account.create for an address that has an account
  "wrong-passphrase",
  "unavailable", // a part of the daemon that is not running (yet)
  "failed", // anything else; the message says what
  // The bridge's own errors (native messaging):
  "too-large",
  "daemon-unavailable",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const controlError = z.object({ code: z.enum(ERROR_CODES), message: z.string() });
export type ControlError = z.infer<typeof controlError>;

export const controlReply = z.union([
  z.object({ id: requestId.nullable(), result: z.unknown() }),
  z.object({ id: requestId.nullable(), error: controlError }),
]);
export type ControlReply = z.infer<typeof controlReply>;

export const controlEvent = z.discriminatedUnion("event", [
  /** The token changed: clients that log in with it fetch the new one. */
  z.object({ event: z.literal("token-rotated"), address }),
  z.object({ event: z.literal("account-unlocked"), address }),
  /** Something in an account's status changed (unread, sync, errors). */
  z.object({ event: z.literal("status-changed"), address }),
  z.object({ event: z.literal("sync-progress"), address, done: z.number().int(), total: z.number().int().nullable() }),
]);
export type ControlEvent = z.infer<typeof controlEvent>;

/** One line from the daemon: a reply (has `id`) or an event (has `event`). */
export function isEventLine(value: unknown): boolean {
  return typeof value === "object" && value !== null && "event" in value && !("id" in value);
}
