// bitmaskd: the user's daemon. Serves unlocked accounts over local IMAP and
// SMTP, syncs them with their provider, answers bitmaskctl and the add-on on
// its control socket, and runs until SIGINT or SIGTERM, then stops gracefully.
//
// With --address it unlocks (or creates) that account at start, asking for
// the passphrase (or reading BITMASK_PASSPHRASE). Without, it starts with
// every account locked; `bitmaskctl account login` or the add-on's setup page
// unlocks them. The native-messaging bridge starts it that way; the ports
// then come from BITMASK_IMAP_PORT / BITMASK_SMTP_PORT in Thunderbird's
// environment when set (the add-on takes whatever ports the daemon reports).
import { Command, Option } from "commander";
import pino from "pino";
import { portNumber } from "../../shared/port-option";
import { NoPassphraseError, readPassphrase } from "../cli/passphrase";
import { DaemonAlreadyRunningError } from "../control/server";
import { accountStoreExists } from "../store/account-store";
import { WrongPassphraseError } from "../store/secrets";
import { accountDir, defaultDataDir } from "./account-folder";
import { DEFAULT_IMAP_PORT } from "../imap/server";
import { DEFAULT_SMTP_PORT } from "../smtp/gateway";
import { DEFAULT_WEB_PORT, pagesBesideProgram } from "../web/server";
import { fullServices } from "./account-services";
import { PortInUseError, startDaemon } from "./daemon";

/** Exit codes: 0 stopped cleanly, 1 unexpected failure, 2 bad or missing
 * passphrase, 3 a port is taken, 4 another bitmaskd runs for this data folder. */
const EXIT_BAD_PASSPHRASE = 2;
const EXIT_PORT_IN_USE = 3;
const EXIT_ALREADY_RUNNING = 4;

type Options = { dataDir: string; address?: string; imapPort: number; smtpPort: number; webPort: number | false; verbose: boolean };

const program = new Command()
  .name("bitmaskd")
  .description("Bitmask Mail daemon: the encrypted local mail store, served to Thunderbird over local IMAP and SMTP")
  .addOption(new Option("--data-dir <dir>", "where accounts and the control socket are kept").default(defaultDataDir()))
  .option("--address <address>", "unlock (or create) this account at start")
  .addOption(
    new Option("--imap-port <port>", "IMAP port on 127.0.0.1 (0: any free port)")
      .env("BITMASK_IMAP_PORT")
      .default(DEFAULT_IMAP_PORT)
      .argParser(portNumber),
  )
  .addOption(
    new Option("--smtp-port <port>", "SMTP port on 127.0.0.1 (0: any free port)")
      .env("BITMASK_SMTP_PORT")
      .default(DEFAULT_SMTP_PORT)
      .argParser(portNumber),
  )
  .addOption(
    new Option("--web-port <port>", "the web reader's port on 127.0.0.1 (0: any free port)")
      .env("BITMASK_WEB_PORT")
      .default(DEFAULT_WEB_PORT)
      .argParser(portNumber),
  )
  .option("--no-web-port", "no web reader")
  .option("-v, --verbose", "log logins and errors to stderr", false)
  .action(async (options: Options) => {
    const log = pino({ level: options.verbose ? "info" : "warn" }, pino.destination(2));
    const daemon = await startDaemon({
      dataDir: options.dataDir,
      imapPort: options.imapPort,
      smtpPort: options.smtpPort,
      web: options.webPort === false ? undefined : { port: options.webPort, pagesDir: pagesBesideProgram() },
      services: fullServices(),
      log,
    });
    const stopped = new Promise<void>((resolve) => {
      const stop = () => {
        // A second signal while stopping means "now".
        process.once("SIGINT", () => process.exit(1));
        process.once("SIGTERM", () => process.exit(1));
        resolve();
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      daemon.events.once("stop-requested", stop);
    });
    try {
      if (options.address) {
        const isNew = !accountStoreExists(accountDir(options.dataDir, options.address));
        const passphrase = await readPassphrase(
          isNew ? `New passphrase for ${options.address}: ` : `Passphrase for ${options.address}: `,
        );
        if (isNew) await daemon.createAccount(options.address, passphrase);
        else await daemon.unlockAccount(options.address, passphrase);
        console.log(`${isNew ? "Created" : "Unlocked"} account ${options.address}`);
      }
    } catch (error) {
      await daemon.stop();
      throw error;
    }
    const status = daemon.status();
    console.log(`bitmaskd ${process.pid}
Control  ${daemon.controlSocketPath}
IMAP     127.0.0.1:${daemon.imapPort}   (no TLS: loopback only)
SMTP     ${daemon.smtpPort === null ? "not running in this version" : `127.0.0.1:${daemon.smtpPort}`}
Web mail ${daemon.webOrigin ?? "not running"}   (log in: bitmaskctl web open)
Unlocked ${status.accounts.map((account) => account.address).join(", ") || "none"}
Locked   ${status.locked.join(", ") || "none"}
The IMAP and SMTP password is the mail token: bitmaskctl mail get_token
Press Ctrl-C to stop.`);
    await stopped;
    await daemon.stop();
  });

try {
  await program.parseAsync();
} catch (error) {
  console.error(`bitmaskd: ${(error as Error).message}`);
  if (error instanceof WrongPassphraseError || error instanceof NoPassphraseError) process.exit(EXIT_BAD_PASSPHRASE);
  if (error instanceof PortInUseError) process.exit(EXIT_PORT_IN_USE);
  if (error instanceof DaemonAlreadyRunningError) process.exit(EXIT_ALREADY_RUNNING);
  process.exit(1);
}
