// Merging two devices' versions of keymanager documents: symmetric, and
// losing neither a private key, usage, nor a newer Autocrypt header.
import { describe, expect, it } from "vitest";
import { mergeActiveKeyContent, mergeAutocryptContent, mergeKeyContent } from "../../native-host/keys/sync-merge";
import type { ContentOf } from "../../shared/documents";

const FPR_A = "A".repeat(40);
const FPR_B = "B".repeat(40);

function bothWays<T>(merge: (a: T, b: T) => T, a: T, b: T): T {
  const result = merge(a, b);
  expect(merge(b, a)).toEqual(result);
  return result;
}

describe("keymanager document merge", () => {
  it("keeps the later key copy, a private part from either side and the first sighting", () => {
    const base: ContentOf<"key"> = {
      fingerprint: FPR_A,
      armoredPublic: "old",
      armoredPrivate: "secret",
      addresses: ["alice@example.org"],
      expires: 1,
      source: "local",
      firstSeen: 10,
      refreshedAt: 20,
    };
    const later = { ...base, armoredPublic: "new", armoredPrivate: null, expires: 2, firstSeen: 15, refreshedAt: 30 };
    expect(bothWays(mergeKeyContent, base, later)).toEqual({ ...later, armoredPrivate: "secret", firstSeen: 10 });
  });

  it("merges the same key in use by LEAP's rule and picks the better validated of two keys", () => {
    const active: ContentOf<"activeKey"> = {
      address: "bob@example.net",
      fingerprint: FPR_A,
      validation: "Weak_Chain",
      source: "autocrypt",
      usedForEncryption: true,
      usedForSigning: false,
    };
    const stronger = { ...active, validation: "Provider_Trust" as const, source: "provider" as const, usedForEncryption: false, usedForSigning: true };
    expect(bothWays(mergeActiveKeyContent, active, stronger)).toEqual({ ...stronger, usedForEncryption: true, usedForSigning: true });
    const otherKey = { ...active, fingerprint: FPR_B };
    expect(bothWays(mergeActiveKeyContent, stronger, { ...otherKey, validation: "Weak_Chain" })).toEqual(stronger);
    expect(bothWays(mergeActiveKeyContent, active, otherKey).fingerprint).toBe(FPR_B);
  });

  it("keeps the later Autocrypt header and the later last_seen", () => {
    const peer: ContentOf<"autocrypt"> = {
      address: "bob@example.net",
      lastSeen: 50,
      autocryptTimestamp: 10,
      keydata: "AAEC",
      fingerprint: FPR_A,
      preferEncrypt: "mutual",
    };
    const newerHeader = { ...peer, lastSeen: 20, autocryptTimestamp: 20, fingerprint: FPR_B, preferEncrypt: "nopreference" as const };
    expect(bothWays(mergeAutocryptContent, peer, newerHeader)).toEqual({ ...newerHeader, lastSeen: 50 });
  });
});
