// Byte-exact split of a raw message into a MIME tree plus leaf bodies, and
// the join back. join(split(raw)) === raw for every input, well-formed or
// not: every byte lands in exactly one place (a header block, a preamble, a
// delimiter line, a leaf body or an epilogue), so nothing is normalised.
import { createHash } from "node:crypto";
import type { MimeNode } from "../../shared/documents";
import { MAX_MIME_DEPTH, MAX_MIME_PARTS } from "../limits";
import { headerValue, parseContentType, parseHeaderFields } from "./mime-header";

export type SplitMessage = {
  root: MimeNode;
  /** Leaf bodies by hash, exactly as transferred (still encoded). */
  leaves: Map<string, Buffer>;
  msgHash: string;
  size: number;
  messageId: string | null;
};

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex").toUpperCase();
}

export function splitMessage(raw: Uint8Array): SplitMessage {
  const buffer = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const leaves = new Map<string, Buffer>();
  const root = parseEntity(buffer, 0, leaves);
  const messageId = headerValue(parseHeaderFields(root.header), "message-id") ?? null;
  return { root, leaves, msgHash: sha256Hex(buffer), size: buffer.length, messageId };
}

/** The message's bytes in order, one chunk at a time, leaves fetched on demand. */
export function* joinChunks(node: MimeNode, leaf: (hash: string) => Uint8Array): Generator<Uint8Array> {
  yield Buffer.from(node.header, "latin1");
  yield* bodyChunks(node, leaf);
}

/** An entity's body (everything after its header block), in chunks. */
export function* bodyChunks(node: MimeNode, leaf: (hash: string) => Uint8Array): Generator<Uint8Array> {
  const body = node.body;
  switch (body.kind) {
    case "leaf":
      yield leaf(body.hash);
      return;
    case "message":
      yield* joinChunks(body.node, leaf);
      return;
    case "multipart":
      if (body.preamble) yield Buffer.from(body.preamble, "latin1");
      for (const part of body.parts) {
        yield Buffer.from(part.delimiter, "latin1");
        yield* joinChunks(part.node, leaf);
      }
      if (body.close !== null) yield Buffer.from(body.close, "latin1");
      if (body.epilogue) yield Buffer.from(body.epilogue, "latin1");
  }
}

export function joinMessage(root: MimeNode, leaf: (hash: string) => Uint8Array): Buffer {
  return Buffer.concat([...joinChunks(root, leaf)]);
}

export type LeafBody = Extract<MimeNode["body"], { kind: "leaf" }>;

/** Every leaf of the tree, in order. */
export function leafBodies(node: MimeNode, out: LeafBody[] = []): LeafBody[] {
  const body = node.body;
  if (body.kind === "leaf") out.push(body);
  else if (body.kind === "message") leafBodies(body.node, out);
  else for (const part of body.parts) leafBodies(part.node, out);
  return out;
}

/** `defaultType` is the Content-Type a part has when it names none: text/plain,
 * but message/rfc822 inside a multipart/digest (RFC 2046 5.1.5). */
function parseEntity(entity: Buffer, depth: number, leaves: Map<string, Buffer>, defaultType = "text/plain"): MimeNode {
  const bodyStart = headerEnd(entity);
  const header = entity.toString("latin1", 0, bodyStart);
  const body = entity.subarray(bodyStart);
  if (depth < MAX_MIME_DEPTH) {
    const fields = parseHeaderFields(header);
    const contentType = parseContentType(headerValue(fields, "content-type") ?? defaultType);
    const boundary = contentType.params.boundary;
    // An empty boundary is invalid, but splitting at bare "--" lines is how Dovecot reads it.
    if (contentType.type === "multipart" && boundary !== undefined) {
      const childType = contentType.subtype === "digest" ? "message/rfc822" : "text/plain";
      const multipart = splitMultipart(body, boundary, depth, leaves, childType);
      if (multipart) return { header, body: multipart };
    }
    const encoding = (headerValue(fields, "content-transfer-encoding") ?? "7bit").toLowerCase();
    const embedsMessage =
      contentType.type === "message" && (contentType.subtype === "rfc822" || contentType.subtype === "global");
    if (embedsMessage && ["7bit", "8bit", "binary"].includes(encoding) && body.length > 0) {
      return { header, body: { kind: "message", node: parseEntity(body, depth + 1, leaves) } };
    }
  }
  return { header, body: storeLeaf(body, leaves) };
}

function storeLeaf(body: Buffer, leaves: Map<string, Buffer>): MimeNode["body"] {
  const hash = sha256Hex(body);
  leaves.set(hash, body);
  return { kind: "leaf", hash, size: body.length, lines: countLineFeeds(body) };
}

/** Offset just past the blank line that ends the header block, or the end
 * when there is none (a message of headers only). */
function headerEnd(entity: Buffer): number {
  if (entity[0] === 0x0a) return 1;
  if (entity[0] === 0x0d && entity[1] === 0x0a) return 2;
  let from = 0;
  for (;;) {
    const newline = entity.indexOf(0x0a, from);
    if (newline < 0) return entity.length;
    if (entity[newline + 1] === 0x0a) return newline + 2;
    if (entity[newline + 1] === 0x0d && entity[newline + 2] === 0x0a) return newline + 3;
    from = newline + 1;
  }
}

type Delimiter = { start: number; end: number; close: boolean };

/** RFC 2046 bchars other than space: a character a longer boundary could have here. */
function continuesBoundary(byte: number | undefined): boolean {
  return byte !== undefined && /[0-9A-Za-z'()+_,\-./:=?]/.test(String.fromCharCode(byte));
}

/** Finds delimiter lines: "--boundary" at a line start; "--" after it makes
 * the close delimiter. The rest of the line belongs to the delimiter: RFC
 * 2046 5.1.1 asks only that the boundary appear whole after the line break,
 * unless the next character could continue a boundary ("--b2" is not a
 * delimiter of "b": it is the delimiter of a nested "b2").
 * The line break before the delimiter belongs to it too. */
function findDelimiters(body: Buffer, boundary: string): Delimiter[] {
  const dashBoundary = Buffer.from("--" + boundary, "latin1");
  const found: Delimiter[] = [];
  let from = 0;
  while (found.length <= MAX_MIME_PARTS) {
    const at = body.indexOf(dashBoundary, from);
    if (at < 0) break;
    from = at + 1;
    if (at > 0 && body[at - 1] !== 0x0a) continue;
    const afterBoundary = at + dashBoundary.length;
    const close = body[afterBoundary] === 0x2d && body[afterBoundary + 1] === 0x2d;
    if (!close && continuesBoundary(body[afterBoundary])) continue;
    const newline = body.indexOf(0x0a, afterBoundary);
    const end = newline < 0 ? body.length : newline + 1;
    // The line break may already end the previous delimiter line ("--b\n--b--").
    const previousEnd = found[found.length - 1]?.end ?? 0;
    let start = at;
    if (at > previousEnd) start = at - 2 >= previousEnd && body[at - 2] === 0x0d ? at - 2 : at - 1;
    found.push({ start, end, close });
    if (close) break;
    from = end;
  }
  return found;
}

function splitMultipart(
  body: Buffer,
  boundary: string,
  depth: number,
  leaves: Map<string, Buffer>,
  childType: string,
): MimeNode["body"] | null {
  const delimiters = findDelimiters(body, boundary);
  if (delimiters.length === 0) return null;
  const latin1 = (start: number, end: number) => body.toString("latin1", start, end);
  const parts: { delimiter: string; node: MimeNode }[] = [];
  let close: string | null = null;
  let epilogue = "";
  for (let i = 0; i < delimiters.length; i++) {
    const delimiter = delimiters[i]!;
    if (delimiter.close) {
      close = latin1(delimiter.start, delimiter.end);
      epilogue = latin1(delimiter.end, body.length);
      break;
    }
    const partEnd = delimiters[i + 1]?.start ?? body.length;
    parts.push({
      delimiter: latin1(delimiter.start, delimiter.end),
      node: parseEntity(body.subarray(delimiter.end, partEnd), depth + 1, leaves, childType),
    });
  }
  return { kind: "multipart", preamble: latin1(0, delimiters[0]!.start), parts, close, epilogue };
}

function countLineFeeds(bytes: Buffer): number {
  let count = 0;
  for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, at + 1)) count++;
  return count;
}
