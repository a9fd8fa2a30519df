// OpenPGP checks on keys published to the directory, and the encryption of
// incoming mail to them.
import { createMessage, encrypt, readKey, type PublicKey } from "openpgp";

export class UnusableKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnusableKeyError";
  }
}

/** The key if it is a public key for `address` that can encrypt now;
 * UnusableKeyError otherwise. */
export async function readPublishableKey(armored: string, address: string): Promise<PublicKey> {
  let key;
  try {
    key = await readKey({ armoredKey: armored });
  } catch {
    throw new UnusableKeyError("not an armored OpenPGP key");
  }
  // A private key must never be stored by the provider, even by mistake.
  if (key.isPrivate()) throw new UnusableKeyError("this is a private key: publish the public key only");
  const addresses = key.users.map((user) => user.userID?.email.toLowerCase());
  if (!addresses.includes(address)) throw new UnusableKeyError(`the key has no user ID for ${address}`);
  try {
    await key.getEncryptionKey();
  } catch {
    throw new UnusableKeyError("the key cannot encrypt (expired, revoked or no encryption subkey)");
  }
  return key;
}

/** Raw mail bytes as an armored OpenPGP message to `key`. */
export async function encryptMail(raw: Uint8Array, armoredKey: string): Promise<string> {
  const key = await readKey({ armoredKey });
  return encrypt({ message: await createMessage({ binary: raw, format: "binary" }), encryptionKeys: key, format: "armored" });
}
