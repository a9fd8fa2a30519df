// The keymanager on a real encrypted store, without network: the own key,
// import and export with their refusals, learning from mail, the replacement
// rule, discovery order (with in-memory stand-ins for the directory and WKD;
// tests/integration/keys-*.test.ts use real HTTP and HTTPS servers), and the
// own key's extension.
import { type PrivateKey, createMessage, decrypt, encrypt, generateKey, readKey, readMessage } from "openpgp";
import { afterEach, describe, expect, it } from "vitest";
import { AccountKeyManager, KeyRefusedError } from "../../native-host/keys/keymanager";
import type { KeyDirectory } from "../../native-host/keys/key-directory";
import { openTempStore } from "../helpers/temp-store";

const ME = "alice@example.org";
const DAY_S = 24 * 60 * 60;

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

async function newKeymanager(options: Omit<ConstructorParameters<typeof AccountKeyManager>[0], "store" | "address"> = {}, address = ME) {
  const temp = await openTempStore();
  cleanups.push(temp.close);
  return { keys: new AccountKeyManager({ store: temp.store, address, ...options }), store: temp.store };
}

/** A Curve25519 key pair for `email` (fast); `date` backdates it. */
async function keyPair(email: string, options: { expiresInS?: number; date?: Date } = {}) {
  const { privateKey, publicKey } = await generateKey({
    type: "ecc",
    curve: "curve25519Legacy",
    userIDs: [{ email }],
    keyExpirationTime: options.expiresInS,
    date: options.date,
    format: "object",
  });
  return { privateKey, publicKey, armored: publicKey.armor() };
}

async function encryptTo(armoredPublic: string, text: string): Promise<string> {
  return encrypt({ message: await createMessage({ text }), encryptionKeys: await readKey({ armoredKey: armoredPublic }) });
}

async function decryptWith(keys: PrivateKey[], armored: string): Promise<string> {
  const { data } = await decrypt({ message: await readMessage({ armoredMessage: armored }), decryptionKeys: keys });
  return data as string;
}

describe("the own key", () => {
  it("is generated once (Curve25519), kept with its private part, and used by a reopened keymanager", async () => {
    const temp = await openTempStore();
    cleanups.push(temp.close);
    const keys = new AccountKeyManager({ store: temp.store, address: "Alice@Example.org" });
    await expect(keys.ownKey()).rejects.toThrow(/has no key yet/);
    const [first, concurrent] = await Promise.all([keys.ensureOwnKey(), keys.ensureOwnKey()]);
    expect(concurrent.fingerprint).toBe(first.fingerprint);
    expect(first.privateKey.getAlgorithmInfo()).toEqual({ algorithm: "eddsaLegacy", curve: "ed25519Legacy" });
    expect(first.publicKey.getUserIDs()).toEqual(["<alice@example.org>"]);
    const expiry = (await first.publicKey.getExpirationTime()) as Date;
    expect(expiry.getTime() - Date.now()).toBeGreaterThan(360 * DAY_S * 1000);
    expect(temp.store.allOfType("key")).toHaveLength(1);

    const reopened = new AccountKeyManager({ store: temp.store, address: ME });
    expect(reopened.ownFingerprint()).toBe(first.fingerprint);
    expect((await reopened.ensureOwnKey()).fingerprint).toBe(first.fingerprint);
    const ciphertext = await encryptTo(first.armoredPublicKey, "to myself");
    expect(await decryptWith([(await reopened.ownKey()).privateKey], ciphertext)).toBe("to myself");
    expect(reopened.listKeys()).toEqual([
      expect.objectContaining({ address: ME, fingerprint: first.fingerprint, own: true, validation: "Fingerprint", source: "local" }),
    ]);
  });

  it("can be RSA-4096 on request (slow: RSA key generation takes seconds)", async () => {
    const { keys } = await newKeymanager();
    const own = await keys.ensureOwnKey("rsa4096");
    expect(own.privateKey.getAlgorithmInfo()).toEqual({ algorithm: "rsaEncryptSign", bits: 4096 });
    // Its Autocrypt header is far over 998 characters, so it must be folded.
    const header = await keys.autocryptHeader();
    expect(header.length).toBeGreaterThan(998);
    for (const line of `Autocrypt: ${header}`.split("\r\n")) expect(line.length).toBeLessThanOrEqual(78);
  });

  it("exports armored, public and private, and the private part imports into a new account store", async () => {
    const { keys } = await newKeymanager();
    const own = await keys.ensureOwnKey();
    expect(await keys.exportPublicKey()).toBe(own.armoredPublicKey);
    const { keys: secondDevice } = await newKeymanager();
    const imported = await secondDevice.importKey(await keys.exportOwnPrivateKey(), { address: ME });
    expect(imported.fingerprint).toBe(own.fingerprint);
    expect(secondDevice.ownFingerprint()).toBe(own.fingerprint);
  });

  it("is extended by a year when less than 60 days are left, keeping its fingerprint, and published again", async () => {
    const published: string[] = [];
    const directory: KeyDirectory = {
      domain: "example.org",
      lookup: async () => published.at(-1) ?? null,
      publish: async (armored) => void published.push(armored),
    };
    const { keys } = await newKeymanager({ directory, session: () => ({ address: ME, token: "session-token" }) });
    const soon = await keyPair(ME, { expiresInS: 30 * DAY_S, date: new Date(Date.now() - 10_000) });
    await keys.importKey(soon.privateKey.armor());
    expect(published).toHaveLength(1);

    const report = await keys.refreshKeys();
    expect(report).toMatchObject({ ownKeyExtended: true, ownKeyPublished: true, problems: [] });
    const own = await keys.ownKey();
    expect(own.fingerprint).toBe(soon.publicKey.getFingerprint().toUpperCase());
    const expiry = (await own.publicKey.getExpirationTime()) as Date;
    expect(expiry.getTime() - Date.now()).toBeGreaterThan(364 * DAY_S * 1000);
    const publishedExpiry = (await (await readKey({ armoredKey: published.at(-1)! })).getExpirationTime()) as Date;
    expect(publishedExpiry.getTime()).toBe(expiry.getTime());
    // The old key material still decrypts what was encrypted to it.
    expect(await decryptWith([own.privateKey], await encryptTo(soon.armored, "still mine"))).toBe("still mine");

    // Far from expiry and published as it is: nothing to do.
    expect(await keys.refreshKeys()).toMatchObject({ ownKeyExtended: false, ownKeyPublished: false });
    expect(published).toHaveLength(2);
  });

  it("is replaced only by an imported private key; the old one still decrypts", async () => {
    const { keys } = await newKeymanager();
    const old = await keys.ensureOwnKey();
    const intruder = await keyPair(ME);
    expect(await keys.learnAttachedKey(ME, intruder.armored)).toMatchObject({ reason: expect.stringMatching(/only an imported private key/) });
    await expect(keys.importKey(intruder.armored)).rejects.toThrow(/only an imported private key/);
    expect(keys.ownFingerprint()).toBe(old.fingerprint);

    const oldMail = await encryptTo(old.armoredPublicKey, "old mail");
    const replacement = await keyPair(ME);
    await keys.importKey(replacement.privateKey.armor());
    expect(keys.ownFingerprint()).toBe(replacement.publicKey.getFingerprint().toUpperCase());
    const decryptionKeys = await keys.decryptionKeys();
    expect(decryptionKeys.map((key) => key.getFingerprint().toUpperCase())).toEqual([keys.ownFingerprint(), old.fingerprint]);
    expect(await decryptWith(decryptionKeys, oldMail)).toBe("old mail");
  });
});

describe("importing keys", () => {
  it("refuses wrong-address, expired, revoked and foreign private keys with a clear reason", async () => {
    const { keys } = await newKeymanager();
    const bob = await keyPair("bob@example.net");
    const expired = await keyPair("bob@example.net", { date: new Date(Date.now() - 400 * DAY_S * 1000), expiresInS: 365 * DAY_S });
    const revoked = await keyPair("bob@example.net");
    const revokedKey = await revoked.privateKey.revoke();

    const refusal = async (armored: string, address?: string) => {
      const error = await keys.importKey(armored, { address }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(KeyRefusedError);
      return (error as Error).message;
    };
    expect(await refusal(bob.armored, "carol@example.net")).toMatch(/has no user id for carol@example\.net \(it is for bob@example\.net\)/);
    expect(await refusal(expired.armored)).toMatch(/expired on \d{4}-/);
    expect(await refusal(revokedKey.toPublic().armor())).toMatch(/is revoked/);
    expect(await refusal(bob.privateKey.armor())).toMatch(/private keys are kept only for the account's own address/);
    expect(await refusal("not a key")).toMatch(/not an armored OpenPGP key/);
    expect(keys.listKeys()).toEqual([]);

    const imported = await keys.importKey(bob.armored, { address: "BOB@example.net" });
    expect(imported).toMatchObject({ address: "bob@example.net", validation: "Weak_Chain", source: "import" });
    expect((await keys.encryptionKeyFor("bob@example.net"))?.fingerprint).toBe(imported.fingerprint);
  });

  it("asks for the passphrase of a protected private key and stores it unprotected", async () => {
    const { keys } = await newKeymanager();
    const { privateKey } = await generateKey({ type: "ecc", curve: "curve25519Legacy", userIDs: [{ email: ME }], passphrase: "hunter2", format: "object" });
    await expect(keys.importKey(privateKey.armor())).rejects.toThrow(/protected by a passphrase/);
    await expect(keys.importKey(privateKey.armor(), { passphrase: "wrong" })).rejects.toThrow(/wrong passphrase/);
    await keys.importKey(privateKey.armor(), { passphrase: "hunter2" });
    expect((await keys.ownKey()).privateKey.isDecrypted()).toBe(true);
  });
});

describe("learning from incoming mail", () => {
  it("takes a peer's key from its Autocrypt header (minimal key) and encrypts to it", async () => {
    const { keys: alice } = await newKeymanager();
    const { keys: bob } = await newKeymanager({}, "bob@example.net");
    await alice.ensureOwnKey();
    const header = await alice.autocryptHeader();
    expect(header).toMatch(/^addr=alice@example\.org; prefer-encrypt=mutual; keydata=\r\n /);

    expect(await bob.learnAutocrypt(ME, header, new Date())).toBeNull();
    const found = await bob.encryptionKeyFor(ME);
    expect(found).toMatchObject({ address: ME, fingerprint: alice.ownFingerprint(), validation: "Weak_Chain", source: "autocrypt" });
    expect(found!.key.users).toHaveLength(1);
    expect(found!.key.subkeys).toHaveLength(1);
    const ciphertext = await encryptTo(found!.key.armor(), "hello alice");
    expect(await decryptWith(await alice.decryptionKeys(), ciphertext)).toBe("hello alice");
  });

  it("refuses a header for another address than the sender, and an older message's header", async () => {
    const { keys: alice } = await newKeymanager();
    const { keys: bob } = await newKeymanager({}, "bob@example.net");
    await alice.ensureOwnKey();
    const header = await alice.autocryptHeader();
    expect(await bob.learnAutocrypt("mallory@example.org", header, new Date())).toMatchObject({
      reason: "the Autocrypt header is for alice@example.org, not the sender mallory@example.org",
    });
    expect(await bob.learnAutocrypt(ME, header, new Date("2025-01-02T00:00:00Z"))).toBeNull();
    expect(await bob.learnAutocrypt(ME, header, new Date("2025-01-01T00:00:00Z"))).toMatchObject({
      reason: expect.stringMatching(/newer message/),
    });
  });

  it("uses a key in use until the replacement rule allows another: a key it certified, or a checked fingerprint", async () => {
    const { keys } = await newKeymanager();
    const bob = await keyPair("bob@example.net");
    const current = await keys.importKey(bob.armored, { validation: "Provider_Trust" });
    await keys.recordKeyUse("bob@example.net", current.fingerprint, "encryption");
    await keys.recordKeyUse("bob@example.net", current.fingerprint, "signing");

    const stranger = await keyPair("bob@example.net");
    expect(await keys.learnAttachedKey("bob@example.net", stranger.armored)).toMatchObject({
      reason: expect.stringMatching(/is in use for bob@example\.net; the key .* from attachment \(Weak_Chain\) may not replace it/),
    });
    expect((await keys.encryptionKeyFor("bob@example.net"))?.fingerprint).toBe(current.fingerprint);

    const successor = await keyPair("bob@example.net");
    const certified = await successor.publicKey.signAllUsers([bob.privateKey]);
    expect(await keys.learnAttachedKey("bob@example.net", certified.armor())).toBeNull();
    const afterRollover = await keys.encryptionKeyFor("bob@example.net");
    expect(afterRollover).toMatchObject({ fingerprint: successor.publicKey.getFingerprint().toUpperCase(), validation: "Weak_Chain" });

    await keys.importKey(stranger.armored, { validation: "Fingerprint" });
    expect((await keys.encryptionKeyFor("bob@example.net"))?.fingerprint).toBe(stranger.publicKey.getFingerprint().toUpperCase());
  });

  it("merges a newer copy of the same key (here: its revocation) and then refuses to use it", async () => {
    const { keys } = await newKeymanager();
    const bob = await keyPair("bob@example.net");
    await keys.importKey(bob.armored);
    const revoked = (await bob.privateKey.revoke()).toPublic();
    // Learning refuses a revoked key; re-import refuses it too; only a refresh merges it (see the integration test).
    expect(await keys.learnAttachedKey("bob@example.net", revoked.armor())).toMatchObject({ reason: expect.stringMatching(/is revoked/) });
    expect((await keys.encryptionKeyFor("bob@example.net"))?.fingerprint).toBe(bob.publicKey.getFingerprint().toUpperCase());
  });
});

describe("discovery", () => {
  it("asks local, then the provider directory, then WKD, then Autocrypt state, then attached keys", async () => {
    const asked: string[] = [];
    const sources = { provider: null as string | null, wkd: null as Uint8Array | null };
    const directory: KeyDirectory = {
      domain: "example.org",
      lookup: async (address) => {
        asked.push(`provider ${address}`);
        return sources.provider;
      },
      publish: async () => {},
    };
    const wkd = {
      lookup: async (address: string) => {
        asked.push(`wkd ${address}`);
        return sources.wkd;
      },
    };
    const { keys } = await newKeymanager({ directory, wkd, discoveryRetryMs: 0 });
    const carol = await keyPair("carol@example.org");
    const dave = await keyPair("dave@example.net");
    const erin = await keyPair("erin@example.net");

    // Only an attached key: found last, after every other source was asked.
    expect(await keys.learnAttachedKey("carol@example.org", carol.armored)).toBeNull();
    const attached = await keys.findEncryptionKey("carol@example.org");
    expect(asked).toEqual(["provider carol@example.org", "wkd carol@example.org"]);
    expect(attached.key).toMatchObject({ source: "attachment", validation: "Weak_Chain" });
    // Now it is local: no more lookups.
    asked.length = 0;
    expect((await keys.encryptionKeyFor("carol@example.org"))?.source).toBe("attachment");
    expect(asked).toEqual([]);

    // Autocrypt state comes before attached keys.
    const { keys: daveKeys } = await newKeymanager({}, "dave@example.net");
    await daveKeys.importKey(dave.privateKey.armor());
    await keys.learnAttachedKey("dave@example.net", (await keyPair("dave@example.net")).armored);
    await keys.learnAutocrypt("dave@example.net", await daveKeys.autocryptHeader(), new Date());
    expect(await keys.encryptionKeyFor("dave@example.net")).toMatchObject({ source: "autocrypt", fingerprint: daveKeys.ownFingerprint() });

    // WKD before Autocrypt; the provider before WKD, Provider_Trust only for its own domain.
    sources.wkd = erin.publicKey.write();
    expect(await keys.encryptionKeyFor("erin@example.net")).toMatchObject({ source: "wkd", validation: "Provider_Trust" });
    sources.provider = (await keyPair("frank@example.net")).armored;
    expect(await keys.encryptionKeyFor("frank@example.net")).toMatchObject({ source: "provider", validation: "Weak_Chain" });
    sources.provider = (await keyPair("grace@example.org")).armored;
    expect(await keys.encryptionKeyFor("grace@example.org")).toMatchObject({ source: "provider", validation: "Provider_Trust" });
  });

  it("says why nothing usable was found, and does not ask again at once", async () => {
    let lookups = 0;
    const expired = await keyPair("heidi@example.org", { date: new Date(Date.now() - 400 * DAY_S * 1000), expiresInS: 365 * DAY_S });
    const directory: KeyDirectory = {
      domain: "example.org",
      lookup: async () => {
        lookups++;
        return expired.armored;
      },
      publish: async () => {},
    };
    const wkd = {
      lookup: async () => {
        throw new Error("openpgpkey.example.org: no answer within 10000 ms");
      },
    };
    const { keys } = await newKeymanager({ directory, wkd });
    const discovery = await keys.findEncryptionKey("heidi@example.org");
    expect(discovery.key).toBeNull();
    expect(discovery.refusals.map((refusal) => refusal.reason)).toEqual([
      expect.stringMatching(/^the provider's key directory: the key [0-9A-F]{40} expired on /),
      "WKD: openpgpkey.example.org: no answer within 10000 ms",
    ]);
    expect(await keys.encryptionKeyFor("heidi@example.org")).toBeNull();
    expect(lookups).toBe(1);
  });
});
