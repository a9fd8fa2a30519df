// The two-way sync scenario the real-client tests (mbsync, offlineimap) run:
// messages start on both sides, a sync must join them, then changes made on
// either side must cross over, and a last sync must find nothing to do.
import type { Mailbox } from "../../native-host/mail/mailbox";
import {
  addMaildirMessage,
  deleteMaildirMessage,
  maildirByMessageId,
  setMaildirFlags,
  withLf,
  type MaildirMessage,
} from "./maildir";
import { plainMessage } from "./messages";

/** Messages that start on the server: numbers 1..SERVER_COUNT. */
export const SERVER_COUNT = 250;
/** Messages that start in the Maildir: numbers LOCAL_BASE+1..LOCAL_BASE+LOCAL_COUNT. */
export const LOCAL_BASE = 10_000;
export const LOCAL_COUNT = 250;

const SYSTEM_FLAGS = new Set(["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"]);

/** A few KB of body, so the transfer is not all headers. */
function padding(n: number): string {
  return `Filler line ${n} for a realistic message size, nothing to see here.\r\n`.repeat(40);
}

export function scenarioMessage(n: number): Buffer {
  return plainMessage(n, padding(n));
}

export const messageIdFor = (n: number) => `<msg${n}@example.org>`;

export function serverStartFlags(n: number): string[] {
  const flags: string[] = [];
  if (n % 3 === 0) flags.push("\\Seen");
  if (n % 7 === 0) flags.push("\\Answered");
  if (n % 50 === 0) flags.push("\\Flagged");
  return flags;
}

export function localStartLetters(n: number): string {
  return (n % 4 === 0 ? "S" : "") + (n % 25 === 0 ? "F" : "");
}

export function seedServer(inbox: Mailbox): void {
  for (let n = 1; n <= SERVER_COUNT; n++) inbox.add(scenarioMessage(n), { flags: serverStartFlags(n) });
}

export function seedMaildir(root: string): void {
  for (let n = LOCAL_BASE + 1; n <= LOCAL_BASE + LOCAL_COUNT; n++) {
    addMaildirMessage(root, scenarioMessage(n), `${1_700_000_000 + n}.M${n}P1.testhost`, localStartLetters(n));
  }
}

export type ServerMessage = { uid: number; flags: string[]; raw: Buffer };

/** The server mailbox by Message-ID (system flags only, sorted); throws on a duplicate. */
export function serverByMessageId(inbox: Mailbox): Map<string, ServerMessage> {
  const map = new Map<string, ServerMessage>();
  const uids = inbox.uids();
  if (uids.length === 0) return map;
  for (const message of inbox.range(uids[0]!, uids[uids.length - 1]!)) {
    const raw = Buffer.from(message.raw());
    const id = message.messageId ? `<${message.messageId.replace(/^<|>$/g, "")}>` : null;
    if (!id) throw new Error(`server message ${message.uid} has no Message-ID`);
    if (map.has(id)) throw new Error(`two server messages have Message-ID ${id}`);
    map.set(id, { uid: message.uid, flags: message.flags.filter((f) => SYSTEM_FLAGS.has(f)).sort(), raw });
  }
  return map;
}

/**
 * Differences between the server mailbox and the Maildir: messages on one
 * side only, flags that differ, content that differs (line ends aside, as
 * Maildir clients store native LF). Empty when both sides agree.
 */
export function compareSides(inbox: Mailbox, maildir: string): string[] {
  const server = serverByMessageId(inbox);
  const local = maildirByMessageId(maildir);
  const problems: string[] = [];
  for (const [id, message] of server) {
    const copy: MaildirMessage | undefined = local.get(id);
    if (!copy) {
      problems.push(`${id} (UID ${message.uid}) is on the server only`);
      continue;
    }
    if (copy.flags.join(" ") !== message.flags.join(" ")) {
      problems.push(`${id}: server flags (${message.flags.join(" ")}), Maildir ${copy.file}`);
    }
    if (clientCopy(copy.content) !== clientCopy(message.raw)) problems.push(`${id}: content differs: ${firstDifference(clientCopy(message.raw), clientCopy(copy.content))}`);
  }
  for (const [id, copy] of local) if (!server.has(id)) problems.push(`${id} (${copy.file}) is in the Maildir only`);
  return problems;
}

/** A copy as the client made it, for comparison: LF line ends (Maildir
 * clients store native ones), and without the X-TUID header mbsync adds to
 * every message it copies, either way (a temporary UID it finds them by). */
function clientCopy(content: Buffer): string {
  return withLf(withoutTuid(content));
}

/** The message without mbsync's X-TUID header line. */
export function withoutTuid(content: Buffer): Buffer {
  const text = content.toString("latin1");
  const blank = /\r?\n\r?\n/.exec(text);
  const headerEnd = blank ? blank.index + blank[0].indexOf("\n") + 1 : text.length;
  const header = text.slice(0, headerEnd).replace(/^X-TUID: [^\n]*\n/im, "");
  return Buffer.from(header + text.slice(headerEnd), "latin1");
}

function firstDifference(server: string, local: string): string {
  const a = server.split("\n");
  const b = local.split("\n");
  const line = a.findIndex((text, i) => text !== b[i]);
  const at = line < 0 ? a.length : line;
  return `line ${at + 1}: server ${JSON.stringify(a[at] ?? "(end)")}, Maildir ${JSON.stringify(b[at] ?? "(end)")}`;
}

/** The changes made on both sides between the first and second sync. */
export function changeBothSides(inbox: Mailbox, maildir: string): void {
  const uidOf = (n: number) => serverByMessageId(inbox).get(messageIdFor(n))!.uid;
  inbox.updateFlags([uidOf(7)], "add", ["\\Flagged"]);
  inbox.updateFlags([uidOf(9)], "remove", ["\\Seen"]);
  inbox.updateFlags([uidOf(8)], "add", ["\\Deleted"]);
  inbox.expunge([uidOf(8)]);
  const local = maildirByMessageId(maildir);
  const localCopy = (n: number) => local.get(messageIdFor(n))!;
  setMaildirFlags(maildir, localCopy(LOCAL_BASE + 10), localCopy(LOCAL_BASE + 10).letters + "F");
  setMaildirFlags(maildir, localCopy(13), "S");
  deleteMaildirMessage(maildir, localCopy(LOCAL_BASE + 11));
  deleteMaildirMessage(maildir, localCopy(14));
}

/** What changeBothSides() did, each change seen on the other side; [] when all crossed. */
export function missedChanges(inbox: Mailbox, maildir: string): string[] {
  const local = maildirByMessageId(maildir);
  const server = serverByMessageId(inbox);
  const checks: [boolean, string][] = [
    [local.get(messageIdFor(7))?.letters.includes("F") === true, "server's +\\Flagged on 7 not in the Maildir"],
    [local.get(messageIdFor(9))?.letters.includes("S") === false, "server's -\\Seen on 9 not in the Maildir"],
    [!local.has(messageIdFor(8)), "server's expunge of 8 not in the Maildir"],
    [server.get(messageIdFor(LOCAL_BASE + 10))?.flags.includes("\\Flagged") === true, `Maildir's F on ${LOCAL_BASE + 10} not on the server`],
    [server.get(messageIdFor(13))?.flags.includes("\\Seen") === true, "Maildir's S on 13 not on the server"],
    [!server.has(messageIdFor(LOCAL_BASE + 11)), `Maildir's delete of ${LOCAL_BASE + 11} not on the server`],
    [!server.has(messageIdFor(14)), "Maildir's delete of 14 not on the server"],
    [server.size === SERVER_COUNT + LOCAL_COUNT - 3, `server holds ${server.size} messages`],
  ];
  return checks.filter(([ok]) => !ok).map(([, problem]) => problem);
}

/** The IMAP command names a client sent, from a protocol transcript. */
export function commandsIn(lines: readonly string[]): string[] {
  return lines.map((line) => line.replace(/^(UID) (\S+).*$/i, "$1 $2").replace(/^(?!UID )(\S+).*$/i, "$1").toUpperCase());
}
