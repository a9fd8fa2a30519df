// Autocrypt header parsing and Level 1 peer-state rules; WKD addressing.
import { describe, expect, it } from "vitest";
import {
  AutocryptHeaderError,
  formatAutocryptHeader,
  parseAutocryptHeader,
  stateAfterHeader,
  stateAfterMessageWithoutHeader,
} from "../../native-host/keys/autocrypt";
import { wkdUrls, zbase32 } from "../../native-host/keys/wkd";

const KEYDATA = new Uint8Array(Array.from({ length: 700 }, (_, i) => i % 256));

describe("Autocrypt header", () => {
  it("round-trips through format and parse, folded into short lines", () => {
    const value = formatAutocryptHeader("Alice@Example.org", KEYDATA, "mutual");
    for (const line of `Autocrypt: ${value}`.split("\r\n")) expect(line.length).toBeLessThanOrEqual(78);
    const parsed = parseAutocryptHeader(value);
    expect(parsed.addr).toBe("alice@example.org");
    expect(parsed.preferEncrypt).toBe("mutual");
    expect(parsed.keydata).toEqual(KEYDATA);
    // Unfolded by a mail parser, it reads the same.
    expect(parseAutocryptHeader(value.replace(/\r\n/g, "")).keydata).toEqual(KEYDATA);
  });

  it("ignores unknown attributes starting with _ and treats other values as nopreference", () => {
    const parsed = parseAutocryptHeader("addr=bob@example.net; _extra=1; prefer-encrypt=sometimes; keydata=AAEC");
    expect(parsed.preferEncrypt).toBe("nopreference");
    expect(parsed.keydata).toEqual(new Uint8Array([0, 1, 2]));
  });

  it("refuses headers Level 1 calls invalid", () => {
    const invalid = [
      "keydata=AAEC",
      "addr=bob@example.net",
      "addr=bob@example.net; color=blue; keydata=AAEC",
      "addr=bob@example.net; keydata=not base64!",
      "addr=bob@example.net; addr=eve@example.net; keydata=AAEC",
    ];
    for (const value of invalid) expect(() => parseAutocryptHeader(value), value).toThrow(AutocryptHeaderError);
  });
});

describe("Autocrypt peer state", () => {
  const header = { addr: "bob@example.net", preferEncrypt: "mutual" as const, keydata: new Uint8Array([1, 2, 3]) };
  const now = new Date("2030-01-10T00:00:00Z");

  it("takes a newer message's header and ignores an older one", () => {
    const first = stateAfterHeader(undefined, header, "FPR1", new Date("2030-01-05T00:00:00Z"), now)!;
    expect(first).toMatchObject({ fingerprint: "FPR1", autocryptTimestamp: Date.parse("2030-01-05T00:00:00Z") });
    const newer = stateAfterHeader(first, header, "FPR2", new Date("2030-01-06T00:00:00Z"), now)!;
    expect(newer.fingerprint).toBe("FPR2");
    expect(stateAfterHeader(newer, header, "FPR3", new Date("2030-01-04T00:00:00Z"), now)).toBeNull();
  });

  it("uses the arrival time for a message dated in the future", () => {
    const state = stateAfterHeader(undefined, header, "FPR1", new Date("2031-01-01T00:00:00Z"), now)!;
    expect(state.autocryptTimestamp).toBe(now.getTime());
    expect(state.lastSeen).toBe(now.getTime());
  });

  it("moves only last_seen for a newer message without a header", () => {
    const state = stateAfterHeader(undefined, header, "FPR1", new Date("2030-01-05T00:00:00Z"), now)!;
    const later = stateAfterMessageWithoutHeader(state, new Date("2030-01-08T00:00:00Z"), now)!;
    expect(later.lastSeen).toBe(Date.parse("2030-01-08T00:00:00Z"));
    expect(later.autocryptTimestamp).toBe(state.autocryptTimestamp);
    expect(stateAfterMessageWithoutHeader(later, new Date("2030-01-07T00:00:00Z"), now)).toBeNull();
    expect(stateAfterMessageWithoutHeader(undefined, new Date("2030-01-07T00:00:00Z"), now)).toBeNull();
  });
});

describe("WKD addresses", () => {
  it("hash the lower-cased local part as the draft's example shows", () => {
    // draft-koch-openpgp-webkey-service, section 3.1.
    const urls = wkdUrls("Joe.Doe@Example.ORG");
    expect(urls.advanced).toBe(
      "https://openpgpkey.example.org/.well-known/openpgpkey/example.org/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe",
    );
    expect(urls.direct).toBe("https://example.org/.well-known/openpgpkey/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe");
  });

  it("encode z-base-32 with partial groups", () => {
    expect(zbase32(new Uint8Array([]))).toBe("");
    expect(zbase32(new Uint8Array([0xff]))).toBe("9h");
    expect(zbase32(new Uint8Array([0, 0]))).toBe("yyyy");
  });
});
