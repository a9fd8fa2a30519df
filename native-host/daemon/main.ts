// bitmaskd: the user's daemon. Unlocks (or creates) the account's encrypted
// store and serves it over local IMAP until stopped.
import { Command, Option } from "commander";
import pino from "pino";
import { accountStoreExists, createAccountStore, unlockAccountStore } from "../store/account-store";
import { WrongPassphraseError } from "../store/secrets";
import { NoPassphraseError, readPassphrase } from "../cli/passphrase";
import { accountDir, defaultDataDir } from "./account-folder";
import { PortInUseError, startDaemon } from "./daemon";

type Options = { dataDir: string; address: string; imapPort: number; verbose: boolean };

/** Exit codes: 0 stopped cleanly, 1 unexpected failure, 2 bad passphrase, 3 port taken. */
const EXIT_BAD_PASSPHRASE = 2;
const EXIT_PORT_IN_USE = 3;

const program = new Command()
  .name("bitmaskd")
  .description("Bitmask Mail daemon: encrypted local mail store served to Thunderbird over local IMAP")
  .addOption(new Option("--data-dir <dir>", "where accounts are kept").default(defaultDataDir()))
  .addOption(new Option("--address <address>", "the account's mail address").default("alice@localhost"))
  .addOption(new Option("--imap-port <port>", "local IMAP port on 127.0.0.1").default(1984).argParser(Number))
  .option("-v, --verbose", "log logins and errors to stderr", false)
  .action(async (options: Options) => {
    const log = pino({ level: options.verbose ? "info" : "warn" }, pino.destination(2));
    const dir = accountDir(options.dataDir, options.address);
    const isNew = !accountStoreExists(dir);
    const passphrase = await readPassphrase(isNew ? `New passphrase for ${options.address}: ` : `Passphrase for ${options.address}: `);
    const store = isNew ? await createAccountStore(dir, passphrase) : await unlockAccountStore(dir, passphrase);
    let daemon;
    try {
      daemon = await startDaemon({ address: options.address, store, imapPort: options.imapPort, log });
    } catch (error) {
      store.close();
      throw error;
    }
    const token = daemon.tokens.current();
    console.log(`${isNew ? "Created" : "Unlocked"} account ${options.address} (${dir})`);
    for (const info of daemon.account.list()) {
      const counts = daemon.account.requireMailbox(info.name).counts();
      console.log(`  ${info.name.padEnd(10)} ${String(counts.messages).padStart(6)} messages, ${counts.unseen} unseen`);
    }
    console.log(`
IMAP  127.0.0.1:${daemon.imapPort}  (no TLS: loopback only)
User  ${options.address}
Token ${token}   (the password for IMAP and SMTP)

mutt:  mutt -f 'imap://${encodeURIComponent(options.address)}@127.0.0.1:${daemon.imapPort}/INBOX'   (password: the token)
Thunderbird: add an IMAP account for 127.0.0.1 port ${daemon.imapPort}, connection security None,
             authentication "Normal password", user name ${options.address}, password the token.
Press Ctrl-C to stop.`);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await daemon.stop();
  });

try {
  await program.parseAsync();
} catch (error) {
  console.error(`bitmaskd: ${(error as Error).message}`);
  if (error instanceof WrongPassphraseError || error instanceof NoPassphraseError) process.exit(EXIT_BAD_PASSPHRASE);
  if (error instanceof PortInUseError) process.exit(EXIT_PORT_IN_USE);
  process.exit(1);
}
