// The words the add-on shows over a displayed message, from the daemon's
// X-Leap-* fields and its key list.
import { describe, expect, it } from "vitest";
import { describeMessageSecurity } from "../../extension/message-security";
import type { KeyListing } from "../../shared/control-api";

const FPR = "3F2A9C4E7B1D5086E4C3A2F1907B6D5C8E4A1F23";
const GROUPED = "3F2A 9C4E 7B1D 5086 E4C3 A2F1 907B 6D5C 8E4A 1F23";
const keys: KeyListing[] = [{ address: "bob@example.net", fingerprint: FPR, own: false, validation: "provider_trust", expires: null }];

describe("describeMessageSecurity", () => {
  it("names the signer, fingerprint and level of an encrypted and signed message", () => {
    const headers = { "x-leap-encryption": ["decrypted"], "x-leap-signature": [`valid; pubkey="${FPR}"`] };
    expect(describeMessageSecurity(headers, keys)).toBe(`encrypted, signed by bob@example.net (${GROUPED}, provider_trust)`);
  });

  it("says not encrypted for plain mail, and never trusts a signature it cannot match", () => {
    expect(describeMessageSecurity({}, keys)).toBe("not encrypted");
    expect(describeMessageSecurity({ "x-leap-signature": ["could not verify"] }, keys)).toBe("not encrypted");
    expect(describeMessageSecurity({ "x-leap-signature": ["invalid"] }, keys)).toBe("not encrypted, the signature is NOT valid");
    const unknown = "0123456789ABCDEF0123456789ABCDEF01234567";
    expect(describeMessageSecurity({ "x-leap-signature": [`valid; pubkey="${unknown}"`] }, keys)).toBe(
      "not encrypted, signed by an unknown key (0123 4567 89AB CDEF 0123 4567 89AB CDEF 0123 4567, not in the key list)",
    );
  });
});
