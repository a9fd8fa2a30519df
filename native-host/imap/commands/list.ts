// LIST and LSUB (RFC 3501), with LIST-EXTENDED (RFC 5258) selection and return
// options, SPECIAL-USE attributes (RFC 6154) and LIST-STATUS (RFC 5819).
import { HIERARCHY_DELIMITER, type MailboxInfo } from "../../mail/account";
import { AUTHENTICATED, defineCommand, keyword, ok } from "../command";
import { decodeMailboxName } from "../mailbox-name";
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

function patternText(token: ImapToken): string {
  if (token.type === "atom" || token.type === "quoted") return decodeMailboxName(token.value);
  if (token.type === "number") return token.text;
  if (token.type === "literal") return decodeMailboxName(token.value.toString("utf8"));
  throw new ParseError("mailbox pattern must be a string");
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
function entries(list: MailboxInfo[]): Entry[] {
  const byName = new Map<string, Entry>(list.map((info) => [info.name, { name: info.name, info }]));
  for (const info of list) {
    const levels = info.name.split(HIERARCHY_DELIMITER);
    for (let depth = 1; depth < levels.length; depth++) {
      const parent = levels.slice(0, depth).join(HIERARCHY_DELIMITER);
      if (!byName.has(parent)) byName.set(parent, { name: parent, info: null });
    }
  }
  return [...byName.values()].sort((a, b) => (a.name === "INBOX" ? -1 : b.name === "INBOX" ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function run(session: ImapSession, options: ListOptions) {
  const verb = options.lsub ? "LSUB" : "LIST";
  if (options.patterns.length === 1 && options.patterns[0] === "" && !options.lsub) {
    // An empty pattern asks for the delimiter and the root (RFC 3501 6.3.8).
    session.untagged(`LIST (\\Noselect) "${HIERARCHY_DELIMITER}" ""`);
    return ok("LIST completed");
  }
  const matchers = options.patterns.map((pattern) => patternMatcher(options.reference + pattern));
  const all = entries(session.authenticatedAccount.list());
  const names = new Set(all.map((entry) => entry.name));
  const hasChildren = (name: string) => [...names].some((other) => other.startsWith(name + HIERARCHY_DELIMITER));
  for (const entry of all) {
    if (!matchers.some((match) => match(entry.name))) continue;
    const info = entry.info;
    if (options.subscribedOnly && !info?.subscribed) continue;
    if (options.specialUseOnly && !info?.specialUse) continue;
    const attributes: string[] = [];
    if (!info) attributes.push("\\Noselect");
    attributes.push(hasChildren(entry.name) ? "\\HasChildren" : "\\HasNoChildren");
    if (info?.specialUse) attributes.push(info.specialUse);
    if (info?.subscribed && options.returnSubscribed) attributes.push("\\Subscribed");
    session.untagged(`${verb} (${attributes.join(" ")}) "${HIERARCHY_DELIMITER}" ${wireMailboxName(entry.name)}`);
    if (options.status && info) session.untagged(statusLine(session.authenticatedAccount.requireMailbox(info.name), options.status));
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
