import { bufferSource } from "../bytes";

// Every key the system uses is derived from the one 64-byte storage secret by
// HKDF-SHA256 with its own label, so no two purposes ever share key material.
const subtle = globalThis.crypto.subtle;

export const STORAGE_SECRET_BYTES = 64;

export const labels = {
  localStore: "bitmask-mail/local-store/v1",
  wireId: "bitmask-mail/wire-id/v1",
  documentKey: "bitmask-mail/document-key/v1",
} as const;

export async function importSecret(secret: Uint8Array): Promise<CryptoKey> {
  if (secret.length !== STORAGE_SECRET_BYTES) {
    throw new Error(`storage secret must be ${STORAGE_SECRET_BYTES} bytes, got ${secret.length}`);
  }
  return subtle.importKey("raw", bufferSource(secret), "HKDF", false, ["deriveKey", "deriveBits"]);
}

function hkdf(salt: string, info: Uint8Array) {
  return { name: "HKDF", hash: "SHA-256", salt: new TextEncoder().encode(salt), info: bufferSource(info) };
}

export async function deriveBytes(secret: CryptoKey, label: string, info: Uint8Array, length = 32): Promise<Uint8Array> {
  return new Uint8Array(await subtle.deriveBits(hkdf(label, info), secret, length * 8));
}

/** The raw 256-bit SQLCipher key of the local store. */
export async function deriveLocalStoreKey(secret: Uint8Array): Promise<Uint8Array> {
  return deriveBytes(await importSecret(secret), labels.localStore, new Uint8Array(0));
}
