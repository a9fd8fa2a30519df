// What the sync engine needs from the provider: pages of changes since a
// generation, and pushes with expected revisions. The HTTP client in
// provider-client.ts implements it; every byte in it is ciphertext.
import type { WireDoc } from "../../shared/crypto/document-cipher";

/** `remaining` (documents after this page) may be absent when `more` is true. */
export type PulledPage = { generation: number; docs: (WireDoc & { gen: number })[]; more: boolean; remaining?: number };
export type PushedDoc = WireDoc & { expectedRev: number };
/** `gen`: where a stored document went in the provider's log (absent from older providers). */
export type PushResult = { generation: number; results: { id: string; status: "stored" | "conflict"; rev: number; gen?: number }[] };

export interface SyncTransport {
  pull(since: number, limit: number): Promise<PulledPage>;
  push(docs: PushedDoc[]): Promise<PushResult>;
}

/** The provider could not be reached or answered with a server error: try later. */
export class ProviderUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProviderUnavailableError";
  }
}

/** The provider refused a push as larger than its body limit (413): the
 * same documents go again in smaller batches. */
export class PushTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PushTooLargeError";
  }
}
