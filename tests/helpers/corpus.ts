// The fixture corpus of raw messages (tests/fixtures/messages, see SOURCES.md).
import { readFileSync } from "node:fs";
import path from "node:path";

export const CORPUS_DIR = path.join(import.meta.dirname, "../fixtures/messages");

export type CorpusEntry = { path: string; kind: string; group?: string };

export function corpusEntries(): CorpusEntry[] {
  return JSON.parse(readFileSync(path.join(CORPUS_DIR, "index.json"), "utf8")) as CorpusEntry[];
}

export function readCorpusMessage(entry: CorpusEntry): Buffer {
  return readFileSync(path.join(CORPUS_DIR, entry.path));
}
