// A DKIM key pair for the provider's domain and the TXT record publishing it
// (RFC 6376 3.6.1): RSA 2048, what every verifier accepts.
import { generateKeyPairSync } from "node:crypto";

export type DkimKey = { privateKey: string; dnsText: string };

export function newDkimKey(): DkimKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    // PKCS #1 ("BEGIN RSA PRIVATE KEY"): what OpenDKIM and dkimpy read too.
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "der" },
  });
  return { privateKey, dnsText: `v=DKIM1; k=rsa; p=${publicKey.toString("base64")}` };
}
