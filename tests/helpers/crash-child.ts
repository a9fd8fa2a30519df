// Child process for the crash test: adds, flags, copies and expunges messages
// as fast as it can, printing a line after each committed step, until killed.
import { createHash } from "node:crypto";
import { Account } from "../../native-host/mail/account";
import { DocumentStore } from "../../native-host/store/document-store";
import { messageWithAttachment, plainMessage } from "./messages";

const [file, secretHex, startArg] = process.argv.slice(2);
const store = await DocumentStore.open(file!, new Uint8Array(Buffer.from(secretHex!, "hex")));
const account = Account.open(store);
const inbox = account.requireMailbox("INBOX");
const archive = account.requireMailbox("Archive");
const shared = createHash("sha512").update("shared attachment").digest();
process.stdout.write("ready\n");

for (let n = Number(startArg); ; n++) {
  const raw =
    n % 3 === 0 ? messageWithAttachment(n, Buffer.concat(Array(2000).fill(shared)), "shared.bin") : plainMessage(n, "x".repeat(n % 5000));
  const { uid } = inbox.add(raw);
  process.stdout.write(`added ${n} ${createHash("sha256").update(raw).digest("hex").toUpperCase()}\n`);
  if (n % 4 === 0) inbox.copy([uid], archive);
  if (n % 5 === 0) inbox.updateFlags([uid], "add", ["\\Seen", "\\Deleted"]);
  if (n % 7 === 0) process.stdout.write(`expunged ${inbox.expunge().join(",")}\n`);
}
