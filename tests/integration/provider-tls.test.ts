// With a certificate the provider serves HTTPS and offers STARTTLS, and the
// submission service takes tokens only over TLS.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { get } from "node:https";
import { tmpdir } from "node:os";
import path from "node:path";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { healthResponse } from "../../shared/provider-api";
import { newAccount, publishNewKey, startTestProvider, type TestProvider } from "../helpers/provider";
import { expectSuccess, requireTool, runTool } from "../helpers/tools";

const opensslMissing = requireTool({ name: "openssl", install: "apt-get install openssl" }, "provider TLS tests");

describe.skipIf(opensslMissing)("provider with TLS", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "bitmask-provider-tls-"));
  let cert: string;
  let provider: TestProvider;
  beforeAll(async () => {
    expectSuccess(
      await runTool(
        "openssl",
        ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
          "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")],
        { timeoutMs: 20_000 },
      ),
      "openssl req",
    );
    cert = readFileSync(path.join(dir, "cert.pem"), "utf8");
    provider = await startTestProvider({ tls: { cert, key: readFileSync(path.join(dir, "key.pem"), "utf8") } });
  });
  afterAll(async () => {
    await provider.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the API over HTTPS", async () => {
    expect(provider.url).toMatch(/^https:/);
    const body = await new Promise<string>((resolve, reject) => {
      get(`${provider.url}/health`, { ca: cert }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      }).on("error", reject);
    });
    expect(healthResponse.parse(JSON.parse(body)).status).toBe("ok");
  });

  it("takes submission tokens only after STARTTLS", async () => {
    const token = await withoutCertificateCheck(() => newAccount(provider, "alice"));
    await withoutCertificateCheck(() => publishNewKey(provider, token, "alice@example.org"));
    const plain = nodemailer.createTransport({ host: "127.0.0.1", port: provider.submissionPort, secure: false, ignoreTLS: true, auth: { user: "alice", pass: token } });
    // smtp-server's 538: AUTH refused until STARTTLS, not a refused token.
    await expect(plain.verify()).rejects.toMatchObject({ code: "EAUTH", responseCode: 538 });
    const tls = nodemailer.createTransport({
      host: "127.0.0.1",
      port: provider.submissionPort,
      secure: false,
      requireTLS: true,
      tls: { ca: cert },
      auth: { user: "alice", pass: token },
    });
    await tls.sendMail({ from: "alice@example.org", to: "alice@example.org", subject: "over tls", text: "x" });
  });
});

/** The test helpers use fetch, which takes no per-request CA: the
 * self-signed certificate is accepted while `run` runs (HTTPS itself is
 * checked with the CA above). */
async function withoutCertificateCheck<T>(run: () => Promise<T>): Promise<T> {
  const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
  try {
    return await run();
  } finally {
    if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
  }
}
