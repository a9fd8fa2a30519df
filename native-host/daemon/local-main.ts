// bitmask-local (`npm start`): the whole system on this machine. A provider
// on loopback (its own TLS certificate, made once with openssl) and the
// daemon with one account there, created on the first run and unlocked on
// the next ones; then it prints how to connect Thunderbird or mutt.
// Everything lives under --data-dir (default ./data).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Command, Option } from "commander";
import pino from "pino";
import { startProvider, type RunningProvider } from "../../provider/provider";
import { NoPassphraseError, readPassphrase } from "../cli/passphrase";
import { DaemonAlreadyRunningError } from "../control/server";
import { DEFAULT_IMAP_PORT } from "../imap/server";
import { DEFAULT_SMTP_PORT } from "../smtp/gateway";
import { accountStoreExists } from "../store/account-store";
import { WrongPassphraseError } from "../store/secrets";
import { accountDir } from "./account-folder";
import { fullServices } from "./account-services";
import { type Daemon, PortInUseError, startDaemon } from "./daemon";
import { portNumber } from "../../shared/port-option";

const DOMAIN = "bitmask.localhost";
/** How long the first run waits for the account's key before printing. */
const KEY_WAIT_MS = 30_000;

type Options = {
  dataDir: string;
  address: string;
  imapPort: number;
  smtpPort: number;
  providerPort: number;
  mxPort: number;
  submissionPort: number;
  verbose: boolean;
};

/** The provider's certificate for 127.0.0.1, made once; its PEM is also the
 * CA the daemon trusts for this provider. */
function certificate(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  if (!existsSync(cert) || !existsSync(key)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "3650"];
    args.push("-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost");
    try {
      execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
    } catch (error) {
      throw new Error(`could not make the local provider's certificate with openssl (apt-get install openssl): ${(error as Error).message}`);
    }
  }
  return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
}

async function openAccount(daemon: Daemon, provider: RunningProvider, ca: string, options: Options): Promise<void> {
  const isNew = !accountStoreExists(accountDir(options.dataDir, options.address));
  const passphrase = await readPassphrase(isNew ? `New passphrase for ${options.address}: ` : `Passphrase for ${options.address}: `);
  if (isNew) await daemon.createAccount(options.address, passphrase, { url: provider.url, ca });
  else await daemon.unlockAccount(options.address, passphrase);
}

/** The first round with the provider makes the key; the printout shows it. */
async function keyFingerprint(daemon: Daemon, address: string): Promise<string> {
  const deadline = Date.now() + KEY_WAIT_MS;
  for (;;) {
    const fingerprint = daemon.account(address).keys?.ownFingerprint();
    if (fingerprint) return fingerprint;
    if (Date.now() > deadline) return "still being made (see `bitmaskctl mail status`)";
    await sleep(100);
  }
}

function howToConnect(daemon: Daemon, provider: RunningProvider, options: Options, token: string, fingerprint: string): string {
  const user = options.address;
  const imapUrl = `imap://${encodeURIComponent(user)}@127.0.0.1:${daemon.imapPort}/INBOX`;
  return `Bitmask Mail is running (data in ${options.dataDir}). Ctrl-C stops it.

Account   ${user}
Key       ${fingerprint}
Provider  ${provider.url}   MX 127.0.0.1:${provider.mxPort}   submission 127.0.0.1:${provider.submissionPort}
          embedded, without Postfix: mail stays on this provider (no MX lookup,
          no DKIM, no SPF/DKIM/DMARC checks); a real deployment puts Postfix in
          front (README, "Deploying a provider")

IMAP      127.0.0.1:${daemon.imapPort}   no TLS (loopback only), normal password
SMTP      127.0.0.1:${daemon.smtpPort}   no TLS (loopback only), normal password
Username  ${user}
Password  ${token}   (the mail token; \`node dist/bitmaskctl.js --data-dir ${options.dataDir} mail get_token\`)

Thunderbird, with the add-on (it makes the account itself, no typing):
  npm run package         # builds dist/bitmask-mail.xpi
  npm run register-host   # lets Thunderbird start the daemon (native messaging)
  Thunderbird > Add-ons and Themes > gear > Install Add-on From File > dist/bitmask-mail.xpi
Thunderbird by hand: add a mail account with the IMAP and SMTP settings above.

mutt:
  mutt -f '${imapUrl}' -e 'set imap_pass="${token}"' \\
    -e 'set smtp_url="smtp://${encodeURIComponent(user)}@127.0.0.1:${daemon.smtpPort}" smtp_pass="${token}" from="${user}"'

Mail from outside (the provider's MX encrypts it to the account's key):
  swaks --server 127.0.0.1:${provider.mxPort} --from someone@example.net --to ${user}`;
}

const program = new Command()
  .name("bitmask-local")
  .description("Bitmask Mail on this machine: a local provider on loopback and the daemon with one account there")
  .addOption(new Option("--data-dir <dir>", "where the provider and the account are kept").default("data"))
  .addOption(new Option("--address <address>", "the account").default(`alice@${DOMAIN}`))
  .addOption(new Option("--imap-port <port>", "local IMAP port").default(DEFAULT_IMAP_PORT).argParser(portNumber))
  .addOption(new Option("--smtp-port <port>", "local SMTP port").default(DEFAULT_SMTP_PORT).argParser(portNumber))
  .addOption(new Option("--provider-port <port>", "the provider's HTTPS API port").default(1985).argParser(portNumber))
  .addOption(new Option("--mx-port <port>", "the provider's MX port").default(2025).argParser(portNumber))
  .addOption(new Option("--submission-port <port>", "the provider's submission port").default(2587).argParser(portNumber))
  .option("-v, --verbose", "log to stderr (never mail content)", false)
  .action(async (options: Options) => {
    if (!options.address.toLowerCase().endsWith(`@${DOMAIN}`)) throw new Error(`the local provider serves addresses @${DOMAIN}`);
    // Listening for Ctrl-C from the start: a signal during set-up, or right
    // after the printout, still stops everything cleanly.
    const stopRequested = new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    const log = pino({ level: options.verbose ? "info" : "warn" }, pino.destination(2));
    const providerDir = path.join(options.dataDir, "provider");
    const tls = certificate(path.join(providerDir, "tls"));
    const provider = await startProvider({
      domain: DOMAIN,
      dataDir: providerDir,
      httpPort: options.providerPort,
      mxPort: options.mxPort,
      submissionPort: options.submissionPort,
      tls,
      logger: log.child({ program: "provider" }),
    });
    let daemon: Daemon | null = null;
    try {
      daemon = await startDaemon({
        dataDir: options.dataDir,
        imapPort: options.imapPort,
        smtpPort: options.smtpPort,
        services: fullServices(),
        log: log.child({ program: "bitmaskd" }),
      });
      await openAccount(daemon, provider, tls.cert, options);
      const token = daemon.account(options.address).tokens.current();
      console.log(howToConnect(daemon, provider, options, token, await keyFingerprint(daemon, options.address)));
      await stopRequested;
      // A second signal while stopping means "now".
      process.once("SIGINT", () => process.exit(1));
    } finally {
      await daemon?.stop();
      await provider.close();
    }
  });

try {
  await program.parseAsync();
} catch (error) {
  console.error(`bitmask-local: ${(error as Error).message}`);
  if (error instanceof WrongPassphraseError || error instanceof NoPassphraseError) process.exit(2);
  if (error instanceof PortInUseError || (error as NodeJS.ErrnoException).code === "EADDRINUSE") process.exit(3);
  if (error instanceof DaemonAlreadyRunningError) process.exit(4);
  process.exit(1);
}
