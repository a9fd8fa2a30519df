// LEAP's rule for when a newly found key may take the place of the key in
// use for an address (keymanager/validation.py `can_upgrade`,
// docs/LEAP.md section 8), with its "new key signed by the old one"
// case implemented (LEAP left it a TODO) and a revoked old key treated as an
// expired one (no one but its owner can revoke it).
import { VALIDATION_LEVELS } from "../../shared/documents";
import type { ValidationLevel } from "./keymanager-api";

export function levelRank(level: ValidationLevel): number {
  return VALIDATION_LEVELS.indexOf(level);
}

export function strongerLevel(a: ValidationLevel, b: ValidationLevel): ValidationLevel {
  return levelRank(a) >= levelRank(b) ? a : b;
}

export type CandidateKey = {
  fingerprint: string;
  validation: ValidationLevel;
  /** The candidate carries a valid certification by the current key. */
  certifiedByCurrent: boolean;
};

export type CurrentKey = {
  fingerprint: string;
  validation: ValidationLevel;
  /** Null for a key that does not expire. */
  expires: Date | null;
  revoked: boolean;
  usedForEncryption: boolean;
  usedForSigning: boolean;
};

/** Whether `candidate` may replace `current` (null: the address has no key yet). */
export function canUpgrade(candidate: CandidateKey, current: CurrentKey | null, now = new Date()): boolean {
  if (!current) return true;
  // The same key again: its material and standing are merged, not replaced.
  if (candidate.fingerprint === current.fingerprint) return true;
  // The user checked this fingerprint themselves.
  if (candidate.validation === "Fingerprint") return true;
  const stronger = levelRank(candidate.validation) > levelRank(current.validation);
  const atLeastAsStrong = levelRank(candidate.validation) >= levelRank(current.validation);
  const currentDead = current.revoked || (current.expires !== null && current.expires.getTime() < now.getTime());
  if (currentDead && atLeastAsStrong) return true;
  if (current.expires === null && stronger) return true;
  // A key not yet used both ways has not earned its correspondents' reliance.
  if (!(current.usedForEncryption && current.usedForSigning) && stronger) return true;
  return candidate.certifiedByCurrent;
}
