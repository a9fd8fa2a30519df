// The daemon's control API: what bitmaskctl and the native-messaging bridge
// (and so the add-on) ask bitmaskd over its Unix socket. One JSON object per
// line each way: requests carry an id, replies echo it, events carry none.
// Every method's params and result have a schema here, so the server checks
// what it is asked and the clients check what they are told.
import { z } from "zod";
import {
  MAX_MAIL_PAGE_SIZE,
  MAX_MAIL_SEARCH_CHARS,
  MAX_MAIL_SEARCH_RESULTS,
  MAX_MAIL_SEND_RECIPIENTS,
  MAX_MAIL_SEND_TEXT_CHARS,
  MAX_MAIL_UIDS_PER_REQUEST,
} from "./control-limits";

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

/** The provider's event stream: "up" means new mail and other devices'
 * changes arrive within a second; otherwise rounds run every ten minutes. */
export const PUSH_STATES = ["off", "connecting", "up", "down"] as const;

export const syncStatus = z.object({
  state: z.enum(SYNC_STATES),
  /** Absent where sync is off. */
  push: z.enum(PUSH_STATES).optional(),
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

// The mail API (LEAP's public mail API, out of process): what bitmaskctl's
// mail commands and the web reader read and change, through the same
// Account and Mailbox methods IMAP uses.
const mailboxName = z.string().min(1).max(1000);
const uid = z.number().int().min(1).max(2 ** 32 - 1);
const uids = z.array(uid).min(1).max(MAX_MAIL_UIDS_PER_REQUEST);
const flag = z.string().min(1).max(256);
const inMailbox = forAccount.extend({ mailbox: mailboxName });
const oneMessage = inMailbox.extend({ uid });
const someMessages = inMailbox.extend({ uids });

export const mailboxListing = z.object({
  name: z.string(),
  specialUse: z.string().nullable(),
  messages: z.number().int(),
  unseen: z.number().int(),
  size: z.number().int(),
});
export type MailboxListing = z.infer<typeof mailboxListing>;

export const securityState = z.object({
  encrypted: z.boolean(),
  signature: z.enum(["valid", "invalid", "unverified"]).nullable(),
  signer: z.string().nullable(),
  error: z.string().nullable(),
});

export const messageSummary = z.object({
  uid: z.number().int(),
  flags: z.array(z.string()),
  date: z.number(),
  from: z.string(),
  to: z.string(),
  subject: z.string(),
  size: z.number().int(),
  security: securityState,
});
export type MessageSummary = z.infer<typeof messageSummary>;

export const messageView = messageSummary.extend({
  mailbox: z.string(),
  cc: z.string(),
  replyTo: z.string(),
  messageId: z.string().nullable(),
  references: z.string(),
  text: z.string().nullable(),
  html: z.string().nullable(),
  attachments: z.array(z.object({ part: z.string(), filename: z.string().nullable(), contentType: z.string(), size: z.number().int() })),
});
export type MessageView = z.infer<typeof messageView>;

export const messagePage = z.object({
  mailbox: z.string(),
  /** Messages in the mailbox; pages count from 0, newest first. */
  total: z.number().int(),
  page: z.number().int(),
  pageSize: z.number().int(),
  messages: z.array(messageSummary),
});
export type MessagePage = z.infer<typeof messagePage>;

const uidMapping = z.array(z.object({ from: z.number().int(), to: z.number().int() }));

export const composedMessage = z.object({
  to: z.array(address).min(1).max(MAX_MAIL_SEND_RECIPIENTS),
  cc: z.array(address).max(MAX_MAIL_SEND_RECIPIENTS).default([]),
  subject: z.string().max(998),
  text: z.string().max(MAX_MAIL_SEND_TEXT_CHARS),
  /** The message this answers: threads the reply and flags the original \Answered. */
  inReplyTo: z.object({ mailbox: mailboxName, uid }).optional(),
});
export type ComposedMessage = z.input<typeof composedMessage>;

export const sendOutcome = z.object({
  /** The relay's answer, as the SMTP gateway would give it. */
  reply: z.string(),
  encrypted: z.number().int(),
  signedOnly: z.number().int(),
  /** The copy kept in Sent. */
  sentUid: z.number().int().nullable(),
});
export type SendOutcome = z.infer<typeof sendOutcome>;

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
  "mail.mailboxes": { params: forAccount, result: z.object({ address, mailboxes: z.array(mailboxListing) }) },
  "mail.list": {
    params: inMailbox.extend({ page: z.number().int().min(0).default(0), pageSize: z.number().int().min(1).max(MAX_MAIL_PAGE_SIZE).default(50) }),
    result: messagePage,
  },
  "mail.get": { params: oneMessage, result: messageView },
  /** One attachment's bytes, base64. */
  "mail.part": {
    params: oneMessage.extend({ part: z.string().regex(/^[1-9][0-9]*(\.[1-9][0-9]*)*$/, "not a part number like 2 or 1.2").max(100) }),
    result: z.object({ contentType: z.string(), filename: z.string().nullable(), base64: z.string() }),
  },
  /** Messages whose header or text contains every word (IMAP SEARCH TEXT's full-text index), newest first. */
  "mail.search": {
    params: inMailbox.extend({ query: z.string().trim().min(1).max(MAX_MAIL_SEARCH_CHARS) }),
    result: z.object({ mailbox: z.string(), total: z.number().int(), messages: z.array(messageSummary).max(MAX_MAIL_SEARCH_RESULTS) }),
  },
  "mail.flags": {
    params: someMessages.extend({ mode: z.enum(["add", "remove", "set"]), flags: z.array(flag).max(64) }),
    result: z.array(z.object({ uid: z.number().int(), flags: z.array(z.string()) })),
  },
  "mail.copy": { params: someMessages.extend({ target: mailboxName }), result: uidMapping },
  "mail.move": { params: someMessages.extend({ target: mailboxName }), result: uidMapping },
  /** Removes the messages for good (the reader moves to Trash first). */
  "mail.delete": { params: someMessages, result: z.object({ deleted: z.array(z.number().int()) }) },
  "mailbox.create": { params: inMailbox, result: mailboxListing },
  "mailbox.rename": { params: inMailbox.extend({ to: mailboxName }), result: mailboxListing },
  "mailbox.delete": { params: inMailbox, result: z.object({ deleted: z.string() }) },
  /** Signs and, where keys are found, encrypts, as the SMTP gateway does; keeps a copy in Sent. */
  "mail.send": { params: forAccount.extend({ message: composedMessage }), result: sendOutcome },
  /** A one-time link that logs a browser in to the web reader (for this account). */
  "web.open_link": { params: forAccount, result: z.object({ address, url: z.string() }) },
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
  "not-found", // no such mailbox, message (UID) or part
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
  /** The mail API's change stream: messages added, flags changed, messages
   * expunged in a mailbox; or the mailbox list changed (kind "mailboxes"). */
  z.object({
    event: z.literal("mail-changed"),
    address,
    mailbox: z.string().nullable(),
    kind: z.enum(["new", "changed", "expunged", "mailboxes"]),
    uids: z.array(z.number().int()),
  }),
]);
export type ControlEvent = z.infer<typeof controlEvent>;

/** One line from the daemon: a reply (has `id`) or an event (has `event`). */
export function isEventLine(value: unknown): boolean {
  return typeof value === "object" && value !== null && "event" in value && !("id" in value);
}
