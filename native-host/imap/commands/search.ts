// SEARCH and UID SEARCH (RFC 3501 6.4.4), with ESEARCH results when RETURN
// is given (RFC 4731) and CONDSTORE's MODSEQ key and result (RFC 7162 3.1.5).
import type { Message } from "../../mail/message";
import { SELECTED, defineCommand, ok } from "../command";
import { formatSequenceSet } from "../protocol/sequence-set";
import { numbering, searchMessages } from "../search/evaluate";
import { type ReturnOption, parseSearchProgram, usesModseq } from "../search/search-keys";

export const search = defineCommand({
  name: "SEARCH",
  states: SELECTED,
  uid: true,
  forbidsExpungeNotices: true,
  parse(args) {
    return parseSearchProgram(args.rest());
  },
  run(session, { key, returnOptions }, command) {
    const selected = session.selectedMailbox;
    const withModseq = usesModseq(key);
    if (withModseq) session.condstoreActive = true;
    const matches = searchMessages(selected, key);
    const number = numbering(selected, command.uid);
    if (returnOptions) {
      session.untagged(esearchLine(command.tag, command.uid, returnOptions, matches, number, withModseq));
    } else {
      const modseq = withModseq && matches.length > 0 ? ` (MODSEQ ${highestModseq(matches)})` : "";
      session.untagged(["SEARCH", ...matches.map(number)].join(" ") + modseq);
    }
    return ok(command.uid ? "UID SEARCH completed" : "SEARCH completed");
  },
});

function highestModseq(messages: readonly Message[]): number {
  return messages.reduce((highest, message) => Math.max(highest, message.modseq), 0);
}

/** `* ESEARCH (TAG "a1") UID MIN 1 MAX 9 COUNT 5`: the options asked for, in
 * the order RFC 4731 lists them; MIN, MAX and ALL are left out when nothing matched. */
function esearchLine(
  tag: string,
  byUid: boolean,
  options: ReadonlySet<ReturnOption>,
  matches: readonly Message[],
  number: (message: Message) => number,
  withModseq: boolean,
): string {
  const parts = [`ESEARCH (TAG "${tag}")`];
  if (byUid) parts.push("UID");
  const first = matches[0];
  const last = matches[matches.length - 1];
  if (first && last) {
    if (options.has("MIN")) parts.push(`MIN ${number(first)}`);
    if (options.has("MAX")) parts.push(`MAX ${number(last)}`);
    if (options.has("ALL")) parts.push(`ALL ${formatSequenceSet(matches.map(number))}`);
  }
  if (options.has("COUNT")) parts.push(`COUNT ${matches.length}`);
  if (withModseq && first && last) {
    // RFC 7162 3.1.5: the highest mod-sequence of the messages reported; with
    // only MIN and/or MAX, of those messages alone.
    const reported = options.has("ALL") || options.has("COUNT") ? matches : [options.has("MIN") ? first : last, options.has("MAX") ? last : first];
    parts.push(`MODSEQ ${highestModseq(reported)}`);
  }
  return parts.join(" ");
}
