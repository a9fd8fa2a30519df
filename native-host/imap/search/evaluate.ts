// Evaluates a SEARCH key tree over the messages of the session's view. Keys
// narrow a candidate list: within an AND the cheap keys (flags, sizes,
// dates, numbers from the message row) run first, then the full-text index,
// then keys that read the header, so headers are parsed only for messages
// still in the running.
import { hasFlag } from "../../mail/flags";
import type { Message } from "../../mail/message";
import { decodeHeaderValue, foldCase } from "../../mail/searchable-text";
import { sequenceSetContains } from "../protocol/sequence-set";
import type { SelectedMailbox } from "../selected-mailbox";
import { addressesText, headerFields, sentDate } from "./message-fields";
import type { DateComparison, SearchKey } from "./search-keys";

/** The keys one message decides alone, without the index or other keys. */
type MessageKey = Exclude<SearchKey, { type: "all" | "and" | "or" | "not" | "text" }>;

/** The messages of the view that match, ascending by UID. Messages another
 * session expunged (still numbered here until the EXPUNGE can be sent) have
 * no data left, and match nothing (RFC 2180 4 leaves this to the server). */
export function searchMessages(selected: SelectedMailbox, key: SearchKey): Message[] {
  const uids = selected.viewUids;
  if (uids.length === 0) return [];
  const inView = new Set(uids);
  const messages = selected.mailbox.range(uids[0]!, uids[uids.length - 1]!).filter((message) => inView.has(message.uid));
  return new Evaluator(selected).filter(key, messages);
}

/** How results are numbered: UIDs for the UID forms, else sequence numbers. */
export function numbering(selected: SelectedMailbox, byUid: boolean): (message: Message) => number {
  return byUid ? (message) => message.uid : (message) => selected.sequenceOf(message.uid)!;
}

/** Relative cost of a key, to order the keys of an AND. */
function cost(key: SearchKey): number {
  switch (key.type) {
    case "text":
      return 1;
    case "header":
      return 2;
    case "date":
      return key.source === "sent" ? 2 : 0;
    case "not":
      return cost(key.key);
    case "or":
      return Math.max(cost(key.left), cost(key.right));
    case "and":
      return Math.max(0, ...key.keys.map(cost));
    default:
      return 0;
  }
}

class Evaluator {
  /** Full-text answers, one index query per key. */
  private readonly textAnswers = new Map<SearchKey, Set<number>>();
  private readonly maxUid: number;

  constructor(private readonly selected: SelectedMailbox) {
    this.maxUid = selected.viewUids[selected.viewUids.length - 1] ?? 0;
  }

  filter(key: SearchKey, candidates: Message[]): Message[] {
    if (candidates.length === 0) return candidates;
    switch (key.type) {
      case "all":
        return candidates;
      case "and":
        return [...key.keys].sort((a, b) => cost(a) - cost(b)).reduce((remaining, inner) => this.filter(inner, remaining), candidates);
      case "or": {
        const left = new Set(this.filter(key.left, candidates));
        const right = new Set(this.filter(key.right, candidates.filter((message) => !left.has(message))));
        return candidates.filter((message) => left.has(message) || right.has(message));
      }
      case "not": {
        const excluded = new Set(this.filter(key.key, candidates));
        return candidates.filter((message) => !excluded.has(message));
      }
      case "text": {
        const matching = this.textMatches(key);
        return candidates.filter((message) => matching.has(message.uid));
      }
      default:
        return candidates.filter((message) => this.matches(key, message));
    }
  }

  private textMatches(key: SearchKey & { type: "text" }): Set<number> {
    let answer = this.textAnswers.get(key);
    if (!answer) {
      answer = this.selected.mailbox.searchText(key.field, key.value);
      this.textAnswers.set(key, answer);
    }
    return answer;
  }

  private matches(key: MessageKey, message: Message): boolean {
    switch (key.type) {
      case "flag":
        return hasFlag([...message.flags], key.flag) === key.present;
      case "recent":
        return this.selected.isRecent(message.uid);
      case "size":
        return key.comparison === "larger" ? message.size > key.size : message.size < key.size;
      case "modseq":
        return message.modseq >= key.modseq;
      case "sequence":
        return key.uid
          ? sequenceSetContains(key.set, message.uid, this.maxUid)
          : sequenceSetContains(key.set, this.selected.sequenceOf(message.uid) ?? 0, this.selected.exists);
      case "date": {
        const day = key.source === "internal" ? utcDay(message.internalDate.getTime()) : sentDate(message)?.day;
        return day !== undefined && compareDay(day, key.comparison, key.day.getTime());
      }
      case "header":
        return headerMatches(message, key.field, key.value);
    }
  }
}

function utcDay(time: number): number {
  const date = new Date(time);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
}

function compareDay(day: number, comparison: DateComparison, keyDay: number): boolean {
  if (comparison === "before") return day < keyDay;
  if (comparison === "on") return day === keyDay;
  return day >= keyDay;
}

/** A case-insensitive substring of a decoded, unfolded value of the field,
 * or for an address field of its addresses as ENVELOPE has them (RFC 3501
 * 6.4.4: FROM matches "messages that contain the specified string in the
 * envelope structure's FROM field"); with an empty string, whether the
 * field is present at all. */
function headerMatches(message: Message, field: string, value: string): boolean {
  const name = field.toLowerCase();
  const needle = foldCase(value);
  const contains = (text: string | undefined) => text !== undefined && foldCase(text).includes(needle);
  return headerFields(message).some(
    (candidate) =>
      candidate.name.toLowerCase() === name &&
      (needle === "" || contains(decodeHeaderValue(candidate.value)) || contains(addressesText(name, candidate.value))),
  );
}
