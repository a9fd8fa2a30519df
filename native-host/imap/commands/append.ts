// APPEND (RFC 3501 6.3.11) with APPENDUID (RFC 4315) and APPENDLIMIT (RFC 7889).
import { AUTHENTICATED, CommandFailure, defineCommand, ok } from "../command";
import { APPEND_LIMIT_BYTES } from "../limits";
import { ParseError } from "../protocol/types";
import { parseImapDateTime } from "../response/date";
import { readMailboxName } from "./mailbox-arg";

export const append = defineCommand({
  name: "APPEND",
  states: AUTHENTICATED,
  parse(args) {
    const name = readMailboxName(args);
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
    args.end();
    return { name, flags, internalDate, message: message.value };
  },
  run(session, { name, flags, internalDate, message }) {
    if (message.length > APPEND_LIMIT_BYTES) throw new CommandFailure(`message larger than ${APPEND_LIMIT_BYTES} bytes`, "TOOBIG");
    const mailbox = session.authenticatedAccount.mailbox(name);
    if (!mailbox) throw new CommandFailure(`no mailbox named ${name}`, "TRYCREATE");
    const { uid } = mailbox.add(message, { flags, ...(internalDate ? { internalDate } : {}) });
    return ok("APPEND completed", `APPENDUID ${mailbox.uidValidity} ${uid}`);
  },
});
