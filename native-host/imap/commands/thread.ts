// THREAD and UID THREAD (RFC 5256 3): REFERENCES (threads from Message-ID,
// References and In-Reply-To, then threads of the same base subject joined)
// and ORDEREDSUBJECT (messages grouped by base subject). Where the RFC leaves
// an order open (which root comes first while gathering subjects) we follow
// Dovecot: roots by sent date, a dummy dated by its oldest child.
import type { Message } from "../../mail/message";
import { SELECTED, defineCommand, ok } from "../command";
import { ParseError } from "../protocol/types";
import { numbering, searchMessages } from "../search/evaluate";
import { baseSubject, firstHeaderValue, sortDate } from "../search/message-fields";
import { parseCharsetAndCriteria } from "../search/search-keys";

/** A thread node; a dummy (message null) stands for a referenced message that is not in the result. */
type ThreadNode = { message: Message | null; parent: ThreadNode | null; children: ThreadNode[] };

const ALGORITHMS = ["REFERENCES", "ORDEREDSUBJECT"] as const;
type Algorithm = (typeof ALGORITHMS)[number];

export const thread = defineCommand({
  name: "THREAD",
  states: SELECTED,
  uid: true,
  forbidsExpungeNotices: true,
  parse(args) {
    const algorithm = args.atom("threading algorithm").toUpperCase();
    if (!(ALGORITHMS as readonly string[]).includes(algorithm)) throw new ParseError(`unknown threading algorithm ${algorithm}`);
    return { algorithm: algorithm as Algorithm, key: parseCharsetAndCriteria(args.rest()) };
  },
  run(session, { algorithm, key }, command) {
    const selected = session.selectedMailbox;
    const messages = searchMessages(selected, key);
    const roots = algorithm === "REFERENCES" ? threadByReferences(messages) : threadByOrderedSubject(messages);
    const number = numbering(selected, command.uid);
    const threads = roots.map((root) => `(${formatThread(root, number)})`).join("");
    session.untagged(threads === "" ? "THREAD" : `THREAD ${threads}`);
    return ok(command.uid ? "UID THREAD completed" : "THREAD completed");
  },
});

/** `3 6 (4 23)(44 7 96)`: a chain of only children is a list, siblings are parenthesised. */
function formatThread(node: ThreadNode, number: (message: Message) => number): string {
  const parts: string[] = [];
  let current = node;
  for (;;) {
    if (current.message) parts.push(String(number(current.message)));
    if (current.children.length !== 1) break;
    current = current.children[0]!;
  }
  if (current.children.length > 1) parts.push(current.children.map((child) => `(${formatThread(child, number)})`).join(""));
  return parts.join(" ");
}

const newNode = (message: Message | null = null): ThreadNode => ({ message, parent: null, children: [] });

function attach(parent: ThreadNode, child: ThreadNode): void {
  child.parent = parent;
  parent.children.push(child);
}

function detach(child: ThreadNode): void {
  if (!child.parent) return;
  child.parent.children = child.parent.children.filter((sibling) => sibling !== child);
  child.parent = null;
}

/** Whether making `child` a child of `parent` would close a loop. */
function wouldLoop(parent: ThreadNode, child: ThreadNode): boolean {
  for (let node: ThreadNode | null = parent; node; node = node.parent) if (node === child) return true;
  return false;
}

/** The msg-ids ("<...>") in a header value, without the angle brackets. */
function messageIds(value: string | undefined): string[] {
  return [...(value ?? "").matchAll(/<([^<>\s]+)>/g)].map((match) => match[1]!);
}

/** RFC 5256: References, or else the first msg-id of In-Reply-To. */
function references(message: Message): string[] {
  const fromReferences = messageIds(firstHeaderValue(message, "References"));
  return fromReferences.length > 0 ? fromReferences : messageIds(firstHeaderValue(message, "In-Reply-To")).slice(0, 1);
}

/** Thread order: by sent date, then mailbox order; a dummy by its oldest child. */
function sortKey(node: ThreadNode): { date: number; uid: number } {
  const message = node.message ?? node.children[0]!.message!;
  return { date: sortDate(message), uid: message.uid };
}

function sortSiblings(nodes: ThreadNode[]): void {
  for (const node of nodes) sortSiblings(node.children);
  const keys = new Map(nodes.map((node) => [node, sortKey(node)]));
  nodes.sort((a, b) => {
    const [x, y] = [keys.get(a)!, keys.get(b)!];
    return x.date - y.date || x.uid - y.uid;
  });
}

function threadByReferences(messages: readonly Message[]): ThreadNode[] {
  // (1) Link messages by their references, creating dummies for missing ones.
  const byId = new Map<string, ThreadNode>();
  const nodes: ThreadNode[] = [];
  const nodeFor = (id: string) => {
    let node = byId.get(id);
    if (!node) {
      node = newNode();
      byId.set(id, node);
      nodes.push(node);
    }
    return node;
  };
  for (const message of messages) {
    // A missing or duplicate Message-ID makes the message unique (RFC 5256 3).
    const id = messageIds(firstHeaderValue(message, "Message-ID"))[0];
    const existing = id === undefined ? undefined : byId.get(id);
    let node: ThreadNode;
    if (id !== undefined && !existing?.message) {
      node = nodeFor(id);
      node.message = message;
    } else {
      node = newNode(message);
      nodes.push(node);
    }
    const refs = references(message);
    for (let i = 0; i + 1 < refs.length; i++) {
      const [parent, child] = [nodeFor(refs[i]!), nodeFor(refs[i + 1]!)];
      if (!child.parent && !wouldLoop(parent, child)) attach(parent, child);
    }
    // (1.B) "If the current message already has a parent [...] break the
    // current parent/child link before creating the new correct one. [...]
    // no parent/child link is created if doing so would introduce a loop":
    // the old link goes even when the new one cannot be made.
    const parent = refs.length > 0 ? nodeFor(refs[refs.length - 1]!) : null;
    if (parent !== node.parent) {
      detach(node);
      if (parent && !wouldLoop(parent, node)) attach(parent, node);
    }
  }
  // (2) the roots, (4) without dummies: childless ones go, others give their
  // children to their parent, except at the root where several children stay together.
  const roots = prune(nodes.filter((node) => !node.parent), true);
  // (5) Join threads whose subjects match, visiting them oldest first.
  return sortedThreads(gatherSubjects(sortedThreads(roots)));
}

function prune(nodes: ThreadNode[], atRoot: boolean): ThreadNode[] {
  const kept: ThreadNode[] = [];
  for (const node of nodes) {
    node.children = prune(node.children, false);
    node.children.forEach((child) => (child.parent = node));
    if (node.message) kept.push(node);
    else if (node.children.length > 1 && atRoot) kept.push(node);
    else kept.push(...node.children);
  }
  return kept;
}

function sortedThreads(roots: ThreadNode[]): ThreadNode[] {
  roots.forEach((root) => (root.parent = null));
  sortSiblings(roots);
  return roots;
}

type SubjectInfo = { subject: string; isReplyOrForward: boolean };

/** RFC 5256 3 REFERENCES step (5): one table entry per thread subject, then
 * each other thread with that subject merged into it. */
function gatherSubjects(roots: ThreadNode[]): ThreadNode[] {
  const info = new Map<ThreadNode, SubjectInfo>();
  for (const root of roots) {
    const { key, isReplyOrForward } = baseSubject(root.message ?? root.children[0]!.message!);
    info.set(root, { subject: key, isReplyOrForward });
  }
  const replyOrForward = (node: ThreadNode) => info.get(node)?.isReplyOrForward === true;
  const table = new Map<string, ThreadNode>();
  for (const root of roots) {
    const { subject } = info.get(root)!;
    if (subject === "") continue;
    const entry = table.get(subject);
    if (!entry || (entry.message && (!root.message || (replyOrForward(entry) && !replyOrForward(root))))) table.set(subject, root);
  }
  const result = [...roots];
  const removed = new Set<ThreadNode>();
  for (const root of roots) {
    const { subject } = info.get(root)!;
    const entry = table.get(subject);
    // A root already merged (under a new dummy) has a parent now.
    if (subject === "" || !entry || entry === root || root.parent) continue;
    removed.add(root);
    if (!entry.message && !root.message) {
      for (const child of root.children) attach(entry, child);
    } else if (!entry.message || (replyOrForward(root) && !replyOrForward(entry))) {
      attach(entry, root);
    } else {
      const dummy = newNode();
      result[result.indexOf(entry)] = dummy;
      attach(dummy, entry);
      attach(dummy, root);
      table.set(subject, dummy);
    }
  }
  return result.filter((root) => !removed.has(root));
}

/** ORDEREDSUBJECT: messages sorted by base subject then sent date; each run
 * of one subject is a thread whose first message is the parent of the rest. */
function threadByOrderedSubject(messages: readonly Message[]): ThreadNode[] {
  const rows = messages.map((message) => ({ message, subject: baseSubject(message).key, date: sortDate(message) }));
  rows.sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : a.date - b.date || a.message.uid - b.message.uid));
  const roots: ThreadNode[] = [];
  let previous: (typeof rows)[number] | undefined;
  for (const row of rows) {
    const node = newNode(row.message);
    if (previous && previous.subject === row.subject) attach(roots[roots.length - 1]!, node);
    else roots.push(node);
    previous = row;
  }
  return sortedThreads(roots);
}
