// Signing up with a provider the system does not trust: the control API
// (what the setup page asks) shows its certificate unverified, with the
// SHA-256 fingerprint the user compares; given back as the provider's CA,
// that exact certificate is pinned and the sign-up works. Plain http:// is
// refused with a clear error unless the provider is on loopback.
import { X509Certificate } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlClient, ControlRequestError } from "../../native-host/control/client";
import { startDaemon, type Daemon } from "../../native-host/daemon/daemon";
import { startTlsProvider, type TlsProvider } from "../helpers/daemon";
import { tempDir } from "../helpers/temp-store";

let data: ReturnType<typeof tempDir>;
let provider: TlsProvider;
let daemon: Daemon;
let client: ControlClient;

beforeAll(async () => {
  data = tempDir("pinning-");
  provider = await startTlsProvider();
  daemon = await startDaemon({ dataDir: data.dir, imapPort: 0, log: pino({ level: "silent" }) });
  client = await ControlClient.connect(daemon.controlSocketPath!);
}, 60_000);

afterAll(async () => {
  client?.close();
  await daemon?.stop();
  await provider?.stop();
  data?.cleanup();
});

describe("a provider the system does not trust", () => {
  it("is shown by fingerprint, and pinned when its certificate is given back", async () => {
    const shown = await client.request("provider.certificate", { provider: provider.url });
    expect(shown.trusted).toBe(false);
    expect(shown.fingerprint).toBe(new X509Certificate(provider.ca).fingerprint256);
    await expect(client.request("account.create", { address: "pat@example.org", passphrase: "pw", provider: provider.url })).rejects.toThrow(/certificate/i);
    const account = await client.request("account.create", { address: "pat@example.org", passphrase: "pw", provider: provider.url, providerCa: shown.pem });
    expect(account.address).toBe("pat@example.org");
  });

  it("refuses plain http:// off loopback, in words", async () => {
    const refused = client.request("account.create", { address: "quinn@example.org", passphrase: "pw", provider: "http://provider.example.org" });
    await expect(refused).rejects.toBeInstanceOf(ControlRequestError);
    await expect(refused).rejects.toThrow("a provider must use https://");
    await expect(client.request("provider.certificate", { provider: "http://provider.example.org" })).rejects.toThrow("a provider must use https://");
    expect(daemon.status().locked).not.toContain("quinn@example.org");
  });
});
