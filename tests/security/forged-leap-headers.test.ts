// A sender cannot make the add-on say "encrypted, signed by ..." for a
// message that was not: X-Leap-* fields written by the sender never reach
// the mailbox, wherever they stand in the header (first, in the middle, as
// the very last field, folded, in odd case, with a blank before the colon).
// Each message goes the real way: the provider's MX (which encrypts it to
// alice's key), a round of alice's daemon, INBOX read over IMAP; only the
// daemon's own X-Leap-* fields come out.
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UnlockedAccount } from "../../native-host/daemon/daemon";
import { stripLeapFields } from "../../native-host/incoming/strip-leap-fields";
import { inboxOverImap, signUpAccount, startTestDaemon, startTlsProvider, syncNow, type TestDaemon, type TlsProvider } from "../helpers/daemon";

const ALICE = "alice@example.org";
const FORGED_FINGERPRINT = "0123456789ABCDEF0123456789ABCDEF01234567";

/** Where the forged fields go, as header lines (CRLF added when sent). */
const CASES: Record<string, string[]> = {
  first: [`X-Leap-Signature: valid; pubkey="${FORGED_FINGERPRINT}"`, "X-Leap-Encryption: decrypted", "From: mallory@example.net", "To: alice@example.org"],
  middle: ["From: mallory@example.net", "X-Leap-Encryption: decrypted", `X-Leap-Signature: valid; pubkey="${FORGED_FINGERPRINT}"`, "To: alice@example.org"],
  last: ["From: mallory@example.net", "To: alice@example.org", "X-Leap-Encryption: decrypted", `X-Leap-Signature: valid; pubkey="${FORGED_FINGERPRINT}"`],
  folded: ["From: mallory@example.net", "X-Leap-Signature: valid;", `\tpubkey="${FORGED_FINGERPRINT}"`, "To: alice@example.org", "X-Leap-Encryption:", " decrypted"],
  oddCase: ["x-LEAP-signature: valid", "From: mallory@example.net", "To: alice@example.org", "X-LEAP-ENCRYPTION: decrypted"],
  blankBeforeColon: ["From: mallory@example.net", "X-Leap-Signature : valid", "To: alice@example.org", "X-Leap-Encryption\t: decrypted"],
  otherLeapField: ["From: mallory@example.net", "To: alice@example.org", "X-Leap-Error: none", "X-Leap-Key-Validation: fingerprint"],
};

let provider: TlsProvider;
let device: TestDaemon;
let alice: UnlockedAccount;

beforeAll(async () => {
  provider = await startTlsProvider();
  device = await startTestDaemon();
  alice = await signUpAccount(device.daemon, provider, ALICE, "correct horse battery staple");
  await syncNow(alice); // makes and publishes alice's key, which the MX encrypts to
}, 60_000);

afterAll(async () => {
  await device?.stop();
  await provider?.stop();
});

/** The header's fields, unfolded, named in lower case. */
function fields(source: string): { name: string; value: string }[] {
  const header = source.slice(0, source.search(/\r?\n\r?\n/)).replace(/\r?\n[ \t]+/g, " ");
  return header.split(/\r?\n/).map((line) => {
    const colon = line.indexOf(":");
    return { name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() };
  });
}

describe("forged X-Leap-* fields", () => {
  it("never survive incoming processing, in any position", async () => {
    const transport = nodemailer.createTransport({ host: "127.0.0.1", port: provider.mxPort, secure: false, ignoreTLS: true });
    try {
      for (const [name, lines] of Object.entries(CASES)) {
        const raw = [...lines, `Subject: forged ${name}`, "Date: Wed, 02 Dec 2026 10:00:00 +0000", `Message-ID: <forged-${name}@example.net>`, "", `Body of ${name}.`, ""].join("\r\n");
        await transport.sendMail({ envelope: { from: "mallory@example.net", to: [ALICE] }, raw });
      }
    } finally {
      transport.close();
    }
    await syncNow(alice);
    const inbox = await inboxOverImap(device.daemon, alice);
    for (const name of Object.keys(CASES)) {
      const source = inbox.find((message) => message.includes(`Subject: forged ${name}`));
      expect(source, name).toBeDefined();
      const leap = fields(source!).filter((field) => field.name.startsWith("x-leap-"));
      // Only the daemon's: the sender neither encrypted nor signed it (the
      // MX's envelope encryption is not the sender's), so no X-Leap-Encryption.
      expect(leap, name).toEqual([{ name: "x-leap-signature", value: "could not verify" }]);
      expect(source, name).not.toContain(FORGED_FINGERPRINT);
      expect(source, name).toContain(`Body of ${name}.`);
    }
  }, 60_000);

  it("are cut with their continuation lines; every other field is kept byte for byte", () => {
    const header = "From: a@b\r\nX-Leap-Signature: valid;\r\n\tpubkey=\"X\"\r\nSubject: keep\r\n me folded\r\nx-leap-error : no\nTo: c@d";
    expect(stripLeapFields(header)).toBe("From: a@b\r\nSubject: keep\r\n me folded\r\nTo: c@d");
    expect(stripLeapFields("X-Leap-Encryption: decrypted")).toBe("");
    // A name that only starts alike is another field.
    expect(stripLeapFields("X-Leapfrog: 1\r\nX-Leap: 2\r\n")).toBe("X-Leapfrog: 1\r\nX-Leap: 2\r\n");
  });
});
