// Accounts at a provider through the daemon: sign-up, the first round makes
// and publishes the key, a second device logs in with the passphrase alone
// and gets the same account; wrong passphrases and wrong providers are told;
// a passphrase change reaches the provider.
import { readKey } from "openpgp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpRequest } from "../../native-host/http-request";
import { unlockSecret } from "../../native-host/store/account-store";
import { WrongPassphraseError } from "../../native-host/store/secrets";
import { LoginRefusedError } from "../../native-host/sync/provider-client";
import { WrongProviderError } from "../../native-host/sync/provider-link";
import { logInAccount, signUpAccount, startTestDaemon, startTlsProvider, syncNow, type TestDaemon, type TlsProvider } from "../helpers/daemon";
import { plainMessage } from "../helpers/messages";

const ALICE = "alice@example.org";
const PASSPHRASE = "correct horse battery staple";

let provider: TlsProvider;
const daemons: TestDaemon[] = [];

beforeAll(async () => {
  provider = await startTlsProvider();
});

afterAll(async () => {
  for (const daemon of daemons) await daemon.stop();
  await provider?.stop();
});

async function device(): Promise<TestDaemon> {
  const started = await startTestDaemon();
  daemons.push(started);
  return started;
}

describe("accounts at a provider", () => {
  it("signs up, makes and publishes the key, and a second device gets the same account", async () => {
    const first = await device();
    const alice = await signUpAccount(first.daemon, provider, ALICE, PASSPHRASE);
    alice.mail.requireMailbox("INBOX").add(plainMessage(1), { flags: ["\\Seen"] });
    await syncNow(alice);
    const fingerprint = alice.keys!.ownFingerprint();
    expect(fingerprint).toMatch(/^[0-9A-F]{40}$/);
    const published = await httpRequest(`${provider.url}/keys/${encodeURIComponent(ALICE)}`, { ca: provider.ca, timeoutMs: 5000, maxResponseBytes: 1 << 20 });
    expect(published.status).toBe(200);
    expect(published.body.toString("utf8")).toBe(await alice.keys!.exportPublic());

    const second = await device();
    const again = await logInAccount(second.daemon, provider, ALICE, PASSPHRASE);
    await syncNow(again);
    expect(again.keys!.ownFingerprint()).toBe(fingerprint);
    expect(again.tokens.current()).toBe(alice.tokens.current());
    const inbox = again.mail.requireMailbox("INBOX");
    expect(inbox.counts().messages).toBe(1);
    expect(inbox.get(1)!.raw().equals(plainMessage(1))).toBe(true);
  });

  it("refuses a wrong passphrase on a new device, and an address of another domain", async () => {
    const third = await device();
    await expect(logInAccount(third.daemon, provider, ALICE, "wrong passphrase")).rejects.toThrow(LoginRefusedError);
    await expect(signUpAccount(third.daemon, provider, "bob@example.net", PASSPHRASE)).rejects.toThrow(WrongProviderError);
    expect(third.daemon.knownAddresses()).toEqual([]);
  });

  it("changes the passphrase everywhere: the provider's log-in and blob follow", async () => {
    const first = await device();
    const bob = await signUpAccount(first.daemon, provider, "bob@example.org", PASSPHRASE);
    await syncNow(bob);
    await expect(first.daemon.changePassphrase("bob@example.org", "wrong", "new passphrase")).rejects.toThrow(WrongPassphraseError);
    await first.daemon.changePassphrase("bob@example.org", PASSPHRASE, "new passphrase");
    await syncNow(bob);

    const second = await device();
    await expect(logInAccount(second.daemon, provider, "bob@example.org", PASSPHRASE)).rejects.toThrow(LoginRefusedError);
    const again = await logInAccount(second.daemon, provider, "bob@example.org", "new passphrase");
    await syncNow(again);
    expect(again.keys!.ownFingerprint()).toBe(bob.keys!.ownFingerprint());
    // The first device's own files follow too.
    await expect(unlockSecret(bob.dir, "new passphrase")).resolves.toHaveLength(64);
  });

  it("makes an RSA-4096 key when asked, Curve25519 otherwise", async () => {
    const local = await device();
    const rsa = await local.daemon.createAccount("rsa@example.org", PASSPHRASE, undefined, "rsa4096");
    const ecc = await local.daemon.createAccount("ecc@example.org", PASSPHRASE);
    expect((await readKey({ armoredKey: await rsa.keys!.exportPublic() })).getAlgorithmInfo()).toMatchObject({ algorithm: "rsaEncryptSign", bits: 4096 });
    expect((await readKey({ armoredKey: await ecc.keys!.exportPublic() })).getAlgorithmInfo()).toMatchObject({ algorithm: "eddsaLegacy" });
  });
});
