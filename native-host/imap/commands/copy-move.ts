// COPY, MOVE (RFC 6851) and their UID forms, answering COPYUID (RFC 4315).
import { CommandFailure, SELECTED, defineCommand, ok } from "../command";
import { formatSequenceSet } from "../protocol/sequence-set";
import type { ImapSession } from "../session";
import type { SequenceSet } from "../protocol/types";
import { readMailboxName } from "./mailbox-arg";

function parseTransfer(args: Parameters<typeof readMailboxName>[0]) {
  const set = args.sequenceSet();
  const target = readMailboxName(args, "target mailbox");
  args.end();
  return { set, target };
}

function transfer(session: ImapSession, set: SequenceSet, targetName: string, byUid: boolean, move: boolean) {
  const selected = session.selectedMailbox;
  if (move && selected.readOnly) throw new CommandFailure("mailbox is read-only", "READ-ONLY");
  const target = session.authenticatedAccount.mailbox(targetName);
  if (!target) throw new CommandFailure(`no mailbox named ${targetName}`, "TRYCREATE");
  const uids = selected.resolve(set, byUid);
  const mapping = move ? selected.mailbox.move(uids, target) : selected.mailbox.copy(uids, target);
  if (mapping.length === 0) return ok(`${move ? "MOVE" : "COPY"} completed (no messages)`);
  const copyUid = `COPYUID ${target.uidValidity} ${formatSequenceSet(mapping.map((m) => m.from))} ${formatSequenceSet(mapping.map((m) => m.to))}`;
  if (move) {
    // MOVE sends COPYUID untagged, before the EXPUNGEs of the flush (RFC 6851 4.3).
    session.untagged(`OK [${copyUid}] moved`);
    return ok("MOVE completed");
  }
  return ok("COPY completed", copyUid);
}

export const copy = defineCommand({
  name: "COPY",
  states: SELECTED,
  uid: true,
  parse: parseTransfer,
  run: (session, { set, target }, command) => transfer(session, set, target, command.uid, false),
});

export const move = defineCommand({
  name: "MOVE",
  states: SELECTED,
  uid: true,
  parse: parseTransfer,
  run: (session, { set, target }, command) => transfer(session, set, target, command.uid, true),
});
