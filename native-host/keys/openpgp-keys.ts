// What the keymanager asks of an OpenPGP key (OpenPGP.js): which addresses it
// is for, whether it may be used for an address now, when it expires, and
// its minimal form for an Autocrypt header.
import { type Key, type PublicKey, readKey, readKeys } from "openpgp";

/** Addresses are compared lower-cased: the keymanager stores them so. */
export function normaliseAddress(address: string): string {
  return address.trim().toLowerCase();
}

/** The distinct lower-cased e-mail addresses in the key's user ids. */
export function addressesOf(key: Key): string[] {
  const addresses = key.users.flatMap((user) => (user.userID?.email ? [normaliseAddress(user.userID.email)] : []));
  return [...new Set(addresses)];
}

/** When the key stops being usable: null when it never expires. */
export async function expiryOf(key: Key): Promise<Date | null> {
  const expiry = await key.getExpirationTime();
  return expiry instanceof Date ? expiry : null;
}

/** Why the key may not be used for `address` now, or null when it may:
 * revoked, expired, without a valid self-signed user id for the address, or
 * (when `forEncryption`) without a usable encryption subkey. */
export async function refusalReason(key: Key, address: string, forEncryption = true): Promise<string | null> {
  const fingerprint = key.getFingerprint().toUpperCase();
  if (await key.isRevoked()) return `the key ${fingerprint} is revoked`;
  const expiry = await key.getExpirationTime();
  if (expiry instanceof Date && expiry.getTime() <= Date.now()) {
    return `the key ${fingerprint} expired on ${expiry.toISOString()}`;
  }
  // Addresses match case-insensitively; OpenPGP.js matches user ids exactly,
  // so ask it about the user id spelled as in the key.
  const userEmail = key.users.map((user) => user.userID?.email).find((email) => email && normaliseAddress(email) === address);
  if (!userEmail) return `the key ${fingerprint} has no user id for ${address} (it is for ${addressesOf(key).join(", ") || "no address"})`;
  try {
    await key.getPrimaryUser(undefined, { email: userEmail });
  } catch {
    return `the key ${fingerprint} has no valid (unrevoked, self-signed) user id for ${address}`;
  }
  if (forEncryption) {
    try {
      await key.getEncryptionKey();
    } catch {
      return `the key ${fingerprint} has no usable encryption subkey`;
    }
  }
  return null;
}

/** Whether `key` carries a valid certification of one of its user ids by
 * `certifier`: LEAP's "new key signed by the old one". */
export async function isCertifiedBy(key: Key, certifier: PublicKey): Promise<boolean> {
  for (const user of key.users) {
    if (user.otherCertifications.length === 0) continue;
    const results = await user.verifyAllCertifications([certifier]);
    if (results.some((result) => result.valid === true)) return true;
  }
  return false;
}

/** Public keys from armored text or binary key data (as WKD and Autocrypt
 * send); the private parts of private keys are dropped. */
export async function readPublicKeys(data: string | Uint8Array): Promise<PublicKey[]> {
  const keys =
    typeof data === "string"
      ? await readKeys({ armoredKeys: data })
      : looksArmored(data)
        ? await readKeys({ armoredKeys: new TextDecoder().decode(data) })
        : await readKeys({ binaryKeys: data });
  return keys.map((key) => (key.isPrivate() ? key.toPublic() : (key as PublicKey)));
}

function looksArmored(data: Uint8Array): boolean {
  return new TextDecoder().decode(data.subarray(0, 64)).trimStart().startsWith("-----BEGIN PGP");
}

/** The key cut down to what Autocrypt Level 1 asks for: the primary key, the
 * user id for `address` and the current encryption subkey, with their
 * self-signatures only. */
export async function minimalKeyFor(key: PublicKey, address: string): Promise<Uint8Array> {
  const copy = await readKey({ binaryKey: key.toPublic().write() });
  const user = copy.users.find((candidate) => candidate.userID?.email && normaliseAddress(candidate.userID.email) === address);
  if (!user) throw new Error(`the key ${copy.getFingerprint().toUpperCase()} has no user id for ${address}`);
  user.otherCertifications = [];
  const encryptionKey = await copy.getEncryptionKey();
  copy.users = [user];
  copy.subkeys = copy.subkeys.filter((subkey) => subkey === encryptionKey);
  return copy.write();
}
