// How a displayed message arrived, in words, from the X-Leap-* fields the
// daemon stamped on it (a sender's own never reach the mailbox: see
// native-host/incoming/strip-leap-fields.ts) and the daemon's key list:
// "encrypted, signed by <address> (<fingerprint>, <level>)", or "not encrypted".
import type { KeyListing } from "../shared/control-api";
import { formatFingerprint } from "./format";

const VALID = /^valid;\s*pubkey="?([0-9A-Fa-f]{16,})"?/;

export function describeMessageSecurity(headers: Record<string, string[] | undefined>, keys: KeyListing[]): string {
  const encrypted = headers["x-leap-encryption"]?.[0]?.trim() === "decrypted";
  const signature = headers["x-leap-signature"]?.[0]?.trim() ?? "";
  const parts = [encrypted ? "encrypted" : "not encrypted"];
  const valid = VALID.exec(signature);
  if (valid) {
    const fingerprint = valid[1]!.toUpperCase();
    const key = keys.find((candidate) => candidate.fingerprint.toUpperCase() === fingerprint);
    parts.push(`signed by ${key?.address ?? "an unknown key"} (${formatFingerprint(fingerprint)}, ${key?.validation ?? "not in the key list"})`);
  } else if (signature === "invalid") parts.push("the signature is NOT valid");
  return parts.join(", ");
}
