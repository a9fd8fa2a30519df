// bitmask-local (`npm start`): the whole system on this machine. A provider
// on loopback (its own TLS certificate, made once with openssl) and the
// daemon with one account there, created on the first run and unlocked on
// the next ones; then it prints how to connect Thunderbird or mutt.
// Everything lives under --data-dir, by default the same folder bitmaskd,
// bitmaskctl and the add-on's native host use; a daemon already running
// there (the add-on starts one) is used instead of starting a second.
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
import { LOGIN_LINK_TTL_MS } from "../web/limits";
import { DEFAULT_WEB_PORT, pagesBesideProgram } from "../web/server";
import { WrongPassphraseError } from "../store/secrets";
import type { AccountStatus } from "../../shared/control-api";
import { ControlClient, ControlRequestError, DaemonNotRunningError } from "../control/client";
import { controlSocketPath } from "../control/socket-path";
import { defaultDataDir } from "./account-folder";
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
  webPort: number;
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

/** The daemon for this data folder: the one already running (started by
 * the add-on, or by hand), or a new one in this process. Either way the
 * account is opened through the control socket, as any client does. */
async function attachOrStart(options: Options, log: pino.Logger): Promise<{ client: ControlClient; own: Daemon | null }> {
  const socket = controlSocketPath(options.dataDir);
  try {
    return { client: await ControlClient.connect(socket), own: null };
  } catch (error) {
    if (!(error instanceof DaemonNotRunningError)) throw error;
  }
  const own = await startDaemon({
    dataDir: options.dataDir,
    imapPort: options.imapPort,
    smtpPort: options.smtpPort,
    web: { port: options.webPort, pagesDir: pagesBesideProgram() },
    services: fullServices(),
    log: log.child({ program: "bitmaskd" }),
  });
  return { client: await ControlClient.connect(socket), own };
}

/** Created at the first run (signed up at the local provider), unlocked at
 * the next; nothing to do when the running daemon already serves it. */
async function openAccount(client: ControlClient, provider: RunningProvider, ca: string, address: string): Promise<AccountStatus> {
  const status = await client.request("status", {});
  const served = status.accounts.find((account) => account.address === address);
  if (served) return served;
  const isNew = !status.locked.includes(address);
  const passphrase = await readPassphrase(isNew ? `New passphrase for ${address}: ` : `Passphrase for ${address}: `);
  if (isNew) return client.request("account.create", { address, passphrase, provider: provider.url, providerCa: ca });
  return client.request("account.login", { address, passphrase });
}

/** The first round with the provider makes the key; the printout shows it. */
async function keyFingerprint(client: ControlClient, address: string): Promise<string> {
  const deadline = Date.now() + KEY_WAIT_MS;
  for (;;) {
    const { keyFingerprint } = await client.request("mail.status", { address });
    if (keyFingerprint) return keyFingerprint;
    if (Date.now() > deadline) return "still being made (see `bitmaskctl mail status`)";
    await sleep(100);
  }
}

/** How to run bitmaskctl on this data folder. */
function bitmaskctl(options: Options): string {
  return `node dist/bitmaskctl.js${options.dataDir === defaultDataDir() ? "" : ` --data-dir ${options.dataDir}`}`;
}

/** The reader's address and a log-in link (it works once, for a few minutes). */
async function webMail(client: ControlClient, address: string, ctl: string): Promise<string> {
  try {
    const { url } = await client.request("web.open_link", { address });
    return `${new URL(url).origin}\n          log in (once, within ${LOGIN_LINK_TTL_MS / 60_000} minutes): ${url}\n          a new link: ${ctl} web open`;
  } catch (error) {
    if (error instanceof ControlRequestError && error.code === "unavailable") return `not running (${error.message})`;
    throw error;
  }
}

function howToConnect(
  account: AccountStatus,
  provider: RunningProvider,
  options: Options,
  token: string,
  fingerprint: string,
  attachedTo: number | null,
  web: string,
): string {
  const user = account.address;
  const smtpPort = account.smtp?.port ?? options.smtpPort;
  const imapUrl = `imap://${encodeURIComponent(user)}@127.0.0.1:${account.imap.port}/INBOX`;
  const ctl = bitmaskctl(options);
  const daemonLine =
    attachedTo === null
      ? "Ctrl-C stops it."
      : `bitmaskd (pid ${attachedTo}) was already running: this uses it, and Ctrl-C leaves it running (\`${ctl} stop\` stops it).`;
  return `Bitmask Mail is running (data in ${options.dataDir}). ${daemonLine}

Account   ${user}
Key       ${fingerprint}
Provider  ${provider.url}   MX 127.0.0.1:${provider.mxPort}   submission 127.0.0.1:${provider.submissionPort}

IMAP      127.0.0.1:${account.imap.port}   no TLS (loopback only), normal password
SMTP      127.0.0.1:${smtpPort}   no TLS (loopback only), normal password
Username  ${user}
Password  ${token}   (the mail token; \`${ctl} mail get_token\`)

Web mail  ${web}

Thunderbird, with the add-on (it makes the account itself, no typing):
  npm run package         # builds dist/bitmask-mail.xpi
  npm run register-host   # lets Thunderbird reach this daemon (native messaging)
  Thunderbird > Add-ons and Themes > gear > Install Add-on From File > dist/bitmask-mail.xpi
Thunderbird by hand: add a mail account with the IMAP and SMTP settings above.

mutt:
  mutt -f '${imapUrl}' -e 'set imap_pass="${token}"' \\
    -e 'set smtp_url="smtp://${encodeURIComponent(user)}@127.0.0.1:${smtpPort}" smtp_pass="${token}" from="${user}"'

Mail from outside (the provider's MX encrypts it to the account's key):
  swaks --server 127.0.0.1:${provider.mxPort} --from someone@example.net --to ${user}`;
}

const program = new Command()
  .name("bitmask-local")
  .description("Bitmask Mail on this machine: a local provider on loopback and the daemon with one account there")
  .addOption(
    new Option("--data-dir <dir>", "where the provider and the account are kept: bitmaskd's, bitmaskctl's and the add-on's default").default(defaultDataDir()),
  )
  .addOption(new Option("--address <address>", "the account").default(`alice@${DOMAIN}`))
  .addOption(new Option("--imap-port <port>", "local IMAP port").default(DEFAULT_IMAP_PORT).argParser(portNumber))
  .addOption(new Option("--smtp-port <port>", "local SMTP port").default(DEFAULT_SMTP_PORT).argParser(portNumber))
  .addOption(new Option("--web-port <port>", "the web reader's port").default(DEFAULT_WEB_PORT).argParser(portNumber))
  .addOption(new Option("--provider-port <port>", "the provider's HTTPS API port").default(1985).argParser(portNumber))
  .addOption(new Option("--mx-port <port>", "the provider's MX port").default(2025).argParser(portNumber))
  .addOption(new Option("--submission-port <port>", "the provider's submission port").default(2587).argParser(portNumber))
  .option("-v, --verbose", "log to stderr (never mail content)", false)
  .action(async (options: Options) => {
    if (!options.address.toLowerCase().endsWith(`@${DOMAIN}`)) throw new Error(`the local provider serves addresses @${DOMAIN}`);
    // Listening for Ctrl-C from the start: a signal during set-up, or right
    // after the printout, still stops everything cleanly.
    let requestStop = () => {};
    const stopRequested = new Promise<void>((resolve) => {
      requestStop = resolve;
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
    let daemon: { client: ControlClient; own: Daemon | null } | null = null;
    try {
      daemon = await attachOrStart(options, log);
      // `bitmaskctl stop` on our own daemon ends this program, as Ctrl-C does.
      daemon.own?.events.once("stop-requested", requestStop);
      const { client } = daemon;
      const address = options.address.toLowerCase();
      const account = await openAccount(client, provider, tls.cert, address);
      const { token } = await client.request("mail.get_token", { address });
      const attachedTo = daemon.own ? null : (await client.request("status", {})).pid;
      const web = await webMail(client, address, bitmaskctl(options));
      console.log(howToConnect(account, provider, options, token, await keyFingerprint(client, address), attachedTo, web));
      // An attached daemon may be stopped under us: then there is nothing left to serve.
      client.onClose(requestStop);
      await stopRequested;
      // A second signal while stopping means "now".
      process.once("SIGINT", () => process.exit(1));
    } finally {
      daemon?.client.close();
      await daemon?.own?.stop();
      await provider.close();
    }
  });

try {
  await program.parseAsync();
} catch (error) {
  console.error(`bitmask-local: ${(error as Error).message}`);
  const wrongPassphrase = error instanceof ControlRequestError && error.code === "wrong-passphrase";
  if (wrongPassphrase || error instanceof WrongPassphraseError || error instanceof NoPassphraseError) process.exit(2);
  if (error instanceof PortInUseError || (error as NodeJS.ErrnoException).code === "EADDRINUSE") process.exit(3);
  if (error instanceof DaemonAlreadyRunningError) process.exit(4);
  process.exit(1);
}
