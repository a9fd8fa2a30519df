// What the setup page shows before signing up with a provider whose
// certificate the system does not trust (`npm start`'s own, a self-hosted
// one): the certificate itself, fetched without verification, and its
// SHA-256 fingerprint for the user to compare. Once the user accepts it, the
// PEM is given as the provider's only CA: that exact certificate is pinned.
import net from "node:net";
import tls from "node:tls";
import type { ProviderCertificate } from "../../shared/control-api";
import { checkProviderUrl, InsecureProviderError } from "../../shared/provider-url";
import { PROVIDER_CERTIFICATE_TIMEOUT_MS } from "../limits";

function toPem(der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

export function fetchProviderCertificate(url: string): Promise<ProviderCertificate> {
  const parsed = checkProviderUrl(url);
  if (parsed.protocol !== "https:") throw new InsecureProviderError(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host, port: Number(parsed.port || 443), ...(net.isIP(host) ? {} : { servername: host }), rejectUnauthorized: false },
      () => {
        const certificate = socket.getPeerCertificate();
        const nameProblem = tls.checkServerIdentity(host, certificate);
        resolve({ fingerprint: certificate.fingerprint256, pem: toPem(certificate.raw), trusted: socket.authorized && !nameProblem });
        socket.end();
      },
    );
    socket.setTimeout(PROVIDER_CERTIFICATE_TIMEOUT_MS, () => socket.destroy(new Error(`${url} did not answer within ${PROVIDER_CERTIFICATE_TIMEOUT_MS / 1000} s`)));
    socket.once("error", (error) => reject(new Error(`could not reach ${url}: ${error.message}`)));
  });
}
