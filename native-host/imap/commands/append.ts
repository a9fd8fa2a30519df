// APPEND (RFC 3501 6.3.11) with MULTIAPPEND (RFC 3502), APPENDUID (RFC 4315)
// and APPENDLIMIT (RFC 7889).
import type { AddOptions } from "../../mail/mailbox";
import { AUTHENTICATED, type ArgReader, CommandFailure, defineCommand, ok } from "../command";
import { APPEND_LIMIT_BYTES } from "../limits";
import { formatSequenceSet } from "../protocol/sequence-set";
import { ParseError } from "../protocol/types";
import { parseImapDateTime } from "../response/date";
import { readMailboxName } from "./mailbox-arg";

type AppendedMessage = { flags: string[]; internalDate: Date | undefined; message: Buffer };

/** One message: [flag list] [date-time] literal. */
function readMessage(args: ArgReader): AppendedMessage {
  const flags: string[] = [];
  const list = args.optionalList();
  for (const token of list?.items ?? []) {
    if (token.type !== "atom") throw new ParseError("flags must be atoms");
    flags.push(token.value);
  }
  let internalDate: Date | undefined;
  if (args.peek()?.type === "quoted") {
    const text = args.astring("date-time");
    internalDate = parseImapDateTime(text);
    if (!internalDate) throw new ParseError(`invalid date-time ${JSON.stringify(text)}`);
  }
  const message = args.next("message literal");
  if (message.type !== "literal") throw new ParseError("the message must be a literal");
  return { flags, internalDate, message: message.value };
}

export const append = defineCommand({
  name: "APPEND",
  states: AUTHENTICATED,
  parse(args) {
    const name = readMailboxName(args);
    // RFC 3502 3: "append-message *(SP append-message)".
    const messages = [readMessage(args)];
    while (args.remaining > 0) messages.push(readMessage(args));
    args.end();
    return { name, messages };
  },
  run(session, { name, messages }) {
    const total = messages.reduce((sum, { message }) => sum + message.length, 0);
    if (total > APPEND_LIMIT_BYTES) throw new CommandFailure(`messages larger than ${APPEND_LIMIT_BYTES} bytes`, "TOOBIG");
    const mailbox = session.authenticatedAccount.mailbox(name);
    if (!mailbox) throw new CommandFailure(`no mailbox named ${name}`, "TRYCREATE");
    // All or none (RFC 3502 6: "If the server fails to append any message, it MUST not append any").
    const added = mailbox.addAll(
      messages.map(({ message, flags, internalDate }): [Buffer, AddOptions] => [message, { flags, ...(internalDate ? { internalDate } : {}) }]),
    );
    return ok("APPEND completed", `APPENDUID ${mailbox.uidValidity} ${formatSequenceSet(added.map(({ uid }) => uid))}`);
  },
});
