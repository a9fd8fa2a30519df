// Makes an entity safe to sign as multipart/signed content (RFC 3156 section
// 3): relays may re-encode 8-bit bodies, strip trailing blanks, wrap long
// lines or quote "From " lines, and any of those breaks the signature. So each
// leaf body at risk is re-encoded as base64 before signing; everything else
// (headers, multipart structure, bodies already safe) stays byte for byte.
import type { MimeNode } from "../../shared/documents";
import { splitMessage } from "../mail/mime-split";
import { base64Lines, formatEntity, newField, parseFields, withoutFields } from "./mime-entity";

/** Longest line RFC 5321 lets through, without its CRLF. */
const MAX_LINE_BYTES = 998;

/** The entity (CRLF line breaks) with every unsafe leaf body base64-encoded. */
export function sevenBitSafe(entity: Buffer): Buffer {
  const { root, leaves } = splitMessage(entity);
  const leafBytes = (hash: string) => leaves.get(hash)!;
  return Buffer.concat([...safeChunks(root, leafBytes)]);
}

function* safeChunks(node: MimeNode, leaf: (hash: string) => Buffer): Generator<Buffer> {
  const body = node.body;
  if (body.kind === "leaf") {
    const bytes = leaf(body.hash);
    const fields = parseFields(node.header);
    const encoding = fields.find((field) => field.name.toLowerCase() === "content-transfer-encoding");
    const alreadyEncoded = encoding && /:\s*(base64|quoted-printable)\s*$/i.test(encoding.raw.trim());
    if (alreadyEncoded || !needsEncoding(bytes)) {
      yield Buffer.from(node.header, "latin1");
      yield bytes;
      return;
    }
    const reencoded = [...withoutFields(fields, "Content-Transfer-Encoding"), newField("Content-Transfer-Encoding", "base64")];
    yield formatEntity({ fields: reencoded, body: base64Lines(bytes) });
    return;
  }
  yield Buffer.from(node.header, "latin1");
  if (body.kind === "message") {
    yield* safeChunks(body.node, leaf);
    return;
  }
  yield Buffer.from(body.preamble, "latin1");
  for (const part of body.parts) {
    yield Buffer.from(part.delimiter, "latin1");
    yield* safeChunks(part.node, leaf);
  }
  if (body.close !== null) yield Buffer.from(body.close, "latin1");
  yield Buffer.from(body.epilogue, "latin1");
}

/** 8-bit or NUL bytes, overlong lines, trailing blanks, or lines starting "From ". */
function needsEncoding(body: Buffer): boolean {
  for (const byte of body) if (byte >= 0x80 || byte === 0) return true;
  for (let start = 0; start < body.length; ) {
    const newline = body.indexOf(0x0a, start);
    const next = newline < 0 ? body.length : newline + 1;
    const end = newline < 0 ? body.length : body[newline - 1] === 0x0d ? newline - 1 : newline;
    const last = body[end - 1];
    if (end - start > MAX_LINE_BYTES) return true;
    if (end > start && (last === 0x20 || last === 0x09)) return true;
    if (body.toString("latin1", start, Math.min(end, start + 5)) === "From ") return true;
    start = next;
  }
  return false;
}
