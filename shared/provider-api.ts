// The provider's wire contract (provider/ serves it; the daemon's sync,
// keymanager and account clients speak it). Every request and response body
// has a zod schema here so both sides check the same shapes; docs/PROVIDER-API.md
// describes the routes for people.
//
// HTTP JSON API (https, or plain http on 127.0.0.1 for tests and the embedded
// development provider). Errors are always `errorResponse` with a status:
// 400 malformed request, 401 no/expired/unknown token or failed log-in,
// 403 not yours, 404 not found, 409 taken, 413 body too large, 507 quota.
//
//   POST /signup           signupRequest -> 201 signupResponse | 409 username taken
//   POST /login/start      loginStartRequest -> 200 loginStartResponse
//   POST /login/finish     loginFinishRequest -> 200 loginFinishResponse | 401 (after a delay)
//   -- the routes below need `Authorization: Bearer <token>` unless marked public --
//   GET  /secrets          -> 200 secretsBlob | 404 none stored yet
//   PUT  /secrets          secretsBlob -> 204
//   PUT  /passphrase       passphraseChange -> 204 (new SRP salt and verifier and the re-wrapped blob, together;
//                          every session of the account ends) | 401 (no valid proof of the current passphrase, after a delay)
//   POST /logout           -> 204 (the request's token no longer works)
//   GET  /sync/changes?since=<gen>&limit=<n>  -> 200 changesResponse
//   POST /sync/push        pushRequest -> 200 pushResponse | 413 | 507 (nothing stored)
//   GET  /incoming?limit=<n>                  -> 200 incomingResponse
//   DELETE /incoming/{id}  -> 204 (also when already deleted)
//   POST /incoming/delete  incomingDeleteRequest -> 204 (a page at once; ids already gone are fine)
//   GET  /events           -> 200 text/event-stream of providerEvent (see "Events" below)
//   GET  /keys/{address}   public -> 200 text/plain armored public key | 404
//   PUT  /keys/{address}   body text/plain armored public key -> 204 | 400 unusable key | 403 not the token's address
//   GET  /health           public -> 200 healthResponse
//   GET  /provider         public -> 200 providerInfo
//
// Log-in is SRP-6a (tssrp6a's routines, RFC 5054 2048-bit group, SHA-512;
// see shared/srp.ts): the password never reaches the provider. All big
// numbers travel as lowercase hex. An unknown username gets a stable fake
// salt and the same work as a real one, so log-in does not reveal which
// usernames exist; both fail at /login/finish with the same 401.
//
// Sync: a per-user store of `{id, rev, data}` documents (shared/crypto/
// document-cipher.ts WireDoc). The provider sees opaque ids, revisions and
// base64url ciphertext, nothing else; a tombstone is just another sealed
// document. Every stored document gets the user's next generation number;
// `GET /sync/changes?since=g` returns the newest version of every document
// stored after generation g, oldest first. When `more` is true the client
// asks again with `since = generation`; when false, `generation` is where the
// next pull starts. A push is applied document by document: a document is
// stored only when its current revision equals `expectedRev` (0: new);
// otherwise the result is "conflict" with the current revision, and the
// client pulls, merges and pushes again. The push body is streamed: it must
// be exactly one JSON object with the single key "docs". A page with `more`
// also says how many documents are `remaining` after it.
//
// Events: a long-lived server-sent-events stream per device. Each event is
// one `data:` line holding a providerEvent as JSON; lines starting with ":"
// are keep-alives, sent every `keepAliveMs` (the first event says it), so a
// device that hears nothing for longer knows the stream is dead. "ready"
// comes first and says where the account stands; then "incoming" when the
// MX stored mail for the user and "sync" when the sync log moved (a push by
// any device, the sender's too). Nothing is queued for a device that is not
// connected: after (re)connecting it catches up with one round. The provider
// keeps a few streams per account (a new one closes the oldest), and closes
// a stream whose device stopped reading or whose token expired.
//
// Incoming: mail accepted by the provider's MX for a user waits here. Each
// document's `data` is an ASCII-armored OpenPGP message encrypted to the
// user's published key; its literal data is the raw RFC 5322 message exactly
// as received over SMTP (binary, byte for byte, no added headers). The
// daemon decrypts it, stores the mail, then deletes the incoming document.
// Bounces of the user's own relayed mail arrive the same way.
//
// SMTP: MX (no AUTH): RCPT of an address outside the provider's domain 550
// 5.7.1; unknown user 550 5.1.1; user without a published key 450 4.7.13;
// message over the size limit 552 5.3.4; mailbox over quota 452 4.2.2.
// Submission: AUTH PLAIN with username (or address) and the session token;
// MAIL FROM must be the user's address (553 5.7.1 otherwise); local
// recipients get the MX checks above at RCPT; other domains need a
// configured route (550 5.1.2 otherwise); relayed mail is retried with
// backoff and bounced into the sender's incoming queue after the last failure.
import { z } from "zod";

/** Most documents a push may carry, and a changes response may return. */
export const MAX_DOCS_PER_REQUEST = 1000;

/** A provider's push body limit unless it is configured otherwise: clients
 * batch their pushes under it, and smaller after a 413. */
export const MAX_PUSH_BYTES = 64 * 1024 * 1024;

const hex = z.string().regex(/^[0-9a-f]+$/, "not lowercase hex");
const base64url = z.string().regex(/^[A-Za-z0-9_-]*$/, "not base64url");

/** The local part of the user's address: lowercase, as mail systems compare it. */
export const username = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "lowercase letters, digits, '.', '_' and '-', starting with a letter or digit");

export const address = z
  .string()
  .max(254)
  .regex(/^[^\s@/\\]+@[^\s@/\\]+$/, "not a mail address");

export const errorResponse = z.object({ error: z.string() });
export type ErrorResponse = z.infer<typeof errorResponse>;

// ---- accounts ----

export const signupRequest = z.object({
  username,
  /** SRP salt, 16 to 256 bytes. */
  salt: hex.min(32).max(512),
  /** SRP verifier v = g^x mod N. */
  verifier: hex.min(2).max(1024),
});
export type SignupRequest = z.infer<typeof signupRequest>;

export const signupResponse = z.object({ address });
export type SignupResponse = z.infer<typeof signupResponse>;

export const loginStartRequest = z.object({
  username,
  /** The client's public ephemeral value A. */
  A: hex.min(2).max(1024),
});
export type LoginStartRequest = z.infer<typeof loginStartRequest>;

export const loginStartResponse = z.object({
  salt: hex,
  /** The server's public ephemeral value B. */
  B: hex,
  /** Names this log-in attempt at /login/finish; valid for a minute. */
  loginId: base64url.min(16).max(64),
});
export type LoginStartResponse = z.infer<typeof loginStartResponse>;

export const loginFinishRequest = z.object({
  loginId: base64url.min(16).max(64),
  /** The client's proof M1. */
  M1: hex.min(2).max(256),
});
export type LoginFinishRequest = z.infer<typeof loginFinishRequest>;

export const loginFinishResponse = z.object({
  /** The server's proof M2: the client checks it before trusting the session. */
  M2: hex,
  /** Bearer token for everything else, at least 256 random bits. */
  token: base64url.min(32).max(128),
  /** Milliseconds since the epoch; after this the token gets 401. */
  expiresAt: z.number().int(),
  address,
});
export type LoginFinishResponse = z.infer<typeof loginFinishResponse>;

/** The user's storage secret, encrypted under the passphrase by the client;
 * opaque to the provider. */
export const secretsBlob = z.object({ blob: z.string().min(1).max(64 * 1024) });
export type SecretsBlob = z.infer<typeof secretsBlob>;

/** A passphrase change: the new SRP salt and verifier and the blob wrapped
 * under the new passphrase, stored in one transaction, so a second device
 * never finds a blob its log-in passphrase cannot open; with `proof`, an
 * SRP log-in with the current passphrase (a /login/start answered as for
 * /login/finish), so a session token alone cannot change it. */
export const passphraseChange = signupRequest
  .omit({ username: true })
  .extend(secretsBlob.shape)
  .extend({ proof: loginFinishRequest });
export type PassphraseChange = z.infer<typeof passphraseChange>;

// ---- sync ----

/** HMAC wire ids are 43 base64url characters; the cap leaves room for others. */
const wireId = base64url.min(1).max(128);
const revision = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const generation = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const changesQuery = z.object({
  since: z.coerce.number().pipe(generation).default(0),
  limit: z.coerce.number().int().min(1).max(MAX_DOCS_PER_REQUEST).default(MAX_DOCS_PER_REQUEST),
});
export type ChangesQuery = z.infer<typeof changesQuery>;

export const changedDoc = z.object({ id: wireId, rev: revision, data: base64url, gen: generation });
export type ChangedDoc = z.infer<typeof changedDoc>;

export const changesResponse = z.object({
  generation,
  docs: z.array(changedDoc),
  /** True when the response stopped early (count or size limit). */
  more: z.boolean(),
  /** With `more`: how many documents are left after this page (as the
   * provider counts them now), so a client can show progress. */
  remaining: z.number().int().min(0).optional(),
});
export type ChangesResponse = z.infer<typeof changesResponse>;

export const pushDoc = z
  .object({
    id: wireId,
    rev: revision,
    /** The revision the client last saw on the provider; 0 for a new document. */
    expectedRev: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    data: base64url,
  })
  .refine((doc) => doc.rev > doc.expectedRev, { message: "rev must be greater than expectedRev" });
export type PushDoc = z.infer<typeof pushDoc>;

export const pushRequest = z.object({ docs: z.array(pushDoc).max(MAX_DOCS_PER_REQUEST) });
export type PushRequest = z.infer<typeof pushRequest>;

export const pushResult = z.object({
  id: wireId,
  status: z.enum(["stored", "conflict"]),
  /** "stored": the new revision; "conflict": the provider's current revision. */
  rev: z.number().int().min(0),
  /** "stored": the generation the document took, so the device that pushed
   * it can move its pull past it without downloading it back. */
  gen: generation.optional(),
});
export type PushResult = z.infer<typeof pushResult>;

export const pushResponse = z.object({
  /** The user's generation after this push. */
  generation,
  results: z.array(pushResult),
});
export type PushResponse = z.infer<typeof pushResponse>;

// ---- incoming ----

export const incomingQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_DOCS_PER_REQUEST).default(100),
});

const incomingId = base64url.min(1).max(64);

export const incomingDoc = z.object({
  id: incomingId,
  /** ASCII-armored OpenPGP message; its literal data is the raw mail. */
  data: z.string(),
  /** Milliseconds since the epoch. */
  receivedAt: z.number().int(),
});
export type IncomingDoc = z.infer<typeof incomingDoc>;

export const incomingResponse = z.object({
  /** Oldest first. */
  docs: z.array(incomingDoc),
  more: z.boolean(),
});
export type IncomingResponse = z.infer<typeof incomingResponse>;

export const incomingDeleteRequest = z.object({ ids: z.array(incomingId).min(1).max(MAX_DOCS_PER_REQUEST) });
export type IncomingDeleteRequest = z.infer<typeof incomingDeleteRequest>;

// ---- events ----

export const providerEvent = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("ready"),
    /** The sync log's generation now. */
    generation,
    /** Whether mail waits in the incoming queue now. */
    incoming: z.boolean(),
    /** Keep-alives come at least this often. */
    keepAliveMs: z.number().int().min(1),
  }),
  z.object({ type: z.literal("incoming") }),
  z.object({ type: z.literal("sync"), generation }),
]);
export type ProviderEvent = z.infer<typeof providerEvent>;

// ---- health ----

export const healthResponse = z.object({ status: z.literal("ok"), version: z.string() });
export type HealthResponse = z.infer<typeof healthResponse>;

/** `Authorization` header value for a session token. */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}

// ---- provider info ----

/** What a daemon needs to know beyond the API's URL, asked at sign-up and log-in. */
export const providerInfo = z.object({
  domain: z.string().min(1),
  version: z.string(),
  /** The submission service, on the API's host: the daemon hands outgoing
   * mail over here, with STARTTLS whenever the provider has a certificate. */
  submission: z.object({ port: z.number().int().min(1).max(65535), starttls: z.boolean() }),
});
export type ProviderInfo = z.infer<typeof providerInfo>;
