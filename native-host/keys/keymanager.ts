// The keymanager: the account's own key pair and everything known about
// other people's keys, kept in the encrypted store (key-documents.ts).
//
// Discovery for an address goes local -> provider key directory -> WKD ->
// Autocrypt peer state -> attached keys, and a key found is adopted only
// under LEAP's replacement rule (validation.ts). Unlike LEAP, a key from the
// provider's directory for the provider's own domain is Provider_Trust (LEAP
// compared the domain with "nicknym.<domain>" and never matched), and the
// refresh (refreshKeys, run periodically by refresher.ts) really runs.
import { type PrivateKey, type PublicKey, decryptKey, generateKey, readKey, readKeys, readPrivateKey, reformatKey } from "openpgp";
import type { Logger } from "pino";
import type { DocumentStore } from "../store/document-store";
import {
  AutocryptHeaderError,
  formatAutocryptHeader,
  parseAutocryptHeader,
  stateAfterHeader,
  stateAfterMessageWithoutHeader,
} from "./autocrypt";
import { type ActiveKeyDoc, type KeyDoc, activeKeyDocId, autocryptDocId, keyDocId } from "./key-documents";
import type { KeyDirectory, ProviderSession } from "./key-directory";
import type {
  KeyDiscovery,
  KeyManager,
  KeyRefusal,
  KeySource,
  KeyUse,
  OwnKey,
  PublicKeyInfo,
  ValidationLevel,
} from "./keymanager-api";
import {
  addressesOf,
  expiryOf,
  isCertifiedBy,
  minimalKeyFor,
  normaliseAddress,
  readPublicKeys,
  refusalReason,
} from "./openpgp-keys";
import { canUpgrade, levelRank, strongerLevel } from "./validation";
import type { WkdClient } from "./wkd";

const DAY_MS = 24 * 60 * 60 * 1000;
/** A new own key, and each extension, is valid this long... */
const OWN_KEY_LIFETIME_MS = 365 * DAY_MS;
/** ...and is extended once less than this is left (LEAP's 60 days). */
const OWN_KEY_RENEW_BEFORE_MS = 60 * DAY_MS;
/** How long "no key anywhere" is remembered before asking the network again
 * (LEAP memoized directory answers for 300 s). */
const DEFAULT_DISCOVERY_RETRY_MS = 5 * 60 * 1000;
/** Writes that lose a race with sync are redone this many times. */
const WRITE_ATTEMPTS = 5;

export type OwnKeyAlgorithm = "curve25519" | "rsa4096";

export type AccountKeyManagerOptions = {
  store: DocumentStore;
  /** The account's address: its key is the own key. */
  address: string;
  /** The provider's key directory; none before the account has a provider. */
  directory?: KeyDirectory | null;
  /** The provider session for publishing, null while logged out. */
  session?: () => ProviderSession | null;
  wkd?: Pick<WkdClient, "lookup"> | null;
  log?: Pick<Logger, "info" | "warn">;
  discoveryRetryMs?: number;
};

/** A key refused on import, or no own key yet: the message is for the user. */
export class KeyRefusedError extends Error {
  constructor(readonly refusal: KeyRefusal) {
    super(refusal.reason);
    this.name = "KeyRefusedError";
  }
}

export class NoOwnKeyError extends Error {
  constructor(address: string) {
    super(`the account ${address} has no key yet`);
    this.name = "NoOwnKeyError";
  }
}

/** One address's key, as `bitmaskctl keys list` shows it. */
export type KeyListing = {
  address: string;
  fingerprint: string;
  own: boolean;
  validation: ValidationLevel;
  source: KeySource;
  /** Milliseconds since the epoch, null when it does not expire. */
  expires: number | null;
  usedForEncryption: boolean;
  usedForSigning: boolean;
};

export type RefreshReport = {
  /** Other people's keys fetched again from their source. */
  checked: number;
  /** Addresses whose key changed (new material or a new key). */
  updated: string[];
  ownKeyExtended: boolean;
  ownKeyPublished: boolean;
  /** Sources that failed, keys refused: one readable line each. */
  problems: string[];
};

type Found = { key: PublicKey; validation: ValidationLevel; source: KeySource };

export class AccountKeyManager implements KeyManager {
  readonly address: string;
  private readonly store: DocumentStore;
  private readonly discoveryRetryMs: number;
  /** Addresses for which discovery found nothing, until when not to ask again. */
  private readonly nothingFoundUntil = new Map<string, number>();
  private readonly discoveries = new Map<string, Promise<KeyDiscovery>>();
  private ownKeyGeneration: Promise<OwnKey> | null = null;
  /** Parsed keys by fingerprint, valid while the stored armor is the same. */
  private readonly parsed = new Map<string, { armored: string; key: PublicKey }>();
  private parsedOwn: { armored: string; own: OwnKey } | null = null;

  constructor(private readonly options: AccountKeyManagerOptions) {
    this.store = options.store;
    this.address = normaliseAddress(options.address);
    this.discoveryRetryMs = options.discoveryRetryMs ?? DEFAULT_DISCOVERY_RETRY_MS;
  }

  // ---- the own key ----

  /** The own key's fingerprint, or null before it exists. */
  ownFingerprint(): string | null {
    const binding = this.binding(this.address);
    return binding && this.keyDoc(binding.fingerprint)?.armoredPrivate ? binding.fingerprint : null;
  }

  async ownKey(): Promise<OwnKey> {
    const fingerprint = this.ownFingerprint();
    const doc = fingerprint ? this.keyDoc(fingerprint) : undefined;
    if (!doc?.armoredPrivate) throw new NoOwnKeyError(this.address);
    if (this.parsedOwn?.armored !== doc.armoredPrivate) {
      const privateKey = await readPrivateKey({ armoredKey: doc.armoredPrivate });
      this.parsedOwn = {
        armored: doc.armoredPrivate,
        own: { address: this.address, fingerprint: doc.fingerprint, privateKey, publicKey: privateKey.toPublic(), armoredPublicKey: doc.armoredPublic },
      };
    }
    return this.parsedOwn.own;
  }

  /** The own key, generated (and published) when there is none. On a second
   * device, call it after the first sync, which brings the existing key. */
  ensureOwnKey(algorithm: OwnKeyAlgorithm = "curve25519"): Promise<OwnKey> {
    if (this.ownFingerprint()) return this.ownKey();
    this.ownKeyGeneration ??= this.generateOwnKey(algorithm).finally(() => (this.ownKeyGeneration = null));
    return this.ownKeyGeneration;
  }

  private async generateOwnKey(algorithm: OwnKeyAlgorithm): Promise<OwnKey> {
    // Curve25519 in its RFC 4880bis form (EdDSA + ECDH), which GnuPG 2.2 and
    // every current OpenPGP implementation read; OpenPGP.js's "curve25519"
    // type is the RFC 9580 form that GnuPG 2.2 does not.
    const algorithmOptions = algorithm === "rsa4096" ? { type: "rsa" as const, rsaBits: 4096 } : { type: "ecc" as const, curve: "curve25519Legacy" as const };
    const { privateKey } = await generateKey({
      ...algorithmOptions,
      userIDs: [{ email: this.address }],
      keyExpirationTime: OWN_KEY_LIFETIME_MS / 1000,
      format: "object",
    });
    const refusal = await this.adopt({ key: privateKey, validation: "Fingerprint", source: "local" }, this.address);
    if (refusal) throw new Error(`could not store the new key: ${refusal}`);
    await this.publishAfterChange();
    return this.ownKey();
  }

  async autocryptHeader(): Promise<string> {
    const own = await this.ownKey();
    return formatAutocryptHeader(this.address, await minimalKeyFor(own.publicKey, this.address), "mutual");
  }

  async decryptionKeys(): Promise<PrivateKey[]> {
    const active = this.ownFingerprint();
    const owned = this.store.allOfType("key").flatMap((doc) => (doc.content?.armoredPrivate ? [doc.content] : []));
    // The active key first, then the others from the latest expiry down (as LEAP).
    const expiry = (doc: KeyDoc) => doc.expires ?? Number.MAX_SAFE_INTEGER;
    owned.sort((a, b) => Number(b.fingerprint === active) - Number(a.fingerprint === active) || expiry(b) - expiry(a));
    return Promise.all(owned.map((doc) => readPrivateKey({ armoredKey: doc.armoredPrivate! })));
  }

  // ---- finding keys ----

  async encryptionKeyFor(address: string): Promise<PublicKeyInfo | null> {
    return (await this.findEncryptionKey(address)).key;
  }

  findEncryptionKey(address: string): Promise<KeyDiscovery> {
    const normalised = normaliseAddress(address);
    let discovery = this.discoveries.get(normalised);
    if (!discovery) {
      discovery = this.discover(normalised).finally(() => this.discoveries.delete(normalised));
      this.discoveries.set(normalised, discovery);
    }
    return discovery;
  }

  private async discover(address: string): Promise<KeyDiscovery> {
    const refusals: KeyRefusal[] = [];
    const refuse = (reason: string, fingerprint?: string) => refusals.push({ address, fingerprint, reason });
    const local = await this.activeKeyInfo(address);
    if (local) {
      const reason = await refusalReason(local.key, address);
      if (!reason) return { key: local, refusals };
      // An expired or revoked key in use: look for its successor (LEAP refetched too).
      refuse(reason, local.fingerprint);
    }
    if ((this.nothingFoundUntil.get(address) ?? 0) > Date.now()) {
      refuse("no usable key was found recently; not asking again yet");
      return { key: null, refusals };
    }
    const sources: [string, () => Promise<Found[]>][] = [
      ["the provider's key directory", () => this.fetchFromDirectory(address)],
      ["WKD", () => this.fetchFromWkd(address)],
      ["Autocrypt", () => this.fromAutocryptState(address)],
      ["attached keys", () => this.fromStoredCandidates(address)],
    ];
    for (const [name, fetch] of sources) {
      let found: Found[];
      try {
        found = await fetch();
      } catch (error) {
        refuse(`${name}: ${(error as Error).message}`);
        continue;
      }
      for (const candidate of found) {
        const fingerprint = candidate.key.getFingerprint().toUpperCase();
        const reason = (await refusalReason(candidate.key, address)) ?? (await this.adopt(candidate, address));
        if (reason) {
          refuse(`${name}: ${reason}`, fingerprint);
          continue;
        }
        this.nothingFoundUntil.delete(address);
        return { key: await this.activeKeyInfo(address), refusals };
      }
    }
    this.nothingFoundUntil.set(address, Date.now() + this.discoveryRetryMs);
    return { key: null, refusals };
  }

  private async fetchFromDirectory(address: string): Promise<Found[]> {
    const directory = this.options.directory;
    if (!directory) return [];
    const armored = await directory.lookup(address);
    if (!armored) return [];
    // The provider vouches for its own users only (the LEAP defect fixed here).
    const validation: ValidationLevel = domainOf(address) === directory.domain ? "Provider_Trust" : "Weak_Chain";
    return (await readPublicKeys(armored)).map((key) => ({ key, validation, source: "provider" }));
  }

  private async fetchFromWkd(address: string): Promise<Found[]> {
    if (!this.options.wkd) return [];
    const data = await this.options.wkd.lookup(address);
    if (!data) return [];
    // WKD is served by the address's own domain over authenticated HTTPS: the
    // domain's operator vouches for the key, which is what Provider_Trust means.
    return (await readPublicKeys(data)).map((key) => ({ key, validation: "Provider_Trust", source: "wkd" }));
  }

  private async fromAutocryptState(address: string): Promise<Found[]> {
    const peer = this.store.get(autocryptDocId(address), "autocrypt")?.content;
    if (!peer) return [];
    return (await readPublicKeys(new Uint8Array(Buffer.from(peer.keydata, "base64")))).map((key) => ({ key, validation: "Weak_Chain", source: "autocrypt" }));
  }

  /** Attached keys kept by learnAttachedKey for the address, newest first,
   * other than the one in use (discovery has looked at that already). */
  private async fromStoredCandidates(address: string): Promise<Found[]> {
    const active = this.binding(address)?.fingerprint;
    const isCandidate = (doc: KeyDoc) => doc.source === "attachment" && doc.addresses.includes(address) && doc.fingerprint !== active;
    const docs = this.store
      .allOfType("key")
      .flatMap((doc) => (doc.content && isCandidate(doc.content) ? [doc.content] : []))
      .sort((a, b) => b.firstSeen - a.firstSeen);
    return Promise.all(docs.map(async (doc) => ({ key: await this.parse(doc), validation: "Weak_Chain" as const, source: "attachment" as const })));
  }

  async publicKeysFor(address: string): Promise<PublicKeyInfo[]> {
    const normalised = normaliseAddress(address);
    const active = await this.activeKeyInfo(normalised);
    if (active) return [active];
    // No key chosen yet: what incoming mail taught, at the weakest level, so
    // a first message's signature can be checked against its own Autocrypt
    // header or attached key (as LEAP did).
    const learned = [...(await this.fromAutocryptState(normalised)), ...(await this.fromStoredCandidates(normalised))];
    const infos: PublicKeyInfo[] = [];
    for (const found of learned) {
      if (await refusalReason(found.key, normalised, false)) continue;
      if (infos.some((info) => info.fingerprint === found.key.getFingerprint().toUpperCase())) continue;
      infos.push(await this.info(normalised, found.key, found.validation, found.source));
    }
    return infos;
  }

  // ---- learning from incoming mail ----

  async learnAutocrypt(from: string, headerValue: string, date: Date): Promise<KeyRefusal | null> {
    const address = normaliseAddress(from);
    let header;
    try {
      header = parseAutocryptHeader(headerValue);
    } catch (error) {
      if (error instanceof AutocryptHeaderError) return { address, reason: `invalid Autocrypt header: ${error.message}` };
      throw error;
    }
    // Level 1: a header counts only for the message's sender.
    if (header.addr !== address) return { address, reason: `the Autocrypt header is for ${header.addr}, not the sender ${address}` };
    const key = await readPublicKeys(header.keydata).then(
      (keys) => (keys.length === 1 ? keys[0]! : null),
      () => null,
    );
    if (!key) return { address, reason: "the Autocrypt header's keydata is not one OpenPGP key" };
    const fingerprint = key.getFingerprint().toUpperCase();
    const reason = await refusalReason(key, address);
    if (reason) return { address, fingerprint, reason };
    const id = autocryptDocId(address);
    const state = stateAfterHeader(this.store.get(id, "autocrypt")?.content ?? undefined, header, fingerprint, date);
    if (!state) return { address, fingerprint, reason: "an Autocrypt header from a newer message is already known" };
    this.store.put("autocrypt", id, state);
    this.nothingFoundUntil.delete(address);
    return this.offerToActiveKey(address, { key, validation: "Weak_Chain", source: "autocrypt" });
  }

  async learnNoAutocrypt(from: string, date: Date): Promise<void> {
    const id = autocryptDocId(normaliseAddress(from));
    const state = stateAfterMessageWithoutHeader(this.store.get(id, "autocrypt")?.content ?? undefined, date);
    if (state) this.store.put("autocrypt", id, state);
  }

  async learnAttachedKey(from: string, armored: string): Promise<KeyRefusal | null> {
    const address = normaliseAddress(from);
    const keys = await readPublicKeys(armored).catch(() => null);
    if (!keys) return { address, reason: "the attachment is not an OpenPGP key" };
    const refusals: KeyRefusal[] = [];
    for (const key of keys) {
      const fingerprint = key.getFingerprint().toUpperCase();
      const reason = await refusalReason(key, address);
      if (reason) {
        refusals.push({ address, fingerprint, reason });
        continue;
      }
      this.nothingFoundUntil.delete(address);
      if (this.binding(address)) return this.offerToActiveKey(address, { key, validation: "Weak_Chain", source: "attachment" });
      // Kept for discovery, which asks the provider and WKD first.
      await this.storeKeyMaterial(key, "attachment");
      return null;
    }
    return refusals[0] ?? { address, reason: "the attachment holds no key" };
  }

  /** A key learned from mail for an address that already has one in use:
   * the same key refreshes it, another one replaces it only by the rule. */
  private async offerToActiveKey(address: string, found: Found): Promise<KeyRefusal | null> {
    if (!this.binding(address)) return null;
    const reason = await this.adopt(found, address);
    return reason ? { address, fingerprint: found.key.getFingerprint().toUpperCase(), reason } : null;
  }

  async recordKeyUse(address: string, fingerprint: string, use: KeyUse): Promise<void> {
    const id = activeKeyDocId(normaliseAddress(address));
    this.store.transaction(() => {
      const binding = this.store.get(id, "activeKey")?.content;
      if (!binding || binding.fingerprint !== fingerprint.toUpperCase()) return;
      const flag = use === "encryption" ? "usedForEncryption" : "usedForSigning";
      if (!binding[flag]) this.store.put("activeKey", id, { ...binding, [flag]: true });
    });
  }

  // ---- import, export, list ----

  /** Imports an armored key for `address` (the key's only address when left
   * out). A private key is accepted for the account's own address only, and
   * becomes the own key (the previous one stays for decrypting old mail). */
  async importKey(armored: string, options: { address?: string; validation?: ValidationLevel; passphrase?: string } = {}): Promise<PublicKeyInfo> {
    const wanted = options.address ? normaliseAddress(options.address) : null;
    const refuse = (reason: string, fingerprint?: string): never => {
      throw new KeyRefusedError({ address: wanted ?? "", fingerprint, reason });
    };
    const keys = (await readKeys({ armoredKeys: armored }).catch((error: Error) => refuse(`not an armored OpenPGP key: ${error.message}`))) as (
      | PublicKey
      | PrivateKey
    )[];
    const matching = wanted ? keys.filter((key) => addressesOf(key).includes(wanted)) : keys;
    if (matching.length === 0) {
      const found = keys.flatMap(addressesOf).join(", ") || "no address";
      return refuse(`the key has no user id for ${wanted} (it is for ${found})`);
    }
    if (matching.length > 1) return refuse(`the text holds ${matching.length} keys${wanted ? ` for ${wanted}` : ""}; import one at a time`);
    let key = matching[0]!;
    const fingerprint = key.getFingerprint().toUpperCase();
    const addresses = addressesOf(key);
    if (!wanted && addresses.length !== 1) return refuse(`the key ${fingerprint} is for ${addresses.join(", ") || "no address"}; say which address to import it for`, fingerprint);
    const address = wanted ?? addresses[0]!;
    if (key.isPrivate()) {
      if (address !== this.address) return refuse(`private keys are kept only for the account's own address ${this.address}`, fingerprint);
      if (!key.isDecrypted()) {
        if (options.passphrase === undefined) return refuse(`the private key ${fingerprint} is protected by a passphrase`, fingerprint);
        // Stored unprotected: the store around it is encrypted.
        key = await decryptKey({ privateKey: key, passphrase: options.passphrase }).catch(() => refuse(`wrong passphrase for the private key ${fingerprint}`, fingerprint));
      }
    }
    const reason = (await refusalReason(key, address)) ?? (await this.adopt({ key, validation: key.isPrivate() ? "Fingerprint" : (options.validation ?? "Weak_Chain"), source: "import" }, address));
    if (reason) return refuse(reason, fingerprint);
    this.nothingFoundUntil.delete(address);
    if (key.isPrivate()) await this.publishAfterChange();
    return (await this.activeKeyInfo(address))!;
  }

  /** The armored public key in use for `address` (the own one by default). */
  async exportPublicKey(address = this.address): Promise<string> {
    const binding = this.binding(normaliseAddress(address));
    const doc = binding && this.keyDoc(binding.fingerprint);
    if (!doc) throw new KeyRefusedError({ address, reason: `no key is known for ${address}` });
    return doc.armoredPublic;
  }

  /** The own private key, armored and unprotected: for a backup, or to use it
   * in another OpenPGP program. */
  async exportOwnPrivateKey(): Promise<string> {
    return (await this.ownKey()).privateKey.armor();
  }

  /** Every address with a key in use, the own address first. */
  listKeys(): KeyListing[] {
    const listings = this.store.allOfType("activeKey").flatMap((doc) => {
      const binding = doc.content;
      const key = binding && this.keyDoc(binding.fingerprint);
      if (!binding || !key) return [];
      return [{ ...binding, own: binding.address === this.address && key.armoredPrivate !== null, expires: key.expires }];
    });
    return listings.sort((a, b) => Number(b.own) - Number(a.own) || a.address.localeCompare(b.address));
  }

  // ---- publishing and refreshing ----

  /** Publishes the own public key to the provider's directory; false when
   * there is no directory or no session, throws when the directory fails. */
  async publishOwnKey(): Promise<boolean> {
    const directory = this.options.directory;
    const session = this.options.session?.();
    if (!directory || !session) return false;
    await directory.publish((await this.ownKey()).armoredPublicKey, session);
    return true;
  }

  /** After the own key changed: a failure is only logged, since the
   * refresher publishes again whenever the directory's copy differs. */
  private async publishAfterChange(): Promise<void> {
    try {
      await this.publishOwnKey();
    } catch (error) {
      this.options.log?.warn({ err: error }, "could not publish the account's key; the refresher will try again");
    }
  }

  /** Re-fetches the keys found in the provider directory or by WKD and
   * applies the replacement rule, extends the own key when less than 60 days
   * are left, and publishes it again when the directory's copy differs. */
  async refreshKeys(): Promise<RefreshReport> {
    const report: RefreshReport = { checked: 0, updated: [], ownKeyExtended: false, ownKeyPublished: false, problems: [] };
    if (this.ownFingerprint()) {
      const ownKeyProblem = (error: Error) => {
        report.problems.push(`own key: ${error.message}`);
        return false;
      };
      report.ownKeyExtended = await this.extendOwnKeyIfExpiring().catch(ownKeyProblem);
      report.ownKeyPublished = await this.publishOwnKeyIfStale(report.ownKeyExtended).catch(ownKeyProblem);
    }
    for (const doc of this.store.allOfType("activeKey")) {
      const binding = doc.content;
      if (!binding || binding.address === this.address) continue;
      // Keys learned from mail have no source to ask again.
      if (binding.source !== "provider" && binding.source !== "wkd") continue;
      report.checked++;
      const before = this.keyDoc(binding.fingerprint)?.armoredPublic;
      let found: Found[];
      try {
        found = await (binding.source === "provider" ? this.fetchFromDirectory(binding.address) : this.fetchFromWkd(binding.address));
      } catch (error) {
        report.problems.push(`${binding.address}: ${(error as Error).message}`);
        continue;
      }
      for (const candidate of found) {
        const fingerprint = candidate.key.getFingerprint().toUpperCase();
        // The same key again is merged even when revoked or expired: that is
        // how a revocation reaches us. Another key must be usable.
        const reason =
          (fingerprint === binding.fingerprint ? null : await refusalReason(candidate.key, binding.address)) ??
          (await this.adopt(candidate, binding.address));
        if (reason) report.problems.push(`${binding.address}: ${reason}`);
      }
      const after = this.binding(binding.address);
      if (after && (after.fingerprint !== binding.fingerprint || this.keyDoc(after.fingerprint)?.armoredPublic !== before)) {
        report.updated.push(binding.address);
      }
    }
    return report;
  }

  private async extendOwnKeyIfExpiring(): Promise<boolean> {
    const own = await this.ownKey();
    const expiry = await expiryOf(own.privateKey);
    if (!expiry || expiry.getTime() - Date.now() > OWN_KEY_RENEW_BEFORE_MS) return false;
    if (await own.privateKey.isRevoked()) return false;
    const userIDs = own.privateKey.users.flatMap((user) =>
      user.userID ? [{ name: user.userID.name, email: user.userID.email, comment: user.userID.comment }] : [],
    );
    // New self-signatures with a later expiry: the key material, hence the
    // fingerprint, stays; the expiry counts from the key's creation.
    const newExpiry = Date.now() + OWN_KEY_LIFETIME_MS;
    const { privateKey } = await reformatKey({
      privateKey: own.privateKey,
      userIDs,
      keyExpirationTime: Math.floor((newExpiry - own.privateKey.getCreationTime().getTime()) / 1000),
      format: "object",
    });
    const id = keyDocId(own.fingerprint);
    const doc = this.keyDoc(own.fingerprint)!;
    this.store.put("key", id, {
      ...doc,
      armoredPublic: privateKey.toPublic().armor(),
      armoredPrivate: privateKey.armor(),
      expires: (await expiryOf(privateKey))?.getTime() ?? null,
      refreshedAt: Date.now(),
    });
    this.options.log?.info({ fingerprint: own.fingerprint }, "extended the account's key by a year");
    return true;
  }

  /** Publishes the own key when it was just changed, or when the directory
   * holds another key or an older expiry (a publication that failed before). */
  private async publishOwnKeyIfStale(changed: boolean): Promise<boolean> {
    const directory = this.options.directory;
    if (!directory || !this.options.session?.()) return false;
    const own = await this.ownKey();
    if (!changed) {
      const published = await directory.lookup(this.address);
      const publishedKey = published ? (await readPublicKeys(published)).find((key) => key.getFingerprint().toUpperCase() === own.fingerprint) : undefined;
      const ownExpiry = (await expiryOf(own.publicKey))?.getTime() ?? null;
      if (publishedKey && ((await expiryOf(publishedKey))?.getTime() ?? null) === ownExpiry) return false;
    }
    return this.publishOwnKey();
  }

  // ---- storage ----

  private binding(address: string): ActiveKeyDoc | undefined {
    return this.store.get(activeKeyDocId(address), "activeKey")?.content ?? undefined;
  }

  private keyDoc(fingerprint: string): KeyDoc | undefined {
    return this.store.get(keyDocId(fingerprint), "key")?.content ?? undefined;
  }

  private async parse(doc: KeyDoc): Promise<PublicKey> {
    const cached = this.parsed.get(doc.fingerprint);
    if (cached?.armored === doc.armoredPublic) return cached.key;
    const key = (await readKey({ armoredKey: doc.armoredPublic })) as PublicKey;
    this.parsed.set(doc.fingerprint, { armored: doc.armoredPublic, key });
    return key;
  }

  private async activeKeyInfo(address: string): Promise<PublicKeyInfo | null> {
    const binding = this.binding(address);
    const doc = binding && this.keyDoc(binding.fingerprint);
    if (!binding || !doc) return null;
    return this.info(address, await this.parse(doc), binding.validation, binding.source);
  }

  private async info(address: string, key: PublicKey, validation: ValidationLevel, source: KeySource): Promise<PublicKeyInfo> {
    return { address, fingerprint: key.getFingerprint().toUpperCase(), key, validation, source, expires: await expiryOf(key) };
  }

  /** The key document for `key` merged with what is stored for it already
   * (new self-signatures, subkeys, revocations), not yet written. */
  private async mergedKeyDoc(key: PublicKey | PrivateKey, source: KeySource): Promise<KeyDoc> {
    const fingerprint = key.getFingerprint().toUpperCase();
    const existing = this.keyDoc(fingerprint);
    const publicKey = existing ? await (await this.parse(existing)).update(key.toPublic()) : key.toPublic();
    const armoredPrivate = key.isPrivate() ? (await key.update(publicKey)).armor() : (existing?.armoredPrivate ?? null);
    const now = Date.now();
    return {
      fingerprint,
      armoredPublic: publicKey.armor(),
      armoredPrivate,
      addresses: addressesOf(publicKey),
      expires: (await expiryOf(publicKey))?.getTime() ?? null,
      source: existing?.source ?? source,
      firstSeen: existing?.firstSeen ?? now,
      refreshedAt: now,
    };
  }

  private async storeKeyMaterial(key: PublicKey, source: KeySource): Promise<void> {
    const doc = await this.mergedKeyDoc(key, source);
    this.store.put("key", keyDocId(doc.fingerprint), doc);
  }

  /** Makes `found` the key in use for `address` if the replacement rule
   * allows; returns why not otherwise. The decision is taken on what is
   * stored, and redone if sync changed it while OpenPGP work was under way. */
  private async adopt(found: Found, address: string): Promise<string | null> {
    const fingerprint = found.key.getFingerprint().toUpperCase();
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const bindingDoc = this.store.get(activeKeyDocId(address), "activeKey");
      const current = bindingDoc?.content ?? undefined;
      const currentKeyDoc = current && this.keyDoc(current.fingerprint);
      if (current && current.fingerprint !== fingerprint) {
        if (address === this.address && !found.key.isPrivate()) {
          return `the key ${fingerprint} would replace the account's own key, which only an imported private key can do`;
        }
        const currentKey = currentKeyDoc ? await this.parse(currentKeyDoc) : null;
        const allowed =
          !currentKey ||
          canUpgrade(
            { fingerprint, validation: found.validation, certifiedByCurrent: await isCertifiedBy(found.key, currentKey) },
            {
              fingerprint: current.fingerprint,
              validation: current.validation,
              expires: await expiryOf(currentKey),
              revoked: await currentKey.isRevoked(),
              usedForEncryption: current.usedForEncryption,
              usedForSigning: current.usedForSigning,
            },
          );
        if (!allowed) {
          return `the key ${current.fingerprint} (${current.validation}) is in use for ${address}; the key ${fingerprint} from ${found.source} (${found.validation}) may not replace it`;
        }
      }
      const keyRev = this.store.get(keyDocId(fingerprint), "key")?.rev;
      const keyDoc = await this.mergedKeyDoc(found.key, found.source);
      const sameKey = current?.fingerprint === fingerprint;
      const binding: ActiveKeyDoc = {
        address,
        fingerprint,
        // The same key again keeps the stronger standing and its usage (LEAP's merge).
        validation: sameKey ? strongerLevel(current.validation, found.validation) : found.validation,
        source: sameKey && levelRank(current.validation) >= levelRank(found.validation) ? current.source : found.source,
        usedForEncryption: sameKey ? current.usedForEncryption : false,
        usedForSigning: sameKey ? current.usedForSigning : false,
      };
      const written = this.store.transaction(() => {
        const unchanged =
          this.store.get(activeKeyDocId(address), "activeKey")?.rev === bindingDoc?.rev &&
          this.store.get(keyDocId(fingerprint), "key")?.rev === keyRev;
        if (!unchanged) return false;
        this.store.put("key", keyDocId(fingerprint), keyDoc);
        this.store.put("activeKey", activeKeyDocId(address), binding);
        return true;
      });
      if (written) return null;
    }
    throw new Error(`the keys of ${address} kept changing while a key was being stored`);
  }
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1);
}
