// Key interop with GnuPG, in a throwaway GNUPGHOME: keys made by gpg import
// here and work (we encrypt, gpg decrypts; gpg encrypts, we decrypt with an
// imported gpg secret key), and our keys, public and private, fresh and
// extended, import into gpg and work there. Message-level interop (PGP/MIME
// sign + encrypt) is tested with the SMTP gateway.
import { createMessage, decrypt, encrypt, generateKey, readMessage } from "openpgp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountKeyManager } from "../../native-host/keys/keymanager";
import { openTempStore, tempDir } from "../helpers/temp-store";
import { expectSuccess, findOnPath, requireTool, runTool } from "../helpers/tools";

const skipReason = requireTool({ name: "gpg", install: "apt-get install gnupg" }, "the GnuPG key interop test");
const GPG_TIMEOUT_MS = 30_000;

let gnupgHome: { dir: string; cleanup: () => void };
const cleanups: (() => void)[] = [];

beforeAll(() => {
  if (skipReason) return;
  gnupgHome = tempDir("bitmask-gnupg-");
});

afterAll(async () => {
  for (const cleanup of cleanups) cleanup();
  if (skipReason) return;
  // gpg started an agent for this home: stop it before removing the folder.
  if (findOnPath("gpgconf")) await runTool("gpgconf", ["--kill", "all"], { env: gpgEnv(), timeoutMs: GPG_TIMEOUT_MS });
  gnupgHome.cleanup();
});

function gpgEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GNUPGHOME: gnupgHome.dir };
}

/** Runs gpg non-interactively with unprotected keys; fails with its output. */
async function gpg(args: string[], input?: string): Promise<string> {
  const run = await runTool("gpg", ["--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", "", "--trust-model", "always", ...args], {
    env: gpgEnv(),
    timeoutMs: GPG_TIMEOUT_MS,
    input,
  });
  return expectSuccess(run, `gpg ${args.join(" ")}`).stdout;
}

/** Makes an ed25519/cv25519 key in gpg and returns its fingerprint. */
async function gpgGenerate(address: string): Promise<string> {
  const before = await gpgPrimaryFingerprints(address);
  await gpg(["--quick-gen-key", `<${address}>`, "future-default", "default", "1y"]);
  return (await gpgPrimaryFingerprints(address)).find((fingerprint) => !before.includes(fingerprint))!;
}

/** The primary keys gpg holds for an address (each "pub" record's first "fpr"). */
async function gpgPrimaryFingerprints(address: string): Promise<string[]> {
  const run = await runTool("gpg", ["--batch", "--with-colons", "--list-keys", `<${address}>`], { env: gpgEnv(), timeoutMs: GPG_TIMEOUT_MS });
  if (run.code !== 0) return [];
  const lines = run.stdout.split("\n");
  return lines.flatMap((line, index) => (line.startsWith("pub:") ? [/^fpr:+([0-9A-F]{40}):/.exec(lines[index + 1] ?? "")![1]!] : []));
}

/** The expiry gpg sees for a key (seconds since the epoch), from its colon listing. */
async function gpgExpiry(fingerprint: string): Promise<number> {
  const listing = await gpg(["--with-colons", "--list-keys", fingerprint]);
  return Number(/^pub:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:(\d+):/m.exec(listing)![1]);
}

async function keymanager(address: string) {
  const temp = await openTempStore();
  cleanups.push(temp.close);
  return new AccountKeyManager({ store: temp.store, address });
}

async function openpgpEncrypt(keys: AccountKeyManager, address: string, text: string): Promise<string> {
  const key = await keys.encryptionKeyFor(address);
  if (!key) throw new Error(`no key for ${address}`);
  return encrypt({ message: await createMessage({ text }), encryptionKeys: key.key });
}

async function openpgpDecrypt(keys: AccountKeyManager, armored: string): Promise<string> {
  const { data } = await decrypt({ message: await readMessage({ armoredMessage: armored }), decryptionKeys: await keys.decryptionKeys() });
  return data as string;
}

describe.skipIf(skipReason)("GnuPG key interop", () => {
  it("imports a gpg public key: we encrypt to it and gpg decrypts", async () => {
    const fingerprint = await gpgGenerate("bob@example.net");
    const keys = await keymanager("alice@example.org");
    const imported = await keys.importKey(await gpg(["--armor", "--export", fingerprint]), { address: "bob@example.net" });
    expect(imported.fingerprint).toBe(fingerprint);
    const ciphertext = await openpgpEncrypt(keys, "bob@example.net", "hello bob, from OpenPGP.js");
    expect(await gpg(["--decrypt"], ciphertext)).toBe("hello bob, from OpenPGP.js");
  });

  it("imports a gpg secret key as the own key: gpg encrypts to it and we decrypt", async () => {
    const fingerprint = await gpgGenerate("carol@example.org");
    const keys = await keymanager("carol@example.org");
    await keys.importKey(await gpg(["--armor", "--export-secret-keys", fingerprint]));
    expect(keys.ownFingerprint()).toBe(fingerprint);
    const ciphertext = await gpg(["--armor", "--encrypt", "--recipient", fingerprint], "hello carol, from GnuPG");
    expect(await openpgpDecrypt(keys, ciphertext)).toBe("hello carol, from GnuPG");
  });

  it("gives gpg our public key: gpg encrypts to it and we decrypt", async () => {
    const keys = await keymanager("dave@example.org");
    const own = await keys.ensureOwnKey();
    await gpg(["--import"], await keys.exportPublicKey());
    expect(await gpgPrimaryFingerprints("dave@example.org")).toEqual([own.fingerprint]);
    expect(await gpgExpiry(own.fingerprint)).toBe(keys.listKeys()[0]!.expires! / 1000);
    const ciphertext = await gpg(["--armor", "--encrypt", "--recipient", own.fingerprint], "hello dave, from GnuPG");
    expect(await openpgpDecrypt(keys, ciphertext)).toBe("hello dave, from GnuPG");
  });

  it("gives gpg our private key: gpg decrypts what we encrypted to ourselves", async () => {
    const keys = await keymanager("erin@example.org");
    await keys.ensureOwnKey();
    await gpg(["--import"], await keys.exportOwnPrivateKey());
    const ciphertext = await openpgpEncrypt(keys, "erin@example.org", "hello erin, from OpenPGP.js");
    expect(await gpg(["--decrypt"], ciphertext)).toBe("hello erin, from OpenPGP.js");
  });

  it("gives gpg our extended key: same fingerprint, the new expiry", async () => {
    const keys = await keymanager("grace@example.org");
    const { privateKey } = await generateKey({
      type: "ecc",
      curve: "curve25519Legacy",
      userIDs: [{ email: "grace@example.org" }],
      keyExpirationTime: 30 * 24 * 60 * 60,
      date: new Date(Date.now() - 60_000),
      format: "object",
    });
    await keys.importKey(privateKey.armor());
    const fingerprint = keys.ownFingerprint()!;
    await gpg(["--import"], await keys.exportPublicKey());
    const before = await gpgExpiry(fingerprint);
    expect((await keys.refreshKeys()).ownKeyExtended).toBe(true);
    await gpg(["--import"], await keys.exportPublicKey());
    const after = await gpgExpiry(fingerprint);
    expect(after - before).toBeGreaterThan(300 * 24 * 60 * 60);
    expect(after).toBe(keys.listKeys()[0]!.expires! / 1000);
    expect(await gpgPrimaryFingerprints("grace@example.org")).toEqual([fingerprint]);
  });

  it("takes a gpg key rollover certified by the old key", async () => {
    // gpg: frank's old key certifies his new one.
    const oldFingerprint = await gpgGenerate("frank@example.net");
    const keys = await keymanager("alice@example.org");
    await keys.importKey(await gpg(["--armor", "--export", oldFingerprint]), { validation: "Provider_Trust" });
    await keys.recordKeyUse("frank@example.net", oldFingerprint, "encryption");
    await keys.recordKeyUse("frank@example.net", oldFingerprint, "signing");
    const newFingerprint = await gpgGenerate("frank@example.net");
    const uncertified = await gpg(["--armor", "--export", newFingerprint]);
    expect(await keys.learnAttachedKey("frank@example.net", uncertified)).toMatchObject({ reason: expect.stringMatching(/may not replace it/) });
    await gpg(["--default-key", oldFingerprint, "--quick-sign-key", newFingerprint]);
    expect(await keys.learnAttachedKey("frank@example.net", await gpg(["--armor", "--export", newFingerprint]))).toBeNull();
    expect((await keys.encryptionKeyFor("frank@example.net"))?.fingerprint).toBe(newFingerprint);
  });
});
