// FETCH and UID FETCH. Each message's response is assembled from its local
// row (UID, flags, dates, size) and, only when asked for, its stored MIME tree
// and bodies. Large fetches yield between messages so other sessions run.
import type { Message } from "../../mail/message";
import { CommandFailure, SELECTED, defineCommand, ok } from "../command";
import { bodyStructure } from "../fetch/body-structure";
import { envelope } from "../fetch/envelope";
import { type FetchItem, type FetchPlan, parseFetchPlan } from "../fetch/fetch-items";
import { type SectionData, applyPartial, sectionBytes, sectionLabel, usesSyncHeader } from "../fetch/section";
import { OUTPUT_FLUSH_BYTES } from "../limits";
import { formatSequenceSet, normalizeSequenceSet } from "../protocol/sequence-set";
import { ParseError, type SequenceSet } from "../protocol/types";
import { encode } from "../response/encode";
import { encodeFlags } from "../response/flags";
import { imapDate } from "../response/date";
import type { SelectedMailbox } from "../selected-mailbox";
import type { ImapSession } from "../session";

/** Messages fetched between two yields to the event loop. */
const FETCH_BATCH = 200;

/** A FETCH's responses on their way to the session. The text, literals from
 * the header table included, is binary text (one char per byte, latin1)
 * gathered in one string and made into bytes once per batch; literals that
 * are already bytes (bodies) go out as they are, never copied into a string. */
class FetchOutput {
  private text = "";

  constructor(private readonly session: ImapSession) {}

  add(text: string): void {
    this.text += text;
    if (this.text.length >= OUTPUT_FLUSH_BYTES) this.flush();
  }

  addBytes(bytes: Buffer): void {
    this.flush();
    this.session.write(bytes);
  }

  flush(): void {
    if (this.text === "") return;
    this.session.write(Buffer.from(this.text, "latin1"));
    this.text = "";
  }
}

/** A literal's data with each NUL byte made 0x80, as Dovecot sends it: a
 * literal is CHAR8, "any OCTET except NUL" (RFC 3501 9), so a message with
 * NULs cannot go out as it is stored; the length stays the same. */
function withoutNul(data: SectionData): SectionData {
  if (typeof data === "string") return data.includes("\0") ? data.replaceAll("\0", "\x80") : data;
  if (!data.includes(0)) return data;
  const copy = Buffer.from(data);
  for (let at = copy.indexOf(0); at >= 0; at = copy.indexOf(0, at + 1)) copy[at] = 0x80;
  return copy;
}

/** What a FETCH item list implies, worked out once for all its messages. */
type FetchShape = {
  /** Some item reads the message's body, which sets \Seen (RFC 3501 6.4.5). */
  setsSeen: boolean;
  asksFlags: boolean;
  asksUid: boolean;
  asksModseq: boolean;
  /** Each section item's response label. */
  labels: Map<FetchItem, string>;
};

function fetchShape(plan: FetchPlan, byUid: boolean): FetchShape {
  const labels = new Map<FetchItem, string>();
  for (const item of plan.items) if (item.kind === "section") labels.set(item, sectionLabel(item.section));
  return {
    setsSeen: plan.items.some(
      (item) => item.kind === "RFC822" || item.kind === "RFC822.TEXT" || (item.kind === "section" && item.section.item === "BODY"),
    ),
    asksFlags: plan.items.some((item) => item.kind === "FLAGS"),
    asksUid: byUid || plan.items.some((item) => item.kind === "UID"),
    asksModseq: plan.items.some((item) => item.kind === "MODSEQ"),
    labels,
  };
}

/** Writes one message's FETCH response. */
function fetchResponse(
  out: FetchOutput,
  session: ImapSession,
  selected: SelectedMailbox,
  message: Message,
  plan: FetchPlan,
  shape: FetchShape,
): void {
  const seq = selected.sequenceOf(message.uid)!;
  let text = `* ${seq} FETCH (`;
  let separator = "";
  /** An item whose value is IMAP text (atoms, numbers, lists). */
  const add = (label: string, value: string) => {
    text += `${separator}${label} ${value}`;
    separator = " ";
  };
  /** An item whose value is sent as a literal. */
  const addLiteral = (label: string, data: SectionData) => {
    text += `${separator}${label} {${data.length}}\r\n`;
    separator = " ";
    const sendable = withoutNul(data);
    if (typeof sendable === "string") text += sendable;
    else {
      out.add(text);
      out.addBytes(sendable);
      text = "";
    }
  };
  let flags = message.flags;
  let modseq = message.modseq;
  let flagsAsked = shape.asksFlags;

  if (shape.setsSeen && !selected.readOnly && !flags.includes("\\Seen")) {
    const result = selected.mailbox.updateFlags([message.uid], "add", ["\\Seen"]);
    flags = result.updated[0]?.flags ?? flags;
    modseq = result.updated[0]?.modseq ?? modseq;
    flagsAsked = true;
  }

  if (shape.asksUid) add("UID", String(message.uid));
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
        addLiteral("RFC822", message.raw());
        break;
      case "RFC822.HEADER":
        addLiteral("RFC822.HEADER", message.headerText());
        break;
      case "RFC822.TEXT":
        addLiteral("RFC822.TEXT", message.body(message.mime()));
        break;
      case "section": {
        // A part that does not exist is empty, as Dovecot answers: RFC 3501
        // 6.4.5 names no answer for it, and NIL makes some clients fail.
        const data = sectionBytes(message, item.section) ?? "";
        addLiteral(shape.labels.get(item)!, applyPartial(data, item.section));
        break;
      }
    }
  }
  if (flagsAsked) {
    add("FLAGS", encodeFlags(flags, selected.isRecent(message.uid)));
    selected.acknowledgeFlags([{ uid: message.uid, modseq }]);
  }
  if (session.condstoreActive && !shape.asksModseq) add("MODSEQ", `(${modseq})`);
  out.add(text + ")\r\n");
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
    if (plan.vanished) reportVanished(session, selected, set, plan.changedSince!);
    // The header sync of every client: read the sync headers with the rows.
    const asksSyncHeader = plan.items.some((item) => item.kind === "section" && usesSyncHeader(item.section));
    const shape = fetchShape(plan, command.uid);
    const out = new FetchOutput(session);
    let missing = false;
    const respond = async (messages: readonly Message[], more: boolean) => {
      let pending = messages;
      while (pending.length > 0) {
        let answered = 0;
        for (const message of pending) {
          fetchResponse(out, session, selected, message, plan, shape);
          answered++;
          // A client that stops reading stops the FETCH, not the daemon's memory.
          if (session.outputBacklogged) break;
        }
        out.flush();
        if (answered === pending.length) break;
        await session.yieldToOthers();
        // After the wait, read the rest again: a message may have changed or gone meanwhile.
        const rest = pending.slice(answered).map((message) => message.uid);
        pending = selected.mailbox.messages(rest, { headers: asksSyncHeader });
        missing ||= pending.length < rest.length;
      }
      if (more) await session.yieldToOthers();
    };
    if (plan.changedSince === undefined) {
      const uids = selected.resolve(set, command.uid);
      for (let start = 0; start < uids.length; start += FETCH_BATCH) {
        const batch = uids.slice(start, start + FETCH_BATCH);
        // Read per batch, after each yield, so that a big FETCH is never held
        // in memory whole and the flags sent are current.
        const found = selected.mailbox.messages(batch, { headers: asksSyncHeader });
        missing ||= found.length < batch.length;
        await respond(found, start + FETCH_BATCH < uids.length);
      }
    } else {
      // Only messages changed after CHANGEDSINCE are answered, usually a few:
      // read them through the MODSEQ index and test them against the set,
      // rather than list every message the set names.
      let named: (uid: number) => boolean;
      if (command.uid) named = selected.uidSetIncludes(set);
      else {
        const uids = selected.resolve(set, false);
        named = (uid) => sortedIncludes(uids, uid);
        missing = anyGone(selected.mailbox.uids(), uids);
      }
      const changed = selected.mailbox.messagesChangedSince(plan.changedSince).filter((message) => named(message.uid));
      for (let start = 0; start < changed.length; start += FETCH_BATCH) {
        let batch = changed.slice(start, start + FETCH_BATCH);
        // After a yield, read again: a message may have changed or gone meanwhile.
        if (start > 0) batch = selected.mailbox.messages(batch.map((message) => message.uid), { headers: asksSyncHeader });
        await respond(batch, start + FETCH_BATCH < changed.length);
      }
    }
    // Messages expunged by another session are still numbered here until the
    // EXPUNGE notice can be sent; their data is gone (RFC 2180 4.1.2).
    if (missing && !command.uid) throw new CommandFailure("some of the messages no longer exist", "EXPUNGEISSUED");
    return ok("FETCH completed");
  },
});

/** Whether an ascending array holds `value` (binary search). */
function sortedIncludes(sorted: readonly number[], value: number): boolean {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const found = sorted[middle]!;
    if (found === value) return true;
    if (found < value) low = middle + 1;
    else high = middle - 1;
  }
  return false;
}

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

