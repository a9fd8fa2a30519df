// One account's folder: the secrets file and the SQLCipher store beside it.
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { DocumentStore } from "./document-store";
import { newStorageSecret, readSecretsFile, type SecretsFile, unwrapSecret, wrapSecret, writeSecretsFile } from "./secrets";

export const SECRETS_FILE = "secrets.json";
export const STORE_FILE = "store.db";

export class AccountExistsError extends Error {
  constructor(dir: string) {
    super(`an account store already exists in ${dir}`);
    this.name = "AccountExistsError";
  }
}

export class NoAccountError extends Error {
  constructor(dir: string) {
    super(`no account store in ${dir}`);
    this.name = "NoAccountError";
  }
}

export function accountStoreExists(dir: string): boolean {
  return existsSync(path.join(dir, SECRETS_FILE));
}

/** Creates the folder (mode 0700) and an empty store under `secret`: a
 * fresh one, or a second device's, fetched from the provider. */
export async function createAccountStore(dir: string, passphrase: string, secret = newStorageSecret()): Promise<DocumentStore> {
  if (accountStoreExists(dir)) throw new AccountExistsError(dir);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const wrapped = await wrapSecret(secret, passphrase);
  // The store first: a crash before the secrets file is written leaves no
  // account (a later create starts over), never a secrets file for no store.
  await fs.rm(path.join(dir, STORE_FILE), { force: true });
  const store = await DocumentStore.open(path.join(dir, STORE_FILE), secret);
  await writeSecretsFile(path.join(dir, SECRETS_FILE), wrapped);
  return store;
}

export async function unlockSecret(dir: string, passphrase: string): Promise<Uint8Array> {
  if (!accountStoreExists(dir)) throw new NoAccountError(dir);
  return unwrapSecret(await readSecretsFile(path.join(dir, SECRETS_FILE)), passphrase);
}

/** Re-wraps the storage secret under a new passphrase; the store is
 * untouched. `beforeWrite` (telling the provider) runs before the file is
 * replaced; if it throws, nothing changes here. */
export async function changePassphrase(
  dir: string,
  oldPassphrase: string,
  newPassphrase: string,
  beforeWrite?: (secret: Uint8Array, wrapped: SecretsFile) => Promise<void>,
): Promise<void> {
  const secret = await unlockSecret(dir, oldPassphrase);
  const wrapped = await wrapSecret(secret, newPassphrase);
  await beforeWrite?.(secret, wrapped);
  await writeSecretsFile(path.join(dir, SECRETS_FILE), wrapped);
}
