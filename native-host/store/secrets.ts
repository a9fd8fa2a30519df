// The secrets file: the 64-byte storage secret, wrapped by a key derived from
// the user's passphrase (scrypt). Changing the passphrase rewrites only this.
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCallback, type ScryptOptions } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { STORAGE_SECRET_BYTES } from "../../shared/crypto/subkeys";

/** scrypt cost: N = 2^17 (the floor in docs/DESIGN.md), r 8, p 1: about 128 MiB and a few hundred ms. */
export const SCRYPT_COST = { N: 2 ** 17, r: 8, p: 1 } as const;
const SCRYPT_MAXMEM = 256 * 1024 * 1024;
const ASSOCIATED_DATA = Buffer.from("bitmask-mail/secrets/v1");

const secretsFileSchema = z.object({
  version: z.literal(1),
  kdf: z.object({
    name: z.literal("scrypt"),
    N: z.number().int().min(SCRYPT_COST.N),
    r: z.number().int().positive(),
    p: z.number().int().positive(),
    salt: z.string(),
  }),
  cipher: z.literal("aes-256-gcm"),
  iv: z.string(),
  sealed: z.string(),
});
export type SecretsFile = z.infer<typeof secretsFileSchema>;

export class WrongPassphraseError extends Error {
  constructor() {
    super("wrong passphrase: the secrets file could not be unlocked");
    this.name = "WrongPassphraseError";
  }
}

function scrypt(passphrase: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...cost, maxmem: SCRYPT_MAXMEM };
  return new Promise((resolve, reject) =>
    scryptCallback(passphrase.normalize("NFC"), salt, 32, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

export function newStorageSecret(): Uint8Array {
  return new Uint8Array(randomBytes(STORAGE_SECRET_BYTES));
}

export async function wrapSecret(secret: Uint8Array, passphrase: string): Promise<SecretsFile> {
  if (passphrase.length === 0) throw new Error("the passphrase must not be empty");
  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const key = await scrypt(passphrase, salt, SCRYPT_COST);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(ASSOCIATED_DATA);
  const sealed = Buffer.concat([cipher.update(secret), cipher.final(), cipher.getAuthTag()]);
  return {
    version: 1,
    kdf: { name: "scrypt", ...SCRYPT_COST, salt: salt.toString("base64") },
    cipher: "aes-256-gcm",
    iv: iv.toString("base64"),
    sealed: sealed.toString("base64"),
  };
}

export async function unwrapSecret(file: unknown, passphrase: string): Promise<Uint8Array> {
  const parsed = secretsFileSchema.safeParse(file);
  if (!parsed.success) throw new Error(`the secrets file is malformed: ${parsed.error.issues[0]?.message}`);
  const { kdf, iv, sealed } = parsed.data;
  const key = await scrypt(passphrase, Buffer.from(kdf.salt, "base64"), kdf);
  const bytes = Buffer.from(sealed, "base64");
  if (bytes.length !== STORAGE_SECRET_BYTES + 16) throw new Error("the secrets file is malformed: wrong sealed length");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"));
  decipher.setAAD(ASSOCIATED_DATA);
  decipher.setAuthTag(bytes.subarray(STORAGE_SECRET_BYTES));
  try {
    return new Uint8Array(Buffer.concat([decipher.update(bytes.subarray(0, STORAGE_SECRET_BYTES)), decipher.final()]));
  } catch {
    throw new WrongPassphraseError();
  }
}

export async function readSecretsFile(file: string): Promise<unknown> {
  const text = await fs.readFile(file, "utf8");
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`the secrets file ${file} is not valid JSON`);
  }
}

/** Writes atomically (temp file in the same folder, fsync, rename): a crash
 * leaves the old file or the new one, never a torn one. Mode 0600. */
export async function writeSecretsFile(file: string, contents: SecretsFile): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const handle = await fs.open(temporary, "w", 0o600);
  try {
    await handle.writeFile(JSON.stringify(contents, null, 2) + "\n");
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, file);
}
