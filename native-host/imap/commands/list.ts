// LIST and LSUB (RFC 3501), with LIST-EXTENDED (RFC 5258) selection and return
// options, SPECIAL-USE attributes (RFC 6154) and LIST-STATUS (RFC 5819).
import { HIERARCHY_DELIMITER, type MailboxInfo } from "../../mail/account";
import { AUTHENTICATED, defineCommand, keyword, ok } from "../command";
import { decodeMailboxName } from "../mailbox-name";
import { tokenAsString } from "../protocol/command-parser";
import { ParseError, type ImapToken } from "../protocol/types";
import type { ImapSession } from "../session";
import { readMailboxName, wireMailboxName } from "./mailbox-arg";
import { type StatusItem, parseStatusItems, statusLine } from "./status";

type ListOptions = {
  reference: string;
  patterns: string[];
  subscribedOnly: boolean;
  specialUseOnly: boolean;
  returnSubscribed: boolean;
  status: StatusItem[] | null;
  lsub: boolean;
};

/** NIL too is a pattern, the name "NIL": "list-mailbox = 1*list-char / string"
 * (RFC 3501 9), and N, I and L are list-chars. */
function patternText(token: ImapToken): string {
  return decodeMailboxName(tokenAsString(token, "mailbox pattern"));
}

/** `*` matches anything, `%` anything but the hierarchy delimiter. */
export function patternMatcher(pattern: string): (name: string) => boolean {
  const source = pattern
    .split("")
    .map((char) => (char === "*" ? ".*" : char === "%" ? `[^${HIERARCHY_DELIMITER}]*` : char.replace(/[\\^$.|?+()[\]{}]/g, "\\$&")))
    .join("");
  const regex = new RegExp(`^${source}$`, "s");
  const inboxRegex = /^INBOX/i.test(pattern) ? new RegExp(`^${source.replace(/^INBOX/i, "INBOX")}$`, "s") : null;
  return (name) => regex.test(name) || (inboxRegex !== null && inboxRegex.test(name));
}

function parseList(args: Parameters<typeof readMailboxName>[0], lsub: boolean): ListOptions {
  const options: ListOptions = {
    reference: "",
    patterns: [],
    subscribedOnly: lsub,
    specialUseOnly: false,
    returnSubscribed: false,
    status: null,
    lsub,
  };
  const selection = lsub ? undefined : args.optionalList();
  for (const token of selection?.items ?? []) {
    const option = keyword(token);
    if (option === "SUBSCRIBED") options.subscribedOnly = options.returnSubscribed = true;
    else if (option === "SPECIAL-USE") options.specialUseOnly = true;
    else if (option !== "RECURSIVEMATCH" && option !== "REMOTE") throw new ParseError(`unknown LIST selection option ${option}`);
  }
  options.reference = readMailboxName(args, "reference name");
  const patterns = args.next("mailbox pattern");
  options.patterns = patterns.type === "list" ? patterns.items.map(patternText) : [patternText(patterns)];
  if (args.remaining > 0) {
    if (args.atom("RETURN").toUpperCase() !== "RETURN") throw new ParseError("expected RETURN");
    const returns = args.list("return options").items;
    for (let i = 0; i < returns.length; i++) {
      const option = keyword(returns[i]);
      if (option === "SUBSCRIBED") options.returnSubscribed = true;
      else if (option === "STATUS") {
        const items = returns[++i];
        if (items?.type !== "list") throw new ParseError("RETURN STATUS needs a list of items");
        options.status = parseStatusItems(items);
      } else if (option !== "CHILDREN" && option !== "SPECIAL-USE") throw new ParseError(`unknown LIST return option ${option}`);
    }
  }
  args.end();
  return options;
}

type Entry = { name: string; info: MailboxInfo | null };

/** Existing mailboxes plus the parents their names imply ("a" for "a/b"). */
function entries(list: MailboxInfo[]): Map<string, Entry> {
  const byName = new Map<string, Entry>(list.map((info) => [info.name, { name: info.name, info }]));
  for (const info of list) {
    for (const parent of ancestors(info.name)) if (!byName.has(parent)) byName.set(parent, { name: parent, info: null });
  }
  return byName;
}

/** "a" and "a/b" for "a/b/c". */
function ancestors(name: string): string[] {
  const levels = name.split(HIERARCHY_DELIMITER);
  return levels.slice(1).map((_, depth) => levels.slice(0, depth + 1).join(HIERARCHY_DELIMITER));
}

const byListOrder = (a: string, b: string) => (a === "INBOX" ? -1 : b === "INBOX" ? 1 : a < b ? -1 : a > b ? 1 : 0);

/** The names to answer: existing mailboxes, or with SUBSCRIBED (and LSUB)
 * the subscribed names, existing or not. For LSUB, "if "foo/bar" is
 * subscribed but "foo" is not, a "%" wildcard to LSUB must return foo, not
 * foo/bar, with the \Noselect attribute" (RFC 3501 6.3.9): such parents are
 * listed as `parentOnly`. */
function selectNames(
  options: ListOptions,
  mailboxes: Map<string, Entry>,
  subscribed: Set<string>,
  matches: (name: string) => boolean,
): Map<string, { parentOnly: boolean }> {
  const chosen = new Map<string, { parentOnly: boolean }>();
  if (!options.subscribedOnly) {
    for (const [name, entry] of mailboxes) {
      if (matches(name) && (!options.specialUseOnly || entry.info?.specialUse)) chosen.set(name, { parentOnly: false });
    }
    return chosen;
  }
  for (const name of subscribed) {
    if (matches(name)) {
      chosen.set(name, { parentOnly: false });
      continue;
    }
    if (!options.lsub) continue;
    for (const parent of ancestors(name)) {
      if (matches(parent) && !subscribed.has(parent) && !chosen.has(parent)) chosen.set(parent, { parentOnly: true });
    }
  }
  return chosen;
}

function run(session: ImapSession, options: ListOptions) {
  const verb = options.lsub ? "LSUB" : "LIST";
  if (options.patterns.length === 1 && options.patterns[0] === "" && !options.lsub) {
    // An empty pattern asks for the delimiter and the root (RFC 3501 6.3.8).
    session.untagged(`LIST (\\Noselect) "${HIERARCHY_DELIMITER}" ""`);
    return ok("LIST completed");
  }
  const account = session.authenticatedAccount;
  const matchers = options.patterns.map((pattern) => patternMatcher(options.reference + pattern));
  const mailboxes = entries(account.list());
  const subscribed = options.subscribedOnly || options.returnSubscribed ? account.subscriptions() : new Set<string>();
  const chosen = selectNames(options, mailboxes, subscribed, (name) => matchers.some((match) => match(name)));
  const names = [...mailboxes.keys()];
  const hasChildren = (name: string) => names.some((other) => other.startsWith(name + HIERARCHY_DELIMITER));
  for (const name of [...chosen.keys()].sort(byListOrder)) {
    const info = mailboxes.get(name)?.info ?? null;
    const attributes: string[] = [];
    if (!mailboxes.has(name) && !options.lsub) attributes.push("\\NonExistent");
    else if (!info || chosen.get(name)!.parentOnly) attributes.push("\\Noselect");
    attributes.push(hasChildren(name) ? "\\HasChildren" : "\\HasNoChildren");
    if (info?.specialUse) attributes.push(info.specialUse);
    if (options.returnSubscribed && subscribed.has(name)) attributes.push("\\Subscribed");
    session.untagged(`${verb} (${attributes.join(" ")}) "${HIERARCHY_DELIMITER}" ${wireMailboxName(name)}`);
    if (options.status && info) session.untagged(statusLine(account.requireMailbox(info.name), options.status));
  }
  return ok(`${verb} completed`);
}

export const list = defineCommand({
  name: "LIST",
  states: AUTHENTICATED,
  parse: (args) => parseList(args, false),
  run,
});

export const lsub = defineCommand({
  name: "LSUB",
  states: AUTHENTICATED,
  parse: (args) => parseList(args, true),
  run,
});
