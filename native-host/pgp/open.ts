// Reading OpenPGP mail: RFC 3156 PGP/MIME (decrypt multipart/encrypted,
// signed inside or wrapping a multipart/signed, RFC 3156 section 6; verify
// multipart/signed; bring protected headers back out) and inline PGP (a
// text/plain body holding an armored PGP MESSAGE, decrypted in place as LEAP
// did, or a cleartext-signed message, verified). Incoming mail uses this; so
// does the interop test against GnuPG.
import * as openpgp from "openpgp";
import { joinMessage, type SplitMessage, splitMessage } from "../mail/mime-split";
import type { MimeNode } from "../../shared/documents";
import {
  base64Lines,
  contentTypeOf,
  fieldValue,
  findField,
  formatEntity,
  isContentField,
  newField,
  parseEntity,
  parseFields,
  type RawField,
  toCrlf,
  withoutFields,
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

/** Decrypts and verifies a PGP/MIME or inline PGP message; any other message
 * comes back unchanged with signature null. Throws PgpMimeError when an
 * encrypted message cannot be decrypted (the caller keeps it and tells the user). */
export async function openMessage(raw: Uint8Array, keys: OpenKeys): Promise<OpenedMessage> {
  const canonical = toCrlf(raw);
  const tree = splitMessage(canonical);
  const type = contentTypeOf(parseFields(tree.root.header));
  const unchanged = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (type.type === "multipart" && type.subtype === "signed") {
    return { message: unchanged, encrypted: false, signature: await verifyParts(tree.root, tree.leaves, keys.verificationKeys) };
  }
  if (type.type !== "multipart" || type.subtype !== "encrypted") {
    return (await openInline(tree, keys, unchanged)) ?? { message: unchanged, encrypted: false, signature: null };
  }

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

// ---- inline PGP ----

type Block = { start: number; end: number; text: string };

/**
 * Armored blocks on lines of their own in `text` (LF line breaks): from a
 * line that is `begin` to the next line that is `end`. A line quoted in a
 * reply ("> -----BEGIN...") does not count. One pass over the text, however
 * many unterminated begin lines a hostile message holds.
 */
function armorBlocks(text: string, begin: string, end: string): Block[] {
  const blocks: Block[] = [];
  let open: number | null = null;
  for (let at = 0; at < text.length; ) {
    const newline = text.indexOf("\n", at);
    const lineEnd = newline < 0 ? text.length : newline;
    const line = text.slice(at, lineEnd).replace(/[ \t]+$/, "");
    if (open === null && line === begin) open = at;
    else if (open !== null && line === end) {
      blocks.push({ start: open, end: lineEnd, text: text.slice(open, lineEnd) });
      open = null;
    }
    at = lineEnd + 1;
  }
  return blocks;
}

const encryptedBlocks = (text: string) => armorBlocks(text, "-----BEGIN PGP MESSAGE-----", "-----END PGP MESSAGE-----");
const clearsignedBlocks = (text: string) => armorBlocks(text, "-----BEGIN PGP SIGNED MESSAGE-----", "-----END PGP SIGNATURE-----");

/**
 * Inline PGP in the message's one text part (the body of a text/plain
 * message, or the only text part of a multipart): an encrypted block is
 * decrypted and replaced by its plaintext (the part becomes UTF-8), as LEAP
 * did, and its signature checked; a cleartext-signed block is verified and
 * the message kept as it is. Null when there is no inline PGP, or more than
 * one block (LEAP required exactly one).
 */
async function openInline(tree: SplitMessage, keys: OpenKeys, unchanged: Buffer): Promise<OpenedMessage | null> {
  const part = singleTextPart(tree.root);
  if (!part || part.body.kind !== "leaf") return null;
  const fields = parseFields(part.header);
  const encoded = tree.leaves.get(part.body.hash)!;
  const bytes = transferDecoded(encoded, fields);
  if (!bytes.includes("-----BEGIN PGP ", 0, "latin1")) return null;
  const text = decodeText(bytes, contentTypeOf(fields).params.charset).replace(/\r\n?/g, "\n");

  const encrypted = encryptedBlocks(text);
  if (encrypted.length > 1) return null;
  const [block] = encrypted;
  if (block) {
    const { plaintext, signature } = await decryptInline(block.text, keys, contentTypeOf(fields).params.charset);
    const after = text.slice(block.end);
    // The block's own last line break stays with the text after it.
    const inner = after.startsWith("\n") ? plaintext.replace(/\n$/, "") : plaintext;
    const opened = text.slice(0, block.start) + inner + after;
    const replacement = decryptedTextPart(fields, opened, part === tree.root, encoded);
    return { message: joinReplacing(tree.root, tree.leaves, part, replacement), encrypted: true, signature };
  }

  const signed = clearsignedBlocks(text);
  if (signed.length !== 1) return null;
  return { message: unchanged, encrypted: false, signature: await verifyClearsigned(signed[0]!.text, keys.verificationKeys) };
}

async function decryptInline(
  armored: string,
  keys: OpenKeys,
  charset: string | undefined,
): Promise<{ plaintext: string; signature: SignatureCheck | null }> {
  let decrypted: { data: Uint8Array; signatures: VerificationResult[] };
  try {
    decrypted = await openpgp.decrypt({
      message: await openpgp.readMessage({ armoredMessage: armored }),
      decryptionKeys: keys.decryptionKeys,
      verificationKeys: keys.verificationKeys,
      format: "binary",
    });
  } catch (error) {
    throw new PgpMimeError(`cannot decrypt the inline PGP message: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  // OpenPGP text is UTF-8 (RFC 4880 5.9); old clients encrypted the part's charset.
  const plaintext = decodeText(Buffer.from(decrypted.data), "utf-8", charset).replace(/\r\n?/g, "\n");
  const [first] = decrypted.signatures;
  if (first) return { plaintext, signature: await checkSignature(first, keys.verificationKeys) };
  // Clear-signed first, then encrypted as a separate step.
  const signed = clearsignedBlocks(plaintext);
  const signature = signed.length === 1 ? await verifyClearsigned(signed[0]!.text, keys.verificationKeys) : null;
  return { plaintext, signature };
}

/** The signature of a cleartext-signed block; null (could not verify) when
 * the block cannot be read: the text itself is readable, so the message is
 * kept as it is rather than refused. */
async function verifyClearsigned(armored: string, verificationKeys: openpgp.PublicKey[]): Promise<SignatureCheck | null> {
  let signatures: VerificationResult[];
  try {
    const message = await openpgp.readCleartextMessage({ cleartextMessage: armored });
    signatures = (await openpgp.verify({ message, verificationKeys })).signatures;
  } catch {
    return null;
  }
  const [first] = signatures;
  return first ? checkSignature(first, verificationKeys) : null;
}

/** The message's only text part that is not an attachment, when it is
 * text/plain. Attached messages (message/rfc822) are other messages: not looked into. */
function singleTextPart(root: MimeNode): MimeNode | null {
  const texts: MimeNode[] = [];
  const visit = (node: MimeNode) => {
    if (node.body.kind === "multipart") for (const part of node.body.parts) visit(part.node);
    if (node.body.kind !== "leaf") return;
    const fields = parseFields(node.header);
    const disposition = findField(fields, "Content-Disposition");
    const attachment = disposition !== undefined && /^attachment\b/i.test(fieldValue(disposition));
    if (contentTypeOf(fields).type === "text" && !attachment) texts.push(node);
  };
  visit(root);
  const [only] = texts;
  if (texts.length !== 1 || !only) return null;
  return contentTypeOf(parseFields(only.header)).subtype === "plain" ? only : null;
}

/** The text part with the decrypted text: UTF-8, 7bit when it is plain
 * ASCII in short lines, base64 otherwise. Other Content-* fields stay;
 * Content-Type parameters such as format=flowed described the armor, not
 * the plaintext, and go. */
function decryptedTextPart(fields: RawField[], text: string, isRoot: boolean, original: Buffer): Buffer {
  let body = Buffer.from(text.replace(/\n/g, "\r\n"), "utf8");
  const sevenBit = body.every((byte) => byte < 0x80 && byte !== 0) && text.split("\n").every((line) => line.length <= 998);
  // In a multipart the line break before the next delimiter belongs to it.
  const endsWithBreak = original.length >= 2 && original.toString("latin1", original.length - 2) === "\r\n";
  if (sevenBit && !endsWithBreak && body.toString("latin1", body.length - 2) === "\r\n") body = body.subarray(0, body.length - 2);
  const kept = withoutFields(fields, "Content-Type", "Content-Transfer-Encoding");
  const mimeVersion = isRoot && !findField(fields, "MIME-Version") ? [newField("MIME-Version", "1.0")] : [];
  return formatEntity({
    fields: [
      ...kept,
      ...mimeVersion,
      newField("Content-Type", "text/plain; charset=utf-8"),
      newField("Content-Transfer-Encoding", sevenBit ? "7bit" : "base64"),
    ],
    body: sevenBit ? body : base64Lines(body),
  });
}

/** The message's bytes with one entity replaced. */
function joinReplacing(root: MimeNode, leaves: Map<string, Buffer>, target: MimeNode, replacement: Buffer): Buffer {
  const chunks: Buffer[] = [];
  const visit = (node: MimeNode) => {
    if (node === target) {
      chunks.push(replacement);
      return;
    }
    chunks.push(Buffer.from(node.header, "latin1"));
    const body = node.body;
    if (body.kind === "leaf") chunks.push(leaves.get(body.hash)!);
    else if (body.kind === "message") visit(body.node);
    else {
      chunks.push(Buffer.from(body.preamble, "latin1"));
      for (const part of body.parts) {
        chunks.push(Buffer.from(part.delimiter, "latin1"));
        visit(part.node);
      }
      if (body.close !== null) chunks.push(Buffer.from(body.close, "latin1"));
      chunks.push(Buffer.from(body.epilogue, "latin1"));
    }
  };
  visit(root);
  return Buffer.concat(chunks);
}

/** A leaf body with base64 or quoted-printable undone; other encodings are the bytes themselves. */
function transferDecoded(bytes: Buffer, fields: RawField[]): Buffer {
  const field = findField(fields, "Content-Transfer-Encoding");
  const encoding = field ? fieldValue(field).toLowerCase() : "7bit";
  if (encoding === "base64") return Buffer.from(bytes.toString("latin1"), "base64");
  if (encoding === "quoted-printable") return decodeQuotedPrintable(bytes);
  return bytes;
}

/** RFC 2045 6.7; a malformed escape is kept as written. */
function decodeQuotedPrintable(input: Buffer): Buffer {
  const text = input.toString("latin1").replace(/=[ \t]*\r?\n/g, "");
  const out = Buffer.alloc(text.length);
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out[length++] = parseInt(text.slice(i + 1, i + 3), 16);
      i += 2;
    } else out[length++] = text.charCodeAt(i);
  }
  return out.subarray(0, length);
}

const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** Text in the first of `charsets` that decodes it (unknown labels, US-ASCII
 * and invalid bytes fall through); UTF-8, then Latin-1, as the last resort. */
function decodeText(bytes: Buffer, ...charsets: (string | undefined)[]): string {
  for (const label of [...charsets, "utf-8"]) {
    const name = label?.trim().toLowerCase();
    if (!name || name === "us-ascii" || name === "ascii") continue;
    try {
      return name === "utf-8" || name === "utf8" ? utf8Strict.decode(bytes) : new TextDecoder(name, { fatal: true }).decode(bytes);
    } catch {
      // not this charset
    }
  }
  return bytes.toString("latin1");
}
