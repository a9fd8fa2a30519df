// FETCH and UID FETCH. Each message's response is assembled from its local
// row (UID, flags, dates, size) and, only when asked for, its stored MIME tree
// and bodies. Large fetches yield between messages so other sessions run.
import type { Message } from "../../mail/message";
import { CommandFailure, SELECTED, defineCommand, ok } from "../command";
import { bodyStructure } from "../fetch/body-structure";
import { envelope } from "../fetch/envelope";
import { type FetchPlan, parseFetchPlan } from "../fetch/fetch-items";
import { applyPartial, sectionBytes, sectionLabel } from "../fetch/section";
import { formatSequenceSet, normalizeSequenceSet } from "../protocol/sequence-set";
import { ParseError, type SequenceSet } from "../protocol/types";
import { encode } from "../response/encode";
import { encodeFlags } from "../response/flags";
import { imapDate } from "../response/date";
import type { SelectedMailbox } from "../selected-mailbox";
import type { ImapSession } from "../session";

/** Messages fetched between two yields to the event loop. */
const FETCH_BATCH = 200;

function fetchLine(session: ImapSession, selected: SelectedMailbox, message: Message, plan: FetchPlan, byUid: boolean): Buffer {
  const seq = selected.sequenceOf(message.uid)!;
  const parts: Buffer[] = [];
  const add = (label: string, value: Buffer | string) =>
    parts.push(Buffer.concat([Buffer.from(label + " ", "latin1"), typeof value === "string" ? Buffer.from(value, "latin1") : value]));
  let flags = message.flags;
  let modseq = message.modseq;
  let flagsAsked = plan.items.some((item) => item.kind === "FLAGS");

  const setsSeen = plan.items.some(
    (item) => item.kind === "RFC822" || item.kind === "RFC822.TEXT" || (item.kind === "section" && item.section.item === "BODY"),
  );
  if (setsSeen && !selected.readOnly && !flags.includes("\\Seen")) {
    const result = selected.mailbox.updateFlags([message.uid], "add", ["\\Seen"]);
    flags = result.updated[0]?.flags ?? flags;
    modseq = result.updated[0]?.modseq ?? modseq;
    selected.acknowledgeFlags([message.uid]);
    flagsAsked = true;
  }

  if (byUid || plan.items.some((item) => item.kind === "UID")) add("UID", String(message.uid));
  for (const item of plan.items) {
    switch (item.kind) {
      case "UID":
      case "FLAGS":
        break;
      case "INTERNALDATE":
        add("INTERNALDATE", `"${imapDate(message.internalDate)}"`);
        break;
      case "RFC822.SIZE":
        add("RFC822.SIZE", String(message.size));
        break;
      case "MODSEQ":
        add("MODSEQ", `(${modseq})`);
        break;
      case "ENVELOPE":
        add("ENVELOPE", encode(envelope(message.mime())));
        break;
      case "BODY":
        add("BODY", encode(bodyStructure(message.mime(), false)));
        break;
      case "BODYSTRUCTURE":
        add("BODYSTRUCTURE", encode(bodyStructure(message.mime(), true)));
        break;
      case "RFC822":
        add("RFC822", encode(message.raw()));
        break;
      case "RFC822.HEADER":
        add("RFC822.HEADER", encode(message.headerBytes()));
        break;
      case "RFC822.TEXT":
        add("RFC822.TEXT", encode(message.body(message.mime())));
        break;
      case "section": {
        const bytes = sectionBytes(message, item.section);
        add(sectionLabel(item.section), bytes === null ? "NIL" : encode(applyPartial(bytes, item.section)));
        break;
      }
    }
  }
  if (flagsAsked) {
    add("FLAGS", encodeFlags(flags, selected.isRecent(message.uid)));
    // These flags are current: a pending notice of an earlier change would only repeat them.
    selected.acknowledgeFlags([message.uid]);
  }
  if (session.condstoreActive && !plan.items.some((item) => item.kind === "MODSEQ")) {
    add("MODSEQ", `(${modseq})`);
  }
  const joined: Buffer[] = [];
  parts.forEach((part, i) => joined.push(...(i > 0 ? [Buffer.from(" "), part] : [part])));
  return Buffer.concat([Buffer.from(`* ${seq} FETCH (`), ...joined, Buffer.from(")\r\n")]);
}

export const fetch = defineCommand({
  name: "FETCH",
  states: SELECTED,
  uid: true,
  forbidsExpungeNotices: true,
  parse(args) {
    const set = args.sequenceSet();
    return { set, plan: parseFetchPlan(args.rest()) };
  },
  async run(session, { set, plan }, command) {
    const selected = session.selectedMailbox;
    if (plan.vanished && (!command.uid || plan.changedSince === undefined || !session.enabled.has("QRESYNC"))) {
      throw new ParseError("VANISHED needs UID FETCH, CHANGEDSINCE and an ENABLEd QRESYNC");
    }
    if (plan.changedSince !== undefined || plan.items.some((item) => item.kind === "MODSEQ")) session.condstoreActive = true;
    const uids = selected.resolve(set, command.uid);
    if (plan.vanished) reportVanished(session, selected, set, plan.changedSince!);
    let missing = false;
    let targets = uids;
    if (plan.changedSince !== undefined) {
      // Only messages changed after CHANGEDSINCE are answered, usually a few:
      // take them from the MODSEQ index instead of reading every message.
      const inSet = new Set(uids);
      targets = selected.mailbox.uidsChangedSince(plan.changedSince).filter((uid) => inSet.has(uid));
      if (!command.uid) missing = anyGone(selected.mailbox.uids(), uids);
    }
    for (let start = 0; start < targets.length; start += FETCH_BATCH) {
      const batch = targets.slice(start, start + FETCH_BATCH);
      // Read per batch, after each yield, so that the flags sent are current.
      const found = selected.mailbox.messages(batch);
      missing ||= found.length < batch.length;
      for (const message of found) {
        if (plan.changedSince !== undefined && message.modseq <= plan.changedSince) continue;
        session.write(fetchLine(session, selected, message, plan, command.uid));
      }
      if (start + FETCH_BATCH < targets.length) await session.yieldToOthers();
    }
    // Messages expunged by another session are still numbered here until the
    // EXPUNGE notice can be sent; their data is gone (RFC 2180 4.1.2).
    if (missing && !command.uid) throw new CommandFailure("some of the messages no longer exist", "EXPUNGEISSUED");
    return ok("FETCH completed");
  },
});

/** Whether any of `wanted` (ascending) is missing from `live` (ascending). */
function anyGone(live: readonly number[], wanted: readonly number[]): boolean {
  let i = 0;
  for (const uid of wanted) {
    while (i < live.length && live[i]! < uid) i++;
    if (live[i] !== uid) return true;
  }
  return false;
}

function reportVanished(session: ImapSession, selected: SelectedMailbox, set: SequenceSet, since: number) {
  const expunged = selected.mailbox.changesSince(since).expunged;
  const ranges = normalizeSequenceSet(set, Math.max(selected.mailbox.uidNext - 1, 0));
  const inSet = expunged.filter((uid) => ranges.some(([start, end]) => uid >= start && uid <= end));
  if (inSet.length > 0) session.untagged(`VANISHED (EARLIER) ${formatSequenceSet(inSet)}`);
}

