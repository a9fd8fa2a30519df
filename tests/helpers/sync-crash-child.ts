// Child process for the sync crash test: a full daemon on a data folder,
// its account already logged in at the test's provider, that works with the
// provider until it is killed with SIGKILL.
//
//   node --import tsx sync-crash-child.ts <dataDir> <address> <passphrase> <mode> <first>
//
// On start it prints "state <json>": what the reopened store holds (per
// Message-ID how many copies across all mailboxes, messages that do not
// join back to their hash, incoming mail stashed but not processed yet).
//   sync:     adds three messages (n = first, first+1, ...; "added n" after
//             each commit), now and then sets a flag or moves one to
//             Archive, then a round ("round-start" / "round-done"); repeats.
//   incoming: rounds back to back (each fetches and processes incoming mail).
//   final:    adds message n = first once more ("added n"), two rounds,
//             then "state" again with every mailbox's content ("full
//             <json>"), and exits. The last killed run may have stored that
//             message without saying so (killed between the commit and the
//             print): adding the same bytes again under the same key
//             stores nothing new, and now the test knows of it.
import { createHash } from "node:crypto";
import pino from "pino";
import { fullServices } from "../../native-host/daemon/account-services";
import { startDaemon } from "../../native-host/daemon/daemon";
import type { Account } from "../../native-host/mail/account";
import { mailState } from "./mail-state";
import { plainMessage } from "./messages";

const [dataDir, address, passphrase, mode, firstArg] = process.argv.slice(2) as [string, string, string, string, string];
const print = (line: string) => process.stdout.write(`${line}\n`);

export type ChildState = { counts: Record<string, number>; broken: string[]; stashed: string[] };

function state(mail: Account): ChildState {
  const counts: Record<string, number> = {};
  const broken: string[] = [];
  for (const info of mail.list()) {
    const box = mail.requireMailbox(info.name);
    for (const message of box.messages(box.uids())) {
      const id = message.messageId ?? `(no id, uid ${message.uid})`;
      counts[id] = (counts[id] ?? 0) + 1;
      try {
        if (createHash("sha256").update(message.raw()).digest("hex").toUpperCase() !== message.msgHash) broken.push(`${id}: bytes differ`);
      } catch (error) {
        broken.push(`${id}: ${(error as Error).message}`);
      }
    }
  }
  const stashed = mail.store.allOfType("incoming").map((doc) => doc.content!.providerId);
  return { counts, broken, stashed };
}

const daemon = await startDaemon({
  dataDir,
  imapPort: 0,
  smtpPort: 0,
  socketPath: null,
  // The account's first round starts at once; later ones are ours.
  services: fullServices({ intervalMs: 3_600_000 }),
  log: pino({ level: "silent" }),
});
const account = await daemon.unlockAccount(address, passphrase);
print(`state ${JSON.stringify(state(account.mail))}`);

async function round(): Promise<void> {
  print("round-start");
  const status = await account.sync!.syncNow(() => {});
  print(`round-done ${status.state}`);
}

const inbox = account.mail.requireMailbox("INBOX");
const archive = account.mail.requireMailbox("Archive");
const addMessage = (n: number) => {
  inbox.add(plainMessage(n, `Written on the crashing device.\r\n`), { key: `crash-test-${n}` });
  print(`added ${n}`);
};

if (mode === "final") {
  addMessage(Number(firstArg));
  await round();
  await round();
  print(`state ${JSON.stringify(state(account.mail))}`);
  print(`full ${JSON.stringify(mailState(account.mail))}`);
  print(`errors ${JSON.stringify(account.errors)}`);
  await daemon.stop();
  process.exit(0);
}

for (let n = Number(firstArg), step = 0; ; step++) {
  if (mode === "sync") {
    for (let i = 0; i < 3; i++, n++) addMessage(n);
    const uids = inbox.uids();
    if (step % 2 === 0 && uids.length > 0) inbox.updateFlags([uids[step % uids.length]!], "add", ["\\Seen"]);
    if (step % 3 === 1 && uids.length > 5) inbox.move([uids[0]!], archive);
  }
  await round();
}
