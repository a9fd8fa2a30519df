// The daemon's SMTP gateway as Thunderbird uses it, relaying through the
// account's provider: mail to a user of the same provider arrives there
// encrypted and signed; "always encrypt" (a synced setting) refuses a
// recipient without a key and sends nothing; a provider that is down gets
// the client a temporary error, so the client keeps the message.
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UnlockedAccount } from "../../native-host/daemon/daemon";
import { updateSettings } from "../../native-host/store/settings";
import { signUpAccount, startTestDaemon, startTlsProvider, syncNow, type TestDaemon, type TlsProvider } from "../helpers/daemon";

const PASSPHRASE = "correct horse battery staple";

let provider: TlsProvider;
let aliceDevice: TestDaemon;
let carolDevice: TestDaemon;
let alice: UnlockedAccount;
let carol: UnlockedAccount;

beforeAll(async () => {
  provider = await startTlsProvider();
  aliceDevice = await startTestDaemon();
  carolDevice = await startTestDaemon();
  alice = await signUpAccount(aliceDevice.daemon, provider, "alice@example.org", PASSPHRASE);
  carol = await signUpAccount(carolDevice.daemon, provider, "carol@example.org", PASSPHRASE);
  // The first rounds make and publish both keys.
  await syncNow(alice);
  await syncNow(carol);
});

afterAll(async () => {
  await aliceDevice?.stop();
  await carolDevice?.stop();
  await provider?.stop();
});

function send(to: string[], subject: string) {
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port: aliceDevice.daemon.smtpPort!,
    secure: false,
    ignoreTLS: true,
    auth: { user: alice.address, pass: alice.tokens.current() },
  });
  return transport
    .sendMail({ from: alice.address, to, subject, text: `the body of ${subject}` })
    .finally(() => transport.close());
}

describe("the daemon's SMTP gateway", () => {
  it("sends to a user of the same provider encrypted and signed, through submission and MX", async () => {
    await send(["carol@example.org"], "hello carol");
    await syncNow(carol);
    const inbox = carol.mail.requireMailbox("INBOX");
    const raw = inbox.get(inbox.uids().at(-1)!)!.raw().toString("utf8");
    expect(raw).toContain("X-Leap-Encryption: decrypted");
    expect(raw).toContain(`X-Leap-Signature: valid; pubkey="${alice.keys!.ownFingerprint()}"`);
    expect(raw).toContain("Subject: hello carol");
    expect(raw).toContain("the body of hello carol");
  });

  it("refuses, under always-encrypt, a recipient without a key, naming it, and sends to nobody", async () => {
    updateSettings(alice.store, { alwaysEncrypt: true });
    try {
      const before = carol.mail.requireMailbox("INBOX").counts().messages;
      await expect(send(["carol@example.org", "nokey@example.org"], "must not go")).rejects.toThrow(/550.*nokey@example\.org/s);
      await syncNow(carol);
      expect(carol.mail.requireMailbox("INBOX").counts().messages).toBe(before);
    } finally {
      updateSettings(alice.store, { alwaysEncrypt: false });
    }
  });

  it("answers 4xx while the provider is down, so the client keeps the message", async () => {
    const { submissionPort } = provider;
    await provider.close();
    try {
      const error = await send(["carol@example.org"], "while down").then(
        () => ({ responseCode: 250 }),
        (caught: { responseCode?: number }) => caught,
      );
      expect(error.responseCode).toBeGreaterThanOrEqual(400);
      expect(error.responseCode).toBeLessThan(500);
    } finally {
      provider = await startTlsProvider({ dataDir: provider.dataDir, httpPort: Number(new URL(provider.url).port), mxPort: provider.mxPort, submissionPort });
    }
  });
});
