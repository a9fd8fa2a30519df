// Reading RFC 3156 PGP/MIME messages: decrypt multipart/encrypted (signed
// inside, or wrapping a multipart/signed, RFC 3156 section 6), verify
// multipart/signed, and bring protected headers back out. Incoming mail uses
// this; so does the interop test against GnuPG.
import * as openpgp from "openpgp";
import { joinMessage, splitMessage } from "../mail/mime-split";
import type { MimeNode } from "../../shared/documents";
import {
  contentTypeOf,
  fieldValue,
  findField,
  formatEntity,
  isContentField,
  parseEntity,
  parseFields,
  toCrlf,
} from "./mime-entity";

/** One signature of a verified or decrypted message, as openpgp reports it. */
type VerificationResult = Awaited<ReturnType<typeof openpgp.verify>>["signatures"][number];

export type SignatureCheck =
  /** Made by the private half of a key given for verification. */
  | { status: "valid"; fingerprint: string }
  /** Made by a key we were given, but it does not match the content. */
  | { status: "invalid"; fingerprint: string; reason: string }
  /** Made by a key we do not have, so it cannot be checked. */
  | { status: "unknown-key"; keyId: string };

export type OpenedMessage = {
  /** The message to store: decrypted (with protected headers restored), or
   * the input unchanged when it was not encrypted. */
  message: Buffer;
  encrypted: boolean;
  /** The first signature found, or null for an unsigned message. */
  signature: SignatureCheck | null;
};

export type OpenKeys = {
  /** The own private keys, unlocked (current first, older ones after). */
  decryptionKeys: openpgp.PrivateKey[];
  /** The sender's known public keys. */
  verificationKeys: openpgp.PublicKey[];
};

export class PgpMimeError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = "PgpMimeError";
  }
}

/** Decrypts and verifies a PGP/MIME message; any other message comes back
 * unchanged with signature null. Throws PgpMimeError when an encrypted
 * message cannot be decrypted (the caller keeps it and tells the user). */
export async function openMessage(raw: Uint8Array, keys: OpenKeys): Promise<OpenedMessage> {
  const canonical = toCrlf(raw);
  const tree = splitMessage(canonical);
  const type = contentTypeOf(parseFields(tree.root.header));
  const unchanged = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (type.type === "multipart" && type.subtype === "signed") {
    return { message: unchanged, encrypted: false, signature: await verifyParts(tree.root, tree.leaves, keys.verificationKeys) };
  }
  if (type.type !== "multipart" || type.subtype !== "encrypted") return { message: unchanged, encrypted: false, signature: null };

  const armored = multipartChild(tree.root, 1, "an encrypted message without its encrypted part");
  const ciphertext = decodedBody(armored, tree.leaves);
  let decrypted: { data: Uint8Array; signatures: VerificationResult[] };
  try {
    const message = isArmored(ciphertext)
      ? await openpgp.readMessage({ armoredMessage: ciphertext.toString("latin1") })
      : await openpgp.readMessage({ binaryMessage: ciphertext });
    decrypted = await openpgp.decrypt({
      message,
      decryptionKeys: keys.decryptionKeys,
      verificationKeys: keys.verificationKeys,
      format: "binary",
    });
  } catch (error) {
    throw new PgpMimeError(`cannot decrypt: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const inner = toCrlf(decrypted.data);
  const [first] = decrypted.signatures;
  let signature = first ? await checkSignature(first, keys.verificationKeys) : null;
  if (!signature) {
    // Signed first, then encrypted as a separate step (RFC 3156 section 6.1).
    const innerTree = splitMessage(inner);
    const innerType = contentTypeOf(parseFields(innerTree.root.header));
    if (innerType.type === "multipart" && innerType.subtype === "signed") {
      signature = await verifyParts(innerTree.root, innerTree.leaves, keys.verificationKeys);
    }
  }
  return { message: withOuterFields(canonical, inner), encrypted: true, signature };
}

/** The decrypted message: the inner entity's header fields win (with
 * protected headers they hold the real Subject and the rest); outer fields
 * the inner part lacks (Received, Autocrypt, Date...) are kept, except the
 * Content-* fields that described the encrypted wrapper. */
function withOuterFields(outerMessage: Buffer, inner: Buffer): Buffer {
  const outer = parseEntity(outerMessage).fields;
  const innerEntity = parseEntity(inner);
  const innerNames = new Set(innerEntity.fields.map((field) => field.name.toLowerCase()));
  const kept = outer.filter((field) => !isContentField(field) && !innerNames.has(field.name.toLowerCase()));
  return formatEntity({ fields: [...kept, ...innerEntity.fields], body: innerEntity.body });
}

/** Verifies a multipart/signed node: the first part's exact bytes (the CRLF
 * before the next delimiter belongs to the delimiter) against the second. */
async function verifyParts(
  node: MimeNode,
  leaves: Map<string, Buffer>,
  verificationKeys: openpgp.PublicKey[],
): Promise<SignatureCheck | null> {
  const signed = multipartChild(node, 0, "a signed message without its signed part");
  const signaturePart = multipartChild(node, 1, "a signed message without its signature");
  const signedBytes = joinMessage(signed, (hash) => leaves.get(hash)!);
  const signatureBytes = decodedBody(signaturePart, leaves);
  let signature: openpgp.Signature;
  try {
    signature = isArmored(signatureBytes)
      ? await openpgp.readSignature({ armoredSignature: signatureBytes.toString("latin1") })
      : await openpgp.readSignature({ binarySignature: signatureBytes });
  } catch (error) {
    throw new PgpMimeError(`unreadable signature: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const result = await openpgp.verify({
    message: await openpgp.createMessage({ binary: signedBytes }),
    signature,
    verificationKeys,
  });
  const [first] = result.signatures;
  return first ? checkSignature(first, verificationKeys) : null;
}

async function checkSignature(result: VerificationResult, keys: openpgp.PublicKey[]): Promise<SignatureCheck> {
  const signer = keys.find((key) => key.getKeys(result.keyID).length > 0);
  if (!signer) return { status: "unknown-key", keyId: result.keyID.toHex().toUpperCase() };
  const fingerprint = signer.getFingerprint().toUpperCase();
  try {
    await result.verified;
    return { status: "valid", fingerprint };
  } catch (error) {
    return { status: "invalid", fingerprint, reason: error instanceof Error ? error.message : String(error) };
  }
}

function multipartChild(node: MimeNode, index: number, missing: string): MimeNode {
  const child = node.body.kind === "multipart" ? node.body.parts[index]?.node : undefined;
  if (!child) throw new PgpMimeError(`malformed PGP/MIME: ${missing}`);
  return child;
}

/** A leaf part's body with its transfer encoding undone. RFC 3156 parts are
 * 7-bit armor; base64 is accepted too since some clients send it. */
function decodedBody(node: MimeNode, leaves: Map<string, Buffer>): Buffer {
  if (node.body.kind !== "leaf") throw new PgpMimeError("malformed PGP/MIME: an OpenPGP part is not a leaf");
  const bytes = leaves.get(node.body.hash)!;
  const encoding = findField(parseFields(node.header), "Content-Transfer-Encoding");
  const base64 = encoding !== undefined && fieldValue(encoding).toLowerCase() === "base64";
  return base64 ? Buffer.from(bytes.toString("latin1"), "base64") : bytes;
}

function isArmored(bytes: Buffer): boolean {
  return bytes.toString("latin1", 0, 200).includes("-----BEGIN PGP");
}

