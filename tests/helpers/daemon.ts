// The whole system in one test process: a provider with its own TLS
// certificate on loopback, and full daemons (IMAP, SMTP gateway, keys, sync,
// incoming) on free ports with temporary data folders, each account at that
// provider. Rounds with the provider run on demand (syncNow) unless a test
// asks for a short interval.
import { ImapFlow } from "imapflow";
import nodemailer from "nodemailer";
import pino from "pino";
import { fullServices } from "../../native-host/daemon/account-services";
import { type Daemon, startDaemon, type UnlockedAccount } from "../../native-host/daemon/daemon";
import { WkdClient } from "../../native-host/keys/wkd";
import type { ProviderOptions } from "../../provider/options";
import { startTestProvider, type TestProvider } from "./provider";
import { selfSignedCertificate } from "./smtp-sink";
import { tempDir } from "./temp-store";

/** A round "every hour": in a test, only when the test asks. */
const ON_DEMAND_MS = 3_600_000;

let certificate: Promise<{ key: string; cert: string }> | null = null;

/** One certificate for 127.0.0.1 per test file; its PEM is the CA daemons trust. */
export function testCertificate(): Promise<{ key: string; cert: string }> {
  certificate ??= selfSignedCertificate();
  return certificate;
}

export type TlsProvider = TestProvider & { ca: string };

/** A provider with TLS (HTTPS API, STARTTLS on SMTP), as daemons need it. */
export async function startTlsProvider(options: Partial<ProviderOptions> = {}): Promise<TlsProvider> {
  const tls = await testCertificate();
  const provider = await startTestProvider({ tls, ...options });
  return { ...provider, ca: tls.cert };
}

export type TestDaemon = {
  daemon: Daemon;
  dataDir: string;
  /** Stops the daemon and removes its data folder. */
  stop(): Promise<void>;
};

/** `push`: listen to the provider's event stream (off by default: tests
 * decide when devices talk); `localChangeDelayMs`: push local changes by
 * themselves this soon after them; `log`: to watch what the daemon logs;
 * `controlSocket`: listen on `<dataDir>/bitmaskd.sock` (the default is none);
 * `webPagesDir`: run the web reader on a free port, serving these pages. */
export async function startTestDaemon(
  options: {
    dataDir?: string;
    intervalMs?: number;
    push?: boolean;
    localChangeDelayMs?: number;
    log?: pino.Logger;
    controlSocket?: boolean;
    webPagesDir?: string;
  } = {},
): Promise<TestDaemon> {
  const temp = options.dataDir ? null : tempDir("bitmask-daemon-");
  const dataDir = options.dataDir ?? temp!.dir;
  const daemon = await startDaemon({
    dataDir,
    imapPort: 0,
    smtpPort: 0,
    socketPath: options.controlSocket ? undefined : null,
    web: options.webPagesDir ? { port: 0, pagesDir: options.webPagesDir } : undefined,
    services: fullServices({
      // Rounds on demand unless asked (not even after a local change): tests
      // decide when devices talk.
      intervalMs: options.intervalMs ?? ON_DEMAND_MS,
      localChangeDelayMs: options.localChangeDelayMs ?? options.intervalMs ?? ON_DEMAND_MS,
      push: options.push ?? false,
      // No internet here: every WKD host is unknown, at once.
      wkd: new WkdClient({ connectTo: () => null }),
    }),
    log: options.log ?? pino({ level: process.env.DAEMON_TEST_LOG ?? "silent" }),
  });
  return {
    daemon,
    dataDir,
    async stop() {
      await daemon.stop();
      temp?.cleanup();
    },
  };
}

/** Signs `address` up at `provider` from this daemon and serves it. */
export function signUpAccount(daemon: Daemon, provider: TlsProvider, address: string, passphrase: string): Promise<UnlockedAccount> {
  return daemon.createAccount(address, passphrase, { url: provider.url, ca: provider.ca });
}

/** Logs `address` in from this daemon (a second device: fetched from the provider). */
export function logInAccount(daemon: Daemon, provider: TlsProvider, address: string, passphrase: string): Promise<UnlockedAccount> {
  return daemon.unlockAccount(address, passphrase, { url: provider.url, ca: provider.ca });
}

/** One round with the provider now (sync, key, incoming, push). */
export async function syncNow(account: UnlockedAccount): Promise<void> {
  const sync = account.sync;
  if (!sync) throw new Error(`${account.address} has no provider`);
  const status = await sync.syncNow(() => {});
  if (status.state !== "idle") throw new Error(`sync of ${account.address} ended ${status.state}: ${JSON.stringify(account.errors.slice(-3))}`);
}

/** Every message in the account's INBOX, read over the daemon's IMAP as a mail client would. */
export async function inboxOverImap(daemon: Daemon, account: UnlockedAccount): Promise<string[]> {
  const client = new ImapFlow({
    host: "127.0.0.1",
    port: daemon.imapPort,
    secure: false,
    auth: { user: account.address, pass: account.tokens.current() },
    logger: false,
  });
  await client.connect();
  try {
    const lock = await client.getMailboxLock("INBOX");
    try {
      const sources: string[] = [];
      if (client.mailbox && client.mailbox.exists === 0) return sources;
      for await (const message of client.fetch("1:*", { source: true })) sources.push(message.source!.toString("utf8"));
      return sources;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
}

/** Sends a message as `account` through its daemon's SMTP gateway, as a mail client does. */
export async function sendThroughGateway(
  daemon: Daemon,
  account: UnlockedAccount,
  message: { from?: string; to: string | string[]; subject: string; text: string },
): Promise<void> {
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port: daemon.smtpPort!,
    secure: false,
    ignoreTLS: true,
    auth: { user: account.address, pass: account.tokens.current() },
  });
  await transport.sendMail({ from: account.address, ...message }).finally(() => transport.close());
}

/** The newest message of the account's INBOX, as text. */
export function newestInInbox(account: UnlockedAccount): string {
  const inbox = account.mail.requireMailbox("INBOX");
  return inbox.get(inbox.uids().at(-1)!)!.raw().toString("utf8");
}

export type TwoDevices = { provider: TlsProvider; aliceDevice: TestDaemon; carolDevice: TestDaemon; alice: UnlockedAccount; carol: UnlockedAccount };

/** A provider and two daemons, alice@example.org on the first (with `aliceOptions`)
 * and carol@example.org on the second, each signed up with its key published. */
export async function startTwoDevices(passphrase: string, aliceOptions: Parameters<typeof startTestDaemon>[0] = {}): Promise<TwoDevices> {
  const provider = await startTlsProvider();
  const aliceDevice = await startTestDaemon(aliceOptions);
  const carolDevice = await startTestDaemon();
  const alice = await signUpAccount(aliceDevice.daemon, provider, "alice@example.org", passphrase);
  const carol = await signUpAccount(carolDevice.daemon, provider, "carol@example.org", passphrase);
  await syncNow(alice);
  await syncNow(carol);
  return { provider, aliceDevice, carolDevice, alice, carol };
}
