// Sequence sets (RFC 3501 sequence-set): "1,4:7,9:*". Parsing keeps ranges as
// written, because `*` only gets a value once the mailbox is known; the other
// functions resolve `*` against the largest number in use (message count for
// sequence numbers, highest UID for UID sets).

import { MAX_EXPANDED_SEQUENCE_NUMBERS, MAX_SEQUENCE_SET_RANGES } from "../limits";
import { ParseError, type SequenceRange, type SequenceSet } from "./types";

/** `*` in a sequence set: the largest number in use, resolved late. */
export const SEQUENCE_STAR = Infinity;

/** Sequence numbers and UIDs are nz-number: 1 .. 2^32-1. */
const MAX_SEQUENCE_NUMBER = 0xffff_ffff;

const NZ_NUMBER = /^[1-9][0-9]*$/;

function parseSequenceNumber(text: string, setText: string): number {
  if (text === "*") return SEQUENCE_STAR;
  if (!NZ_NUMBER.test(text)) throw new ParseError(`Invalid sequence set "${setText}": "${text}" is not a message number`);
  const value = Number(text);
  if (value > MAX_SEQUENCE_NUMBER) throw new ParseError(`Invalid sequence set "${setText}": ${text} is out of range`);
  return value;
}

/** Parses "1,4:7,9:*"; throws ParseError on anything else (0, empty parts, `$`, spaces). */
export function parseSequenceSet(text: string, maxRanges = MAX_SEQUENCE_SET_RANGES): SequenceSet {
  const parts = text.split(",");
  if (parts.length > maxRanges) throw new ParseError(`Sequence set has more than ${maxRanges} ranges`);
  return parts.map((part): SequenceRange => {
    const colon = part.indexOf(":");
    if (colon === -1) {
      const value = parseSequenceNumber(part, text);
      return [value, value];
    }
    return [parseSequenceNumber(part.slice(0, colon), text), parseSequenceNumber(part.slice(colon + 1), text)];
  });
}

/** The set's ranges with `*` = max, each as [low, high] clipped to 1..max, sorted and merged. */
export function normalizeSequenceSet(set: SequenceSet, max: number): Array<[number, number]> {
  const resolve = (value: number) => (value === SEQUENCE_STAR ? max : value);
  const ranges: Array<[number, number]> = [];
  for (const [start, end] of set) {
    const low = Math.max(1, Math.min(resolve(start), resolve(end)));
    const high = Math.min(max, Math.max(resolve(start), resolve(end)));
    if (low <= high) ranges.push([low, high]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1] + 1) last[1] = Math.max(last[1], range[1]);
    else merged.push(range);
  }
  return merged;
}

/** Every number in the set between 1 and max, sorted and unique; throws ParseError
 * past `limit` numbers (use normalizeSequenceSet for wide, sparse UID spans). */
export function expandSequenceSet(set: SequenceSet, max: number, limit = MAX_EXPANDED_SEQUENCE_NUMBERS): number[] {
  const ranges = normalizeSequenceSet(set, max);
  const count = ranges.reduce((total, [low, high]) => total + high - low + 1, 0);
  if (count > limit) throw new ParseError(`Sequence set covers more than ${limit} messages`);
  const numbers: number[] = [];
  for (const [low, high] of ranges) for (let n = low; n <= high; n++) numbers.push(n);
  return numbers;
}

/** Whether n (between 1 and max) is in the set, with `*` = max. */
export function sequenceSetContains(set: SequenceSet, n: number, max: number): boolean {
  if (n < 1 || n > max) return false;
  const resolve = (value: number) => (value === SEQUENCE_STAR ? max : value);
  return set.some(([start, end]) => {
    const a = resolve(start);
    const b = resolve(end);
    return n >= Math.min(a, b) && n <= Math.max(a, b);
  });
}

/** The shortest sequence-set text for these numbers ("1:3,7"), for COPYUID,
 * ESEARCH and VANISHED responses; "" for none. */
export function formatSequenceSet(numbers: Iterable<number>): string {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const parts: string[] = [];
  let index = 0;
  while (index < sorted.length) {
    const low = sorted[index]!;
    let high = low;
    while (sorted[index + 1] === high + 1) high = sorted[++index]!;
    parts.push(low === high ? String(low) : `${low}:${high}`);
    index++;
  }
  return parts.join(",");
}
