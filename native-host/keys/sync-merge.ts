// How two devices' versions of a keymanager document become one, for the
// sync engine's merge (native-host/sync/merge.ts). Each rule is symmetric, so
// both devices reach the same result whichever side is "local".
import type { ContentOf } from "../../shared/documents";
import { levelRank, strongerLevel } from "./validation";

type KeyContent = ContentOf<"key">;
type ActiveKeyContent = ContentOf<"activeKey">;
type AutocryptContent = ContentOf<"autocrypt">;

/** The same key (its id is its fingerprint): the copy refreshed last, keeping
 * a private part either side has and the earliest sighting. The refresher
 * merges the key material itself again from the key's source. */
export function mergeKeyContent(a: KeyContent, b: KeyContent): KeyContent {
  const [later, other] = a.refreshedAt > b.refreshedAt || (a.refreshedAt === b.refreshedAt && a.armoredPublic > b.armoredPublic) ? [a, b] : [b, a];
  return {
    ...later,
    armoredPrivate: later.armoredPrivate ?? other.armoredPrivate,
    firstSeen: Math.min(later.firstSeen, other.firstSeen),
  };
}

/** One address's key in use: for the same key, LEAP's merge (the stronger
 * validation, either side's usage); for two keys, the better validated one
 * (ties: the larger fingerprint, so that both devices agree). */
export function mergeActiveKeyContent(a: ActiveKeyContent, b: ActiveKeyContent): ActiveKeyContent {
  if (a.fingerprint === b.fingerprint) {
    const stronger = levelRank(a.validation) >= levelRank(b.validation) ? a : b;
    return {
      ...stronger,
      validation: strongerLevel(a.validation, b.validation),
      usedForEncryption: a.usedForEncryption || b.usedForEncryption,
      usedForSigning: a.usedForSigning || b.usedForSigning,
    };
  }
  const rank = levelRank(a.validation) - levelRank(b.validation);
  return rank > 0 || (rank === 0 && a.fingerprint > b.fingerprint) ? a : b;
}

/** Autocrypt peer state: the later header wins (Level 1), last_seen is the later of the two. */
export function mergeAutocryptContent(a: AutocryptContent, b: AutocryptContent): AutocryptContent {
  const newer =
    a.autocryptTimestamp > b.autocryptTimestamp || (a.autocryptTimestamp === b.autocryptTimestamp && a.fingerprint > b.fingerprint) ? a : b;
  return { ...newer, lastSeen: Math.max(a.lastSeen, b.lastSeen) };
}
