// SELECT and EXAMINE (RFC 3501 6.3.1-2) with CONDSTORE and QRESYNC
// parameters (RFC 7162), then CLOSE, UNSELECT (RFC 3691) and EXPUNGE.
import { AUTHENTICATED, CommandFailure, SELECTED, defineCommand, keyword, ok } from "../command";
import { formatSequenceSet, normalizeSequenceSet, parseSequenceSet } from "../protocol/sequence-set";
import { ParseError, type ListToken, type SequenceSet } from "../protocol/types";
import { SelectedMailbox } from "../selected-mailbox";
import type { ImapSession } from "../session";
import { readMailboxName } from "./mailbox-arg";

type Qresync = { uidValidity: number; modseq: number; knownUids: SequenceSet | null };
type SelectArgs = { name: string; condstore: boolean; qresync: Qresync | null };

function parseQresync(list: ListToken): Qresync {
  const [validity, modseq, known] = list.items;
  if (validity?.type !== "number" || modseq?.type !== "number") throw new ParseError("QRESYNC needs (uidvalidity modseq ...)");
  let knownUids: SequenceSet | null = null;
  if (known?.type === "atom" || known?.type === "number") knownUids = parseSequenceSet(known.type === "atom" ? known.value : known.text);
  return { uidValidity: validity.value, modseq: modseq.value, knownUids };
}

function parseSelect(args: Parameters<typeof readMailboxName>[0]): SelectArgs {
  const name = readMailboxName(args);
  const result: SelectArgs = { name, condstore: false, qresync: null };
  const params = args.optionalList();
  const items = params?.items ?? [];
  for (let i = 0; i < items.length; i++) {
    const param = keyword(items[i]);
    if (param === "CONDSTORE") result.condstore = true;
    else if (param === "QRESYNC") {
      const list = items[++i];
      if (list?.type !== "list") throw new ParseError("QRESYNC needs a parameter list");
      result.qresync = parseQresync(list);
    } else throw new ParseError(`unknown SELECT parameter ${param}`);
  }
  args.end();
  return result;
}

function openMailbox(session: ImapSession, args: SelectArgs, readOnly: boolean) {
  if (args.qresync && !session.enabled.has("QRESYNC")) throw new ParseError("QRESYNC must be ENABLEd first");
  session.select(null);
  const mailbox = session.authenticatedAccount.mailbox(args.name);
  if (!mailbox) throw new CommandFailure(`no mailbox named ${args.name}`, "NONEXISTENT");
  if (args.condstore || args.qresync) session.condstoreActive = true;
  const selected = new SelectedMailbox(mailbox, readOnly, {
    condstore: () => session.condstoreActive,
    qresync: () => session.enabled.has("QRESYNC"),
  });
  session.select(selected);
  session.emit({ type: "select", session: session.id, mailbox: mailbox.name });

  for (const line of selected.flagsResponses()) session.untagged(line);
  session.untagged(`${selected.exists} EXISTS`);
  session.untagged(`${selected.recentCount} RECENT`);
  const { uidNext, highestModseq, firstUnseenUid } = mailbox.summary();
  const unseenSeq = firstUnseenUid === undefined ? undefined : selected.sequenceOf(firstUnseenUid);
  if (unseenSeq !== undefined) session.untagged(`OK [UNSEEN ${unseenSeq}] first unseen message`);
  session.untagged(`OK [UIDVALIDITY ${mailbox.uidValidity}] UIDs valid`);
  session.untagged(`OK [UIDNEXT ${uidNext}] predicted next UID`);
  session.untagged(`OK [HIGHESTMODSEQ ${highestModseq}] highest`);
  if (args.qresync && args.qresync.uidValidity === mailbox.uidValidity) resynchronise(session, selected, args.qresync);
  return ok(`${readOnly ? "EXAMINE" : "SELECT"} completed`, readOnly ? "READ-ONLY" : "READ-WRITE");
}

/** QRESYNC: what the client missed since its MODSEQ, in one round trip. */
function resynchronise(session: ImapSession, selected: SelectedMailbox, qresync: Qresync) {
  const changes = selected.mailbox.changesSince(qresync.modseq);
  const knownMax = Math.max(0, ...selected.viewUids, ...changes.expunged);
  const known = qresync.knownUids ? normalizeSequenceSet(qresync.knownUids, knownMax) : null;
  const vanished = changes.expunged.filter((uid) => !known || known.some(([start, end]) => uid >= start && uid <= end));
  if (vanished.length > 0) session.untagged(`VANISHED (EARLIER) ${formatSequenceSet(vanished)}`);
  for (const change of changes.changed) {
    const seq = selected.sequenceOf(change.uid);
    if (seq !== undefined) session.untagged(selected.flagsFetchLine(seq, change));
  }
}

export const select = defineCommand({
  name: "SELECT",
  states: AUTHENTICATED,
  parse: parseSelect,
  run: (session, args) => openMailbox(session, args, false),
});

export const examine = defineCommand({
  name: "EXAMINE",
  states: AUTHENTICATED,
  parse: parseSelect,
  run: (session, args) => openMailbox(session, args, true),
});

export const close = defineCommand({
  name: "CLOSE",
  states: SELECTED,
  parse: (args) => args.end(),
  run(session) {
    const selected = session.selectedMailbox;
    // CLOSE expunges silently (RFC 3501 6.4.2): deselect first so no EXPUNGE is sent.
    session.select(null);
    if (!selected.readOnly) selected.mailbox.expunge();
    return ok("CLOSE completed");
  },
});

export const unselect = defineCommand({
  name: "UNSELECT",
  states: SELECTED,
  parse: (args) => args.end(),
  run(session) {
    session.select(null);
    return ok("UNSELECT completed");
  },
});

export const expunge = defineCommand({
  name: "EXPUNGE",
  states: SELECTED,
  uid: true,
  parse(args, command) {
    const set = command.uid ? args.sequenceSet("UID set") : null;
    args.end();
    return set;
  },
  run(session, set) {
    const selected = session.selectedMailbox;
    if (selected.readOnly) throw new CommandFailure("mailbox is read-only", "READ-ONLY");
    const uids = set ? selected.resolve(set, true) : undefined;
    selected.mailbox.expunge(uids);
    // The EXPUNGE (or VANISHED) responses come from the flush after every command.
    return session.condstoreActive ? ok("EXPUNGE completed", `HIGHESTMODSEQ ${selected.mailbox.highestModseq}`) : ok("EXPUNGE completed");
  },
});
