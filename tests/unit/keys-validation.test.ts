// LEAP's replacement rule (docs/LEAP.md section 8, can_upgrade), case by case.
import { describe, expect, it } from "vitest";
import { type CandidateKey, type CurrentKey, canUpgrade } from "../../native-host/keys/validation";

const NOW = new Date("2030-06-01T00:00:00Z");
const current: CurrentKey = {
  fingerprint: "OLD",
  validation: "Provider_Trust",
  expires: new Date("2031-01-01T00:00:00Z"),
  revoked: false,
  usedForEncryption: true,
  usedForSigning: true,
};
const candidate = (changes: Partial<CandidateKey>): CandidateKey => ({
  fingerprint: "NEW",
  validation: "Provider_Trust",
  certifiedByCurrent: false,
  ...changes,
});

describe("can a new key replace the key in use", () => {
  it("yes when there is none yet, or it is the same key", () => {
    expect(canUpgrade(candidate({ validation: "Weak_Chain" }), null, NOW)).toBe(true);
    expect(canUpgrade(candidate({ fingerprint: "OLD", validation: "Weak_Chain" }), current, NOW)).toBe(true);
  });

  it("yes for a fingerprint the user checked", () => {
    expect(canUpgrade(candidate({ validation: "Fingerprint" }), { ...current, validation: "Known_Key" }, NOW)).toBe(true);
  });

  it("no for an equal or weaker key while the used, unexpired key stays", () => {
    expect(canUpgrade(candidate({}), current, NOW)).toBe(false);
    expect(canUpgrade(candidate({ validation: "Weak_Chain" }), current, NOW)).toBe(false);
    // Stronger is not enough once the key was used both ways and expires.
    expect(canUpgrade(candidate({ validation: "Provider_Endorsement" }), current, NOW)).toBe(false);
  });

  it("yes for an equal or stronger key once the old one expired or was revoked", () => {
    const expired = { ...current, expires: new Date("2030-05-31T00:00:00Z") };
    expect(canUpgrade(candidate({}), expired, NOW)).toBe(true);
    expect(canUpgrade(candidate({ validation: "Weak_Chain" }), expired, NOW)).toBe(false);
    expect(canUpgrade(candidate({}), { ...current, revoked: true }, NOW)).toBe(true);
  });

  it("yes for a stronger key when the old one never expires", () => {
    const forever = { ...current, expires: null };
    expect(canUpgrade(candidate({ validation: "Provider_Endorsement" }), forever, NOW)).toBe(true);
    expect(canUpgrade(candidate({}), forever, NOW)).toBe(false);
  });

  it("yes for a stronger key when the old one was not used both ways", () => {
    const unused = { ...current, usedForSigning: false };
    expect(canUpgrade(candidate({ validation: "Provider_Endorsement" }), unused, NOW)).toBe(true);
    expect(canUpgrade(candidate({}), unused, NOW)).toBe(false);
  });

  it("yes for a key certified by the old one, whatever its level", () => {
    expect(canUpgrade(candidate({ validation: "Weak_Chain", certifiedByCurrent: true }), current, NOW)).toBe(true);
  });
});
