// Display helpers shared by the add-on's pages.

/** Hex digits in groups of four, as OpenPGP tools print fingerprints. */
export function formatFingerprint(fingerprint: string): string {
  return fingerprint.replace(/\s+/g, "").toUpperCase().replace(/(.{4})(?=.)/g, "$1 ");
}
