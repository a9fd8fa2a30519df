// A leaf body is stored as content documents of at most CONTENT_CHUNK_BYTES:
// `C-{hash}` holds the first chunk, `C-{hash}.1`, `C-{hash}.2`... the rest,
// so a sealed document stays far under the provider's push limit however
// big the attachment. The leaf's size (in its header document) says how many
// chunks there are; a store from before chunking holds the whole leaf at
// `C-{hash}`, which reads the same.
import type { MimeNode } from "../../shared/documents";
import type { DocumentStore } from "../store/document-store";
import { CONTENT_CHUNK_BYTES } from "../limits";
import { contentIdFor } from "./mail-index";
import { leafBodies } from "./mime-split";

/** The ids of the content documents that hold a leaf of `size` bytes. */
export function contentIdsFor(hash: string, size: number): string[] {
  const count = Math.max(1, Math.ceil(size / CONTENT_CHUNK_BYTES));
  return Array.from({ length: count }, (_, index) => (index === 0 ? contentIdFor(hash) : `${contentIdFor(hash)}.${index}`));
}

/** Stores a leaf's chunks that are not stored yet (leaves are shared by hash);
 * returns the ids of all of them. */
export function storeLeaf(store: DocumentStore, hash: string, bytes: Uint8Array): string[] {
  const ids = contentIdsFor(hash, bytes.length);
  ids.forEach((id, index) => {
    if (!store.has(id)) store.put("content", id, bytes.subarray(index * CONTENT_CHUNK_BYTES, (index + 1) * CONTENT_CHUNK_BYTES));
  });
  return ids;
}

/** A leaf's bytes; undefined when a chunk of it is not in the store (yet). */
export function readLeaf(store: DocumentStore, hash: string, size: number): Uint8Array | undefined {
  const first = store.get(contentIdFor(hash), "content")?.content ?? undefined;
  if (!first || first.length >= size) return first;
  const chunks = [first];
  for (const id of contentIdsFor(hash, size).slice(1)) {
    const chunk = store.get(id, "content")?.content;
    if (!chunk) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The size of every leaf of a MIME tree, by hash. */
export function leafSizes(root: MimeNode): Map<string, number> {
  return new Map(leafBodies(root).map((leaf) => [leaf.hash, leaf.size]));
}
