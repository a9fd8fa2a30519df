// OpenPGP key pairs for tests: real keys, made as the keymanager makes the
// account's own (Curve25519 in the form GnuPG 2.2 reads).
import * as openpgp from "openpgp";
import type { OwnKey } from "../../native-host/keys/keymanager-api";

/** A fresh key pair for an address, unlocked. */
export async function generateKeyPair(address: string): Promise<OwnKey> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    userIDs: [{ email: address }],
    type: "ecc",
    curve: "curve25519Legacy",
    format: "object",
  });
  return {
    address,
    fingerprint: privateKey.getFingerprint().toUpperCase(),
    privateKey,
    publicKey,
    armoredPublicKey: publicKey.armor(),
  };
}
