// STORE and UID STORE (RFC 3501 6.4.6) with CONDSTORE's UNCHANGEDSINCE.
import type { FlagMode } from "../../mail/flags";
import { CommandFailure, SELECTED, defineCommand, keyword, ok } from "../command";
import { formatSequenceSet } from "../protocol/sequence-set";
import { ParseError } from "../protocol/types";

const MODES: Record<string, FlagMode> = { "+FLAGS": "add", "-FLAGS": "remove", FLAGS: "set" };

export const store = defineCommand({
  name: "STORE",
  states: SELECTED,
  uid: true,
  forbidsExpungeNotices: true,
  parse(args) {
    const set = args.sequenceSet();
    let unchangedSince: number | undefined;
    const modifiers = args.optionalList();
    if (modifiers) {
      if (keyword(modifiers.items[0]) !== "UNCHANGEDSINCE" || modifiers.items[1]?.type !== "number" || modifiers.items.length !== 2) {
        throw new ParseError("STORE modifier must be (UNCHANGEDSINCE mod-sequence)");
      }
      unchangedSince = modifiers.items[1].value;
    }
    const item = args.atom("STORE item").toUpperCase();
    const silent = item.endsWith(".SILENT");
    const mode = MODES[silent ? item.slice(0, -".SILENT".length) : item];
    if (!mode) throw new ParseError(`unknown STORE item ${item}`);
    const flags: string[] = [];
    const list = args.optionalList();
    const tokens = list ? list.items : args.rest();
    for (const token of tokens) {
      if (token.type !== "atom") throw new ParseError("flags must be atoms");
      flags.push(token.value);
    }
    args.end();
    return { set, unchangedSince, mode, silent, flags };
  },
  run(session, { set, unchangedSince, mode, silent, flags }, command) {
    const selected = session.selectedMailbox;
    if (selected.readOnly) throw new CommandFailure("mailbox is read-only", "READ-ONLY");
    if (unchangedSince !== undefined) session.condstoreActive = true;
    const uids = selected.resolve(set, command.uid);
    const result = selected.mailbox.updateFlags(uids, mode, flags, unchangedSince);
    const modified = new Set(result.modified);
    // Our own change is answered here, not again as an unsolicited FETCH.
    selected.acknowledgeFlags(result.updated);
    selected.announceNewKeywords((line) => session.untagged(line));
    const updated = new Map(result.updated.map((change) => [change.uid, change]));
    for (const uid of uids) {
      if (modified.has(uid)) continue;
      const change = updated.get(uid);
      // With UNCHANGEDSINCE the new MODSEQ is reported even when silent (RFC 7162 3.1.3).
      if (silent && !(change && unchangedSince !== undefined)) continue;
      const message = change ? null : selected.mailbox.get(uid);
      const current = change ?? (message && { uid, flags: [...message.flags], modseq: message.modseq });
      const seq = selected.sequenceOf(uid);
      if (!current || seq === undefined) continue;
      session.untagged(selected.flagsFetchLine(seq, current));
    }
    if (modified.size > 0) {
      const numbers = command.uid ? [...modified] : [...modified].map((uid) => selected.sequenceOf(uid)!);
      return ok("conditional STORE failed for some messages", `MODIFIED ${formatSequenceSet(numbers)}`);
    }
    return ok("STORE completed");
  },
});
