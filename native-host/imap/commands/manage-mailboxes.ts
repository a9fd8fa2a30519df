// CREATE, DELETE, RENAME, SUBSCRIBE and UNSUBSCRIBE: straight onto the Account API.
import { HIERARCHY_DELIMITER } from "../../mail/account";
import { AUTHENTICATED, CommandFailure, defineCommand, ok } from "../command";
import { readMailboxName } from "./mailbox-arg";

function oneName(args: Parameters<typeof readMailboxName>[0]) {
  const name = readMailboxName(args);
  args.end();
  return name;
}

export const create = defineCommand({
  name: "CREATE",
  states: AUTHENTICATED,
  parse: oneName,
  run(session, name) {
    // A trailing delimiter only declares the intent to create inferiors (RFC 3501 6.3.3).
    const plain = name.endsWith(HIERARCHY_DELIMITER) ? name.slice(0, -1) : name;
    const account = session.authenticatedAccount;
    if (account.mailbox(plain)) throw new CommandFailure(`mailbox ${plain} already exists`, "ALREADYEXISTS");
    account.createMailbox(plain);
    return ok("CREATE completed");
  },
});

export const deleteMailbox = defineCommand({
  name: "DELETE",
  states: AUTHENTICATED,
  parse: oneName,
  run(session, name) {
    const account = session.authenticatedAccount;
    if (!account.mailbox(name)) throw new CommandFailure(`no mailbox named ${name}`, "NONEXISTENT");
    if (session.selected?.mailbox === account.mailbox(name)) session.select(null);
    account.deleteMailbox(name);
    return ok("DELETE completed");
  },
});

export const rename = defineCommand({
  name: "RENAME",
  states: AUTHENTICATED,
  parse(args) {
    const from = readMailboxName(args, "existing mailbox name");
    const to = readMailboxName(args, "new mailbox name");
    args.end();
    return { from, to };
  },
  run(session, { from, to }) {
    const account = session.authenticatedAccount;
    if (!account.mailbox(from)) throw new CommandFailure(`no mailbox named ${from}`, "NONEXISTENT");
    if (account.mailbox(to)) throw new CommandFailure(`mailbox ${to} already exists`, "ALREADYEXISTS");
    account.renameMailbox(from, to);
    return ok("RENAME completed");
  },
});

export const subscribe = defineCommand({
  name: "SUBSCRIBE",
  states: AUTHENTICATED,
  parse: oneName,
  run(session, name) {
    session.authenticatedAccount.setSubscribed(name, true);
    return ok("SUBSCRIBE completed");
  },
});

export const unsubscribe = defineCommand({
  name: "UNSUBSCRIBE",
  states: AUTHENTICATED,
  parse: oneName,
  run(session, name) {
    session.authenticatedAccount.setSubscribed(name, false);
    return ok("UNSUBSCRIBE completed");
  },
});
