// The at-rest checks: which files under a folder (its subfolders too, WAL
// and journal files included) contain any of the given byte strings.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export function filesContaining(dir: string, needles: Buffer[]): string[] {
  const hits: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const bytes = readFileSync(file);
    if (needles.some((needle) => bytes.includes(needle))) hits.push(file);
  }
  return hits;
}
