// The account's preferences: one synced document (shared/documents.ts
// "settings"), so every device behaves the same. Missing means defaults.
import { type ContentOf, SETTINGS_ID } from "../../shared/documents";
import type { DocumentStore } from "./document-store";

export type Settings = Required<Omit<ContentOf<"settings">, "clock">>;

const DEFAULTS: Settings = { alwaysEncrypt: false, keyAlgorithm: "curve25519" };

export function readSettings(store: DocumentStore): Settings {
  const { clock: _clock, ...stored } = store.get(SETTINGS_ID, "settings")?.content ?? { clock: "" };
  return { ...DEFAULTS, ...stored };
}

/** Changes some settings; the hybrid clock orders this edit against other devices'. */
export function updateSettings(store: DocumentStore, changes: Partial<Settings>): Settings {
  const settings = { ...readSettings(store), ...changes };
  store.put("settings", SETTINGS_ID, { ...settings, clock: store.clock.tick() });
  return settings;
}
