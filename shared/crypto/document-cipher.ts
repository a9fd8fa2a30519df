// Sync encryption of one document (docs/DESIGN.md, "Sync encryption").
//
// On the wire a document is {id, rev, data}: `id` is HMAC(local id), so the
// provider sees no mailbox ids or content hashes; `data` is AES-256-GCM under
// a per-document key (HKDF of the storage secret and the wire id). The
// associated data binds the wire id and the revision, so a ciphertext moved
// to another id or relabelled with another revision fails to open. The local
// id and the type travel inside the ciphertext (the provider must not learn
// types) and are checked against the wire id on opening. The plaintext is
// padded to a power of two so sizes leak only their order of magnitude.
// Replaying an older revision as-is authenticates; `openDocument` refuses it
// when told the newest revision the client has already seen.
import { bufferSource, concatBytes, fromBase64Url, fromUtf8, toBase64Url, utf8 } from "../bytes";
import { type Doc, type DocType, decodeContent, encodeContent, isDocType } from "../documents";
import { deriveBytes, importSecret, labels } from "./subkeys";

const subtle = globalThis.crypto.subtle;
const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const MIN_PADDED_BYTES = 256;

export type WireDoc = { id: string; rev: number; data: string };

export type IntegrityProblem = "tampered" | "swapped" | "rollback" | "malformed";

export class DocumentIntegrityError extends Error {
  constructor(
    readonly problem: IntegrityProblem,
    readonly wireId: string,
    message: string,
  ) {
    super(`document ${wireId} refused (${problem}): ${message}`);
    this.name = "DocumentIntegrityError";
  }
}

export class DocumentCipher {
  private constructor(
    private readonly secret: CryptoKey,
    private readonly wireIdKey: CryptoKey,
  ) {}

  static async create(storageSecret: Uint8Array): Promise<DocumentCipher> {
    const secret = await importSecret(storageSecret);
    const macKey = await deriveBytes(secret, labels.wireId, new Uint8Array(0));
    const wireIdKey = await subtle.importKey("raw", bufferSource(macKey), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return new DocumentCipher(secret, wireIdKey);
  }

  async wireId(localId: string): Promise<string> {
    return toBase64Url(new Uint8Array(await subtle.sign("HMAC", this.wireIdKey, bufferSource(utf8(localId)))));
  }

  async seal(doc: Doc): Promise<WireDoc> {
    const id = await this.wireId(doc.id);
    const plaintext = pad(frame(doc));
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const key = await this.documentKey(id);
    const sealed = await subtle.encrypt({ name: "AES-GCM", iv, additionalData: bufferSource(associatedData(id, doc.rev)) }, key, bufferSource(plaintext));
    return { id, rev: doc.rev, data: toBase64Url(concatBytes(iv, new Uint8Array(sealed))) };
  }

  /** Opens a wire document. `knownRev` is the newest revision of this
   * document the client has already accepted; anything older is a rollback. */
  async open(wire: WireDoc, knownRev = 0): Promise<Doc> {
    if (wire.rev < knownRev) {
      throw new DocumentIntegrityError("rollback", wire.id, `revision ${wire.rev} is older than known revision ${knownRev}`);
    }
    let sealed: Uint8Array;
    try {
      sealed = fromBase64Url(wire.data);
    } catch {
      throw new DocumentIntegrityError("malformed", wire.id, "data is not base64url");
    }
    if (sealed.length < IV_BYTES + 16) throw new DocumentIntegrityError("malformed", wire.id, "data too short");
    let plaintext: Uint8Array;
    try {
      const key = await this.documentKey(wire.id);
      plaintext = new Uint8Array(
        await subtle.decrypt(
          { name: "AES-GCM", iv: sealed.slice(0, IV_BYTES), additionalData: bufferSource(associatedData(wire.id, wire.rev)) },
          key,
          sealed.slice(IV_BYTES),
        ),
      );
    } catch {
      throw new DocumentIntegrityError("tampered", wire.id, "authentication failed (altered, moved or relabelled ciphertext)");
    }
    const doc = unframe(plaintext, wire);
    if ((await this.wireId(doc.id)) !== wire.id) {
      throw new DocumentIntegrityError("swapped", wire.id, "the document inside belongs to another id");
    }
    return doc;
  }

  private async documentKey(wireId: string): Promise<CryptoKey> {
    const raw = await deriveBytes(this.secret, labels.documentKey, utf8(wireId));
    return subtle.importKey("raw", bufferSource(raw), "AES-GCM", false, ["encrypt", "decrypt"]);
  }
}

function associatedData(wireId: string, rev: number): Uint8Array {
  return utf8(`bitmask-mail/document/v${FORMAT_VERSION}\n${wireId}\n${rev}`);
}

// Frame: version u8 | tombstone u8 | idLen u16 | id | typeLen u8 | type | contentLen u32 | content
function frame(doc: Doc): Uint8Array {
  const id = utf8(doc.id);
  const type = utf8(doc.type);
  const content = doc.content === null ? new Uint8Array(0) : encodeContent(doc.type, doc.content);
  const head = new Uint8Array(4 + id.length + 1 + type.length + 4);
  const view = new DataView(head.buffer);
  head[0] = FORMAT_VERSION;
  head[1] = doc.content === null ? 1 : 0;
  view.setUint16(2, id.length);
  head.set(id, 4);
  head[4 + id.length] = type.length;
  head.set(type, 5 + id.length);
  view.setUint32(5 + id.length + type.length, content.length);
  return concatBytes(head, content);
}

function unframe(plaintext: Uint8Array, wire: WireDoc): Doc {
  const fail = (why: string) => new DocumentIntegrityError("malformed", wire.id, why);
  const view = new DataView(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
  if (plaintext.length < 9 || plaintext[0] !== FORMAT_VERSION) throw fail("unknown format");
  const tombstone = plaintext[1] === 1;
  const idLength = view.getUint16(2);
  const typeAt = 4 + idLength;
  if (typeAt + 1 > plaintext.length) throw fail("truncated");
  const typeLength = plaintext[typeAt]!;
  const lengthAt = typeAt + 1 + typeLength;
  if (lengthAt + 4 > plaintext.length) throw fail("truncated");
  const contentLength = view.getUint32(lengthAt);
  if (lengthAt + 4 + contentLength > plaintext.length) throw fail("truncated");
  const id = fromUtf8(plaintext.subarray(4, typeAt));
  const type = fromUtf8(plaintext.subarray(typeAt + 1, lengthAt));
  if (!isDocType(type)) throw fail(`unknown type ${type}`);
  const bytes = plaintext.slice(lengthAt + 4, lengthAt + 4 + contentLength);
  try {
    return { id, rev: wire.rev, type: type as DocType, content: tombstone ? null : decodeContent(type, bytes) };
  } catch (error) {
    throw fail((error as Error).message);
  }
}

function pad(bytes: Uint8Array): Uint8Array {
  let size = MIN_PADDED_BYTES;
  while (size < bytes.length) size *= 2;
  const out = new Uint8Array(size);
  out.set(bytes);
  return out;
}
