// What the rest of the daemon asks of the keymanager (native-host/keys/).
// SMTP asks for keys to sign and encrypt with; incoming mail feeds what it
// learns; the CLI and the add-on list, export and import keys.
import type { PrivateKey, PublicKey } from "openpgp";
import { type ContentOf, VALIDATION_LEVELS } from "../../shared/documents";

export type ValidationLevel = (typeof VALIDATION_LEVELS)[number];

/** Where a public key was found, in discovery order. */
export type KeySource = "local" | "provider" | "wkd" | "autocrypt" | "attachment" | "import";

// The stored documents spell the same names (shared/documents.ts cannot
// import from here): these fail to compile if the two lists drift apart.
type SameNames<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const storedLevelsAgree: SameNames<ContentOf<"activeKey">["validation"], ValidationLevel> = true;
const storedSourcesAgree: SameNames<ContentOf<"key">["source"], KeySource> = true;
void storedLevelsAgree;
void storedSourcesAgree;

export type PublicKeyInfo = {
  address: string;
  fingerprint: string;
  key: PublicKey;
  validation: ValidationLevel;
  source: KeySource;
  /** Expiry as a Date, or null for a key that does not expire. */
  expires: Date | null;
};

export type OwnKey = {
  address: string;
  fingerprint: string;
  /** Unlocked (decrypted) for signing and decrypting; it never leaves the process. */
  privateKey: PrivateKey;
  publicKey: PublicKey;
  armoredPublicKey: string;
};

/** A key refused during discovery or learning, with the reason a user can read. */
export type KeyRefusal = { address: string; fingerprint?: string; reason: string };

/** What discovery found for an address, and why other keys were refused or
 * sources failed (for a 550 that says why, or `bitmaskctl keys`). */
export type KeyDiscovery = { key: PublicKeyInfo | null; refusals: KeyRefusal[] };

/** LEAP's usage flags: a key that has been used both ways is harder to replace. */
export type KeyUse = "encryption" | "signing";

export interface KeyManager {
  /** The account's own key pair (generated when the account was created). */
  ownKey(): Promise<OwnKey>;
  /** The best usable public key for encrypting to `address`, found by
   * discovery (local, provider directory, WKD, Autocrypt state, attached
   * keys); null when there is none. Expired, revoked and wrong-address keys
   * are never returned. */
  encryptionKeyFor(address: string): Promise<PublicKeyInfo | null>;
  /** The Autocrypt header value for outgoing mail from the own address. */
  autocryptHeader(): Promise<string>;
  /** Incoming mail: an Autocrypt header seen from `from` in a message dated `date`. */
  learnAutocrypt(from: string, headerValue: string, date: Date): Promise<KeyRefusal | null>;
  /** Incoming mail: an application/pgp-keys attachment sent by `from`. */
  learnAttachedKey(from: string, armored: string): Promise<KeyRefusal | null>;
  /** Public keys known for an address (for verification of signatures). */
  publicKeysFor(address: string): Promise<PublicKeyInfo[]>;

  /** As encryptionKeyFor, with the reasons keys were refused. */
  findEncryptionKey(address: string): Promise<KeyDiscovery>;
  /** SMTP after encrypting to a key, incoming after a valid signature by it. */
  recordKeyUse(address: string, fingerprint: string, use: KeyUse): Promise<void>;
  /** Incoming mail: a message from `from` dated `date` without an Autocrypt
   * header (Autocrypt Level 1 keeps last_seen up to date). */
  learnNoAutocrypt(from: string, date: Date): Promise<void>;
  /** Every private key of the account, the active one first: incoming mail
   * encrypted to a replaced own key still decrypts. */
  decryptionKeys(): Promise<PrivateKey[]>;
}
