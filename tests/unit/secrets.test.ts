import { readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  AccountExistsError,
  SECRETS_FILE,
  changePassphrase,
  createAccountStore,
} from "../../native-host/store/account-store";
import { WrongPassphraseError } from "../../native-host/store/secrets";
import { tempDir, unlockAccountStore } from "../helpers/temp-store";

let cleanup = () => {};
afterEach(() => cleanup());

describe("account store secrets", () => {
  it("creates, unlocks, refuses a wrong passphrase without change, and changes passphrase", async () => {
    const temp = tempDir();
    cleanup = temp.cleanup;
    const dir = path.join(temp.dir, "alice");
    const store = await createAccountStore(dir, "correct horse");
    store.put("token", "mail-token", { token: "x".repeat(30), created: 1 });
    store.close();
    expect(statSync(path.join(dir, SECRETS_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await expect(createAccountStore(dir, "other")).rejects.toBeInstanceOf(AccountExistsError);

    const before = readFileSync(path.join(dir, SECRETS_FILE));
    await expect(unlockAccountStore(dir, "wrong horse")).rejects.toBeInstanceOf(WrongPassphraseError);
    await expect(changePassphrase(dir, "wrong horse", "new")).rejects.toBeInstanceOf(WrongPassphraseError);
    expect(readFileSync(path.join(dir, SECRETS_FILE)).equals(before)).toBe(true);

    await changePassphrase(dir, "correct horse", "battery staple");
    await expect(unlockAccountStore(dir, "correct horse")).rejects.toBeInstanceOf(WrongPassphraseError);
    const reopened = await unlockAccountStore(dir, "battery staple");
    expect(reopened.get("mail-token", "token")?.content?.token).toBe("x".repeat(30));
    reopened.close();

    const file = JSON.parse(readFileSync(path.join(dir, SECRETS_FILE), "utf8"));
    expect(file.kdf).toMatchObject({ name: "scrypt", N: 2 ** 17, r: 8, p: 1 });
  });

  it("gives a clear error for a damaged or weakened secrets file", async () => {
    const temp = tempDir();
    cleanup = temp.cleanup;
    const dir = path.join(temp.dir, "bob");
    (await createAccountStore(dir, "pw")).close();
    const file = path.join(dir, SECRETS_FILE);
    const good = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(file, "{not json");
    await expect(unlockAccountStore(dir, "pw")).rejects.toThrow(/not valid JSON/);
    writeFileSync(file, JSON.stringify({ ...good, kdf: { ...good.kdf, N: 1024 } }));
    await expect(unlockAccountStore(dir, "pw")).rejects.toThrow(/malformed/);
  });
});
