// bitmaskd: the user's daemon. This first version creates or unlocks the
// account's encrypted store and prints its state; the servers, sync and the
// control socket join it as they are built.
import { Command, Option } from "commander";
import { Account } from "../mail/account";
import { MailTokens } from "../auth/mail-token";
import { accountStoreExists, createAccountStore, unlockAccountStore } from "../store/account-store";
import { WrongPassphraseError } from "../store/secrets";
import { NoPassphraseError, readPassphrase } from "../cli/passphrase";
import { accountDir, defaultDataDir } from "./account-folder";

const program = new Command()
  .name("bitmaskd")
  .description("Bitmask Mail daemon: encrypted local mail store for Thunderbird")
  .addOption(new Option("--data-dir <dir>", "where accounts are kept").default(defaultDataDir()))
  .addOption(new Option("--address <address>", "the account's mail address").default("alice@localhost"))
  .action(async (options: { dataDir: string; address: string }) => {
    const dir = accountDir(options.dataDir, options.address);
    const isNew = !accountStoreExists(dir);
    const passphrase = await readPassphrase(isNew ? `New passphrase for ${options.address}: ` : `Passphrase for ${options.address}: `);
    const store = isNew ? await createAccountStore(dir, passphrase) : await unlockAccountStore(dir, passphrase);
    try {
      const account = Account.open(store);
      const token = new MailTokens(store).current();
      console.log(`${isNew ? "Created" : "Unlocked"} account ${options.address} in ${dir}`);
      console.log(`Store generation: ${store.generation()}`);
      console.log("Mailboxes:");
      for (const info of account.list()) {
        const counts = account.requireMailbox(info.name).counts();
        console.log(`  ${info.name.padEnd(12)} ${String(counts.messages).padStart(6)} messages, ${counts.unseen} unseen`);
      }
      console.log(`Mail token (IMAP/SMTP password): ${token}`);
    } finally {
      store.close();
    }
  });

try {
  await program.parseAsync();
} catch (error) {
  const known = error instanceof WrongPassphraseError || error instanceof NoPassphraseError;
  console.error(`bitmaskd: ${(error as Error).message}`);
  process.exit(known ? 2 : 1);
}
