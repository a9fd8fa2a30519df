// IMAP flag rules the store enforces for every client: system flags keep their
// canonical spelling, \Recent is per session and never stored, duplicates go.
export const SYSTEM_FLAGS = ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"] as const;
const canonical = new Map(SYSTEM_FLAGS.map((flag) => [flag.toLowerCase(), flag as string]));

export type FlagMode = "set" | "add" | "remove";

export function normalizeFlags(flags: Iterable<string>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const flag of flags) {
    const name = canonical.get(flag.toLowerCase()) ?? flag;
    if (name.toLowerCase() === "\\recent") continue;
    if (!isValidFlag(name)) throw new Error(`invalid flag ${JSON.stringify(flag)}`);
    const key = name.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(name);
  }
  return out;
}

/** An IMAP flag: a system flag or a keyword atom (no specials, no controls). */
export function isValidFlag(flag: string): boolean {
  if (flag.startsWith("\\")) return canonical.has(flag.toLowerCase()) || /^\\[A-Za-z]+$/.test(flag);
  return /^[^\s(){%*"\\\]\x00-\x1f\x7f]+$/.test(flag);
}

export function applyFlagChange(current: string[], mode: FlagMode, change: string[]): string[] {
  const changed = normalizeFlags(change);
  if (mode === "set") return changed;
  const lower = new Set(changed.map((flag) => flag.toLowerCase()));
  if (mode === "remove") return current.filter((flag) => !lower.has(flag.toLowerCase()));
  return normalizeFlags([...current, ...changed]);
}

export function hasFlag(flags: string[], flag: string): boolean {
  const lower = flag.toLowerCase();
  return flags.some((f) => f.toLowerCase() === lower);
}
