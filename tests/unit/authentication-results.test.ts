// The daemon keeps only its provider's Authentication-Results (above every
// Received field); one claiming our domain further down came from outside.
import { describe, expect, it } from "vitest";
import { stripForeignAuthenticationResults } from "../../native-host/incoming/authentication-results";

const strip = (text: string) => Buffer.from(stripForeignAuthenticationResults(Buffer.from(text, "latin1"), "a.test")).toString("latin1");

const ours = "Authentication-Results: a.test;\r\n dkim=pass header.i=@outside.test;\r\n spf=pass smtp.mailfrom=carol@outside.test\r\n";
const trace = "Received: from localhost (Postfix) by a.test (Bitmask provider) with LMTP id x\r\n\tfor <alice@a.test>; Wed, 02 Dec 2026 15:48:16 +0000\r\nDelivered-To: alice@a.test\r\n";
const body = "\r\nAuthentication-Results: a.test; dmarc=pass (in the body: not a field)\r\n";

describe("stripForeignAuthenticationResults", () => {
  it("removes a field claiming our domain below the first Received, folded lines and all", () => {
    const forged = "Authentication-Results: A.TEST (forged);\r\n dkim=pass header.i=@bank.test;\r\n dmarc=pass header.from=bank.test\r\n";
    const message = `${ours}${trace}Received: from mx.outside.test by mx.a.test\r\n${forged}From: service@bank.test\r\nSubject: hi\r\n${body}`;
    expect(strip(message)).toBe(`${ours}${trace}Received: from mx.outside.test by mx.a.test\r\nFrom: service@bank.test\r\nSubject: hi\r\n${body}`);
  });

  it("keeps our provider's field, other authserv-ids, and the bytes when nothing claims us", () => {
    const other = "Authentication-Results: mx.outside.test; spf=pass\r\n";
    const message = `${ours}${trace}Received: from somewhere\r\n${other}Subject: hi\r\n${body}`;
    const raw = Buffer.from(message, "latin1");
    expect(stripForeignAuthenticationResults(raw, "a.test")).toBe(raw);
    // a.test.evil is another server's id, not ours.
    expect(strip(`Received: x\r\nAuthentication-Results: a.test.evil; spf=pass\r\n\r\nbody`)).toBe("Received: x\r\nAuthentication-Results: a.test.evil; spf=pass\r\n\r\nbody");
  });
});
