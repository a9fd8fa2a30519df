// LIST and LSUB (RFC 3501), with LIST-EXTENDED (RFC 5258) selection and return
// options, SPECIAL-USE attributes (RFC 6154) and LIST-STATUS (RFC 5819).
import { HIERARCHY_DELIMITER, type MailboxInfo } from "../../mail/account";
import { AUTHENTICATED, defineCommand, keyword, ok } from "../command";
import { listPatternMatcher } from "../list-pattern";
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
  recursiveMatch: boolean;
  returnSubscribed: boolean;
  status: StatusItem[] | null;
  lsub: boolean;
};

/** NIL too is a pattern, the name "NIL": "list-mailbox = 1*list-char / string"
 * (RFC 3501 9), and N, I and L are list-chars. */
function patternText(token: ImapToken): string {
  return decodeMailboxName(tokenAsString(token, "mailbox pattern"));
}

function parseList(args: Parameters<typeof readMailboxName>[0], lsub: boolean): ListOptions {
  const options: ListOptions = {
    reference: "",
    patterns: [],
    subscribedOnly: lsub,
    specialUseOnly: false,
    recursiveMatch: false,
    returnSubscribed: false,
    status: null,
    lsub,
  };
  const selection = lsub ? undefined : args.optionalList();
  for (const token of selection?.items ?? []) {
    const option = keyword(token);
    if (option === "SUBSCRIBED") options.subscribedOnly = options.returnSubscribed = true;
    else if (option === "SPECIAL-USE") options.specialUseOnly = true;
    else if (option === "RECURSIVEMATCH") options.recursiveMatch = true;
    else if (option !== "REMOTE") throw new ParseError(`unknown LIST selection option ${option}`);
  }
  // RFC 5258 3: "The RECURSIVEMATCH option MUST NOT occur as the only
  // selection option (or only with REMOTE), as it only makes sense when
  // other selection options are also used. The server MUST return BAD".
  if (options.recursiveMatch && !options.subscribedOnly && !options.specialUseOnly) {
    throw new ParseError("RECURSIVEMATCH must come with another selection option");
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

/** How one chosen name is listed. parentOnly: it does not meet the
 * selection itself, only a descendant does; childInfo: a descendant meets
 * it without matching the pattern (RFC 5258 3.5, CHILDINFO). */
type Chosen = { parentOnly: boolean; childInfo: boolean };

/** The names to answer: existing mailboxes, or with SUBSCRIBED (and LSUB)
 * the subscribed names, existing or not. For LSUB, "if "foo/bar" is
 * subscribed but "foo" is not, a "%" wildcard to LSUB must return foo, not
 * foo/bar, with the \Noselect attribute" (RFC 3501 6.3.9); with
 * RECURSIVEMATCH such a parent is listed with CHILDINFO (RFC 5258 3.5). */
function selectNames(
  options: ListOptions,
  mailboxes: Map<string, Entry>,
  subscribed: Set<string>,
  matches: (name: string) => boolean,
): Map<string, Chosen> {
  const chosen = new Map<string, Chosen>();
  if (!options.subscribedOnly) {
    for (const [name, entry] of mailboxes) {
      if (matches(name) && (!options.specialUseOnly || entry.info?.specialUse)) chosen.set(name, { parentOnly: false, childInfo: false });
    }
    return chosen;
  }
  for (const name of subscribed) {
    if (matches(name)) {
      chosen.set(name, { parentOnly: false, childInfo: chosen.get(name)?.childInfo ?? false });
      continue;
    }
    if (!options.lsub && !options.recursiveMatch) continue;
    for (const parent of ancestors(name)) {
      if (!matches(parent)) continue;
      const entry = chosen.get(parent) ?? { parentOnly: !subscribed.has(parent), childInfo: false };
      chosen.set(parent, { ...entry, childInfo: options.recursiveMatch });
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
  const matchers = options.patterns.map((pattern) => listPatternMatcher(options.reference + pattern, HIERARCHY_DELIMITER));
  const mailboxes = entries(account.list());
  const subscribed = options.subscribedOnly || options.returnSubscribed ? account.subscriptions() : new Set<string>();
  const chosen = selectNames(options, mailboxes, subscribed, (name) => matchers.some((match) => match(name)));
  const names = [...mailboxes.keys()];
  const hasChildren = (name: string) => names.some((other) => other.startsWith(name + HIERARCHY_DELIMITER));
  for (const name of [...chosen.keys()].sort(byListOrder)) {
    const info = mailboxes.get(name)?.info ?? null;
    const { parentOnly, childInfo } = chosen.get(name)!;
    const attributes: string[] = [];
    if (!mailboxes.has(name) && !options.lsub) attributes.push("\\NonExistent");
    else if (!info || (parentOnly && options.lsub)) attributes.push("\\Noselect");
    attributes.push(hasChildren(name) ? "\\HasChildren" : "\\HasNoChildren");
    if (info?.specialUse) attributes.push(info.specialUse);
    if (options.returnSubscribed && subscribed.has(name)) attributes.push("\\Subscribed");
    const extended = childInfo ? ' ("CHILDINFO" ("SUBSCRIBED"))' : "";
    session.untagged(`${verb} (${attributes.join(" ")}) "${HIERARCHY_DELIMITER}" ${wireMailboxName(name)}${extended}`);
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
