// STATUS (RFC 3501 6.3.10, CONDSTORE's HIGHESTMODSEQ, STATUS=SIZE RFC 8438).
import type { Mailbox } from "../../mail/mailbox";
import { AUTHENTICATED, defineCommand, keyword, ok } from "../command";
import { ParseError, type ListToken } from "../protocol/types";
import { readMailboxName, wireMailboxName } from "./mailbox-arg";

const ITEMS = ["MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "HIGHESTMODSEQ", "SIZE"] as const;
export type StatusItem = (typeof ITEMS)[number];

export function parseStatusItems(list: ListToken): StatusItem[] {
  const items = list.items.map((token) => {
    const name = keyword(token);
    if (!name || !(ITEMS as readonly string[]).includes(name)) throw new ParseError(`unknown STATUS item ${name ?? token.type}`);
    return name as StatusItem;
  });
  if (items.length === 0) throw new ParseError("STATUS needs at least one item");
  return items;
}

export function statusLine(mailbox: Mailbox, items: StatusItem[]): string {
  const counts = mailbox.counts();
  const value: Record<StatusItem, number> = {
    MESSAGES: counts.messages,
    RECENT: counts.recent,
    UIDNEXT: mailbox.uidNext,
    UIDVALIDITY: mailbox.uidValidity,
    UNSEEN: counts.unseen,
    HIGHESTMODSEQ: mailbox.highestModseq,
    SIZE: counts.size,
  };
  return `STATUS ${wireMailboxName(mailbox.name)} (${items.map((item) => `${item} ${value[item]}`).join(" ")})`;
}

export const status = defineCommand({
  name: "STATUS",
  states: AUTHENTICATED,
  parse(args) {
    const name = readMailboxName(args);
    const items = parseStatusItems(args.list("status items"));
    args.end();
    return { name, items };
  },
  run(session, { name, items }) {
    const mailbox = session.authenticatedAccount.requireMailbox(name);
    if (items.includes("HIGHESTMODSEQ")) session.condstoreActive = true;
    session.untagged(statusLine(mailbox, items));
    return ok("STATUS completed");
  },
});
