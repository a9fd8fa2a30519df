// Documents are the unit of storage and sync: {id, rev, type, content}.
// Every content is validated on the way in (from disk or from the provider),
// so a tampered or buggy document is refused at the boundary, never half-used.
import { z } from "zod";
import { fromUtf8, utf8 } from "./bytes";

/** A MIME entity as stored in a header document. Strings are binary strings
 * (one char per byte) so that join(split(raw)) gives back the exact bytes. */
export type MimeNode = {
  /** The entity's header block exactly as received, including the blank line. */
  header: string;
  body: MimeBody;
};

export type MimeBody =
  /** lines: the body's count of LF bytes, for IMAP's BODYSTRUCTURE. */
  | { kind: "leaf"; hash: string; size: number; lines: number }
  | {
      kind: "multipart";
      preamble: string;
      parts: { delimiter: string; node: MimeNode }[];
      /** The close delimiter line, or null when the message lacks one. */
      close: string | null;
      epilogue: string;
    }
  | { kind: "message"; node: MimeNode };

const hashSchema = z.string().regex(/^[0-9A-F]{64}$/);

const mimeNodeSchema: z.ZodType<MimeNode> = z.lazy(() =>
  z.object({
    header: z.string(),
    body: z.discriminatedUnion("kind", [
      z.object({
        kind: z.literal("leaf"),
        hash: hashSchema,
        size: z.number().int().nonnegative(),
        lines: z.number().int().nonnegative(),
      }),
      z.object({
        kind: z.literal("multipart"),
        preamble: z.string(),
        parts: z.array(z.object({ delimiter: z.string(), node: mimeNodeSchema })),
        close: z.string().nullable(),
        epilogue: z.string(),
      }),
      z.object({ kind: z.literal("message"), node: mimeNodeSchema }),
    ]),
  }),
);

/** LEAP's key validation levels, weakest first (docs/LEAP.md section 8). */
export const VALIDATION_LEVELS = [
  "Weak_Chain",
  "Provider_Trust",
  "Provider_Endorsement",
  "Third_Party_Endorsement",
  "Third_Party_Consensus",
  "Historically_Auditing",
  "Known_Key",
  "Fingerprint",
] as const;

export const contentSchemas = {
  mailbox: z.object({
    name: z.string().min(1),
    uidValidity: z.number().int().positive().max(0xffffffff),
    subscribed: z.boolean(),
    specialUse: z.string().nullable(),
    created: z.number().int(),
    /** Hybrid clock of the last change: sync keeps the later of two edits. */
    clock: z.string().optional(),
  }),
  /** A subscription to a name that has no mailbox (any more), at
   * `S-{name}`: RFC 3501 6.3.6 keeps a subscription when its mailbox goes.
   * Existing mailboxes keep theirs in their mailbox document. Immutable. */
  subscription: z.object({ name: z.string().min(1) }),
  meta: z.object({
    mailbox: z.string(),
    msgHash: hashSchema,
    flags: z.string(),
    header: z.string(),
    contents: z.array(z.string()),
  }),
  flags: z.object({
    mailbox: z.string(),
    msgHash: hashSchema,
    flags: z.array(z.string()),
    internalDate: z.number().int(),
    /** Per flag (lower-cased), the hybrid clock of its last set or clear:
     * sync merges two devices' edits flag by flag, the later one winning. */
    clock: z.record(z.string(), z.string()).optional(),
  }),
  header: z.object({
    size: z.number().int().nonnegative(),
    messageId: z.string().nullable(),
    root: mimeNodeSchema,
  }),
  token: z.object({ token: z.string().min(22), created: z.number().int() }),
  // Keymanager documents (native-host/keys/). The validation level and key
  // source names are those of native-host/keys/keymanager-api.ts, which
  // checks at compile time that the two lists agree.
  /** One OpenPGP key at `K-{fingerprint}`, whatever addresses it serves. */
  key: z.object({
    fingerprint: z.string().regex(/^([0-9A-F]{40}|[0-9A-F]{64})$/),
    armoredPublic: z.string(),
    /** Only the account's own keys have one. It is stored without an OpenPGP
     * passphrase: the store around it is already encrypted. */
    armoredPrivate: z.string().nullable(),
    /** The lower-cased e-mail addresses of its user ids. */
    addresses: z.array(z.string()),
    /** Milliseconds since the epoch, null for a key that does not expire. */
    expires: z.number().int().nullable(),
    /** Where the key was first found. */
    source: z.enum(["local", "provider", "wkd", "autocrypt", "attachment", "import"]),
    firstSeen: z.number().int(),
    /** When its material was last fetched or merged. */
    refreshedAt: z.number().int(),
  }),
  /** The key in use for one address, at `KA-{address}` (LEAP's "active" doc):
   * one document per address, so two devices cannot each keep a different key
   * for it without the sync seeing one document conflict. */
  activeKey: z.object({
    address: z.string(),
    fingerprint: z.string(),
    validation: z.enum(VALIDATION_LEVELS),
    source: z.enum(["local", "provider", "wkd", "autocrypt", "attachment", "import"]),
    usedForEncryption: z.boolean(),
    usedForSigning: z.boolean(),
  }),
  /** Autocrypt Level 1 peer state for one address, at `A-{address}`. */
  autocrypt: z.object({
    address: z.string(),
    /** Effective dates, milliseconds since the epoch. */
    lastSeen: z.number().int(),
    autocryptTimestamp: z.number().int(),
    /** The header's keydata: a binary public key, base64. */
    keydata: z.string(),
    fingerprint: z.string(),
    preferEncrypt: z.enum(["mutual", "nopreference"]),
  }),
  /** Mail fetched from the provider's incoming queue and not yet processed:
   * local to this device (never synced), at `I-{provider id}`. */
  incoming: z.object({
    providerId: z.string(),
    /** The MX envelope: an OpenPGP message to the account's key. */
    armored: z.string(),
    receivedAt: z.number().int(),
  }),
  /** Outgoing mail the provider has not yet taken for some recipients: the
   * SMTP gateway's retry queue (native-host/smtp/outgoing-queue.ts), local to
   * this device (another device retrying it too would send it twice). Bytes
   * are base64. */
  outgoing: z.object({
    from: z.string(),
    /** The message as the client submitted it, attached to a bounce. */
    original: z.string(),
    /** Prepared copies (signed, or encrypted to one recipient) still to relay. */
    deliveries: z.array(z.object({ recipients: z.array(z.string()).min(1), message: z.string() })).min(1),
    queuedAt: z.number().int(),
    attempts: z.number().int().nonnegative(),
    nextAttemptAt: z.number().int(),
    lastError: z.string(),
  }),
  /** The account's preferences, at `settings`; synced, so every device
   * sends the same way. `clock` (hybrid) orders two devices' edits. */
  settings: z.object({
    /** Refuse to send to a recipient without a key instead of sending signed only. */
    alwaysEncrypt: z.boolean(),
    /** The kind of key the account makes for itself (whichever device makes it). */
    keyAlgorithm: z.enum(["curve25519", "rsa4096"]).optional(),
    clock: z.string(),
  }),
} as const;

/** The one settings document's id. */
export const SETTINGS_ID = "settings";

/** Content documents carry raw bytes; every other type is JSON. */
export type DocType = keyof typeof contentSchemas | "content";
export const docTypes: readonly DocType[] = [...(Object.keys(contentSchemas) as DocType[]), "content"];

export type ContentOf<T extends DocType> = T extends "content"
  ? Uint8Array
  : T extends keyof typeof contentSchemas
    ? z.infer<(typeof contentSchemas)[T]>
    : never;

export type MailboxContent = ContentOf<"mailbox">;
export type MetaContent = ContentOf<"meta">;
export type FlagsContent = ContentOf<"flags">;
export type HeaderContent = ContentOf<"header">;
export type TokenContent = ContentOf<"token">;

/** A stored document; `content` is null for a tombstone (a deleted document). */
export type Doc<T extends DocType = DocType> = {
  id: string;
  rev: number;
  type: T;
  content: ContentOf<T> | null;
};

export function isDocType(value: string): value is DocType {
  return (docTypes as readonly string[]).includes(value);
}

export function encodeContent<T extends DocType>(type: T, content: ContentOf<T>): Uint8Array {
  if (type === "content") {
    if (!(content instanceof Uint8Array)) throw new Error("content document needs bytes");
    return content;
  }
  const schema = contentSchemas[type as keyof typeof contentSchemas];
  return utf8(JSON.stringify(schema.parse(content)));
}

/** Decodes content. Validation is for content from outside (sync); the local
 * store, whose pages SQLCipher authenticates, only holds content validated
 * when it was written, so it reads without paying for validation again. */
export function decodeContent<T extends DocType>(type: T, bytes: Uint8Array, validate = true): ContentOf<T> {
  if (type === "content") return bytes as ContentOf<T>;
  const schema = contentSchemas[type as keyof typeof contentSchemas];
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromUtf8(bytes));
  } catch {
    throw new Error(`document of type ${type} is not valid JSON`);
  }
  if (!validate) return parsed as ContentOf<T>;
  const result = schema.safeParse(parsed);
  if (!result.success) throw new Error(`document of type ${type} is malformed: ${result.error.issues[0]?.message}`);
  return result.data as ContentOf<T>;
}
