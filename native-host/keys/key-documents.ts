// Where the keymanager's documents live in the store. Ids are derived from
// what they describe, so two devices that learn the same key, or choose a
// key for the same address, write the same document instead of duplicates.
import type { ContentOf } from "../../shared/documents";

export type KeyDoc = ContentOf<"key">;
export type ActiveKeyDoc = ContentOf<"activeKey">;

export const keyDocId = (fingerprint: string) => `K-${fingerprint}`;
export const activeKeyDocId = (address: string) => `KA-${address}`;
export const autocryptDocId = (address: string) => `A-${address}`;
