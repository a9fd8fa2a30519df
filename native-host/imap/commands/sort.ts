// SORT and UID SORT (RFC 5256 3), with SORT=DISPLAY's DISPLAYFROM and
// DISPLAYTO (RFC 5957): the SEARCH result ordered by a list of keys, each
// optionally REVERSEd; messages equal on every key keep their
// mailbox order (sequence number).
import type { Message } from "../../mail/message";
import { SELECTED, defineCommand, ok } from "../command";
import { tokenAsAtom } from "../protocol/command-parser";
import { type ImapToken, ParseError } from "../protocol/types";
import { numbering, searchMessages } from "../search/evaluate";
import { foldCase } from "../../mail/searchable-text";
import { asciiUpper, baseSubject, displayAddress, firstMailbox, sortDate } from "../search/message-fields";
import { parseCharsetAndCriteria } from "../search/search-keys";

type SortKey = "ARRIVAL" | "CC" | "DATE" | "DISPLAYFROM" | "DISPLAYTO" | "FROM" | "SIZE" | "SUBJECT" | "TO";
type SortCriterion = { key: SortKey; reverse: boolean };

/** Each key's value for one message: numbers compare as numbers; strings are
 * octets (binary strings) compared as i;ascii-casemap (RFC 5256 3). */
const SORT_VALUES: Record<SortKey, (message: Message) => number | string> = {
  ARRIVAL: (message) => message.internalDate.getTime(),
  CC: (message) => asciiUpper(firstMailbox(message, "Cc")),
  DATE: sortDate,
  // RFC 5957 3: compared with i;unicode-casemap, here its case folding of the decoded text.
  DISPLAYFROM: (message) => foldCase(displayAddress(message, "From")),
  DISPLAYTO: (message) => foldCase(displayAddress(message, "To")),
  FROM: (message) => asciiUpper(firstMailbox(message, "From")),
  SIZE: (message) => message.size,
  SUBJECT: (message) => Buffer.from(baseSubject(message).key, "utf8").toString("latin1"),
  TO: (message) => asciiUpper(firstMailbox(message, "To")),
};

function parseSortCriteria(items: readonly ImapToken[]): SortCriterion[] {
  const criteria: SortCriterion[] = [];
  let reverse = false;
  for (const item of items) {
    const name = tokenAsAtom(item, "a sort key").toUpperCase();
    if (name === "REVERSE") {
      if (reverse) throw new ParseError("REVERSE REVERSE is not a sort key");
      reverse = true;
      continue;
    }
    if (!Object.hasOwn(SORT_VALUES, name)) throw new ParseError(`unknown sort key ${name}`);
    criteria.push({ key: name as SortKey, reverse });
    reverse = false;
  }
  if (reverse) throw new ParseError("REVERSE must be followed by a sort key");
  if (criteria.length === 0) throw new ParseError("SORT needs at least one sort key");
  return criteria;
}

function compare(a: number | string, b: number | string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const sort = defineCommand({
  name: "SORT",
  states: SELECTED,
  uid: true,
  forbidsExpungeNotices: true,
  parse(args) {
    const criteria = parseSortCriteria(args.list("sort criteria").items);
    return { criteria, key: parseCharsetAndCriteria(args.rest()) };
  },
  run(session, { criteria, key }, command) {
    const selected = session.selectedMailbox;
    const rows = searchMessages(selected, key).map((message) => ({
      message,
      values: criteria.map((criterion) => SORT_VALUES[criterion.key](message)),
    }));
    rows.sort((a, b) => {
      for (let i = 0; i < criteria.length; i++) {
        const order = compare(a.values[i]!, b.values[i]!);
        if (order !== 0) return criteria[i]!.reverse ? -order : order;
      }
      return a.message.uid - b.message.uid;
    });
    const number = numbering(selected, command.uid);
    session.untagged(["SORT", ...rows.map((row) => number(row.message))].join(" "));
    return ok(command.uid ? "UID SORT completed" : "SORT completed");
  },
});
