import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { STORE_FILE, unlockSecret } from "../../native-host/store/account-store";
import { DocumentStore } from "../../native-host/store/document-store";
import { Account } from "../../native-host/mail/account";

export function tempDir(prefix = "bitmask-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A store on a random secret in a fresh temp folder (skips scrypt: tests of
 * the secrets file cover the passphrase path). */
export async function openTempStore() {
  const { dir, cleanup } = tempDir();
  const secret = new Uint8Array(randomBytes(64));
  const file = path.join(dir, "store.db");
  const store = await DocumentStore.open(file, secret);
  return {
    dir,
    file,
    secret,
    store,
    close: () => {
      store.close();
      cleanup();
    },
  };
}

export async function openTempAccount() {
  const temp = await openTempStore();
  return { ...temp, account: Account.open(temp.store) };
}

/** Opens an account folder's store as the daemon does at unlock; a wrong
 * passphrase throws WrongPassphraseError and changes nothing. */
export async function unlockAccountStore(dir: string, passphrase: string): Promise<DocumentStore> {
  return DocumentStore.open(path.join(dir, STORE_FILE), await unlockSecret(dir, passphrase));
}
