// What the rest of the daemon asks of the keymanager (native-host/keys/).
// SMTP asks for keys to sign and encrypt with; incoming mail feeds what it
// learns; the CLI and the add-on list, export and import keys.
import type { PrivateKey, PublicKey } from "openpgp";

/** LEAP's validation levels, weakest first (LEAP-REFERENCE.md section 8). */
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
export type ValidationLevel = (typeof VALIDATION_LEVELS)[number];

/** Where a public key was found, in discovery order. */
export type KeySource = "local" | "provider" | "wkd" | "autocrypt" | "attachment" | "import";

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
}
