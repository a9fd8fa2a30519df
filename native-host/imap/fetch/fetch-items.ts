// The FETCH item list (RFC 3501 6.4.5, CONDSTORE's MODSEQ and CHANGEDSINCE).
import { keyword } from "../command";
import { type ImapToken, ParseError, type SectionToken } from "../protocol/types";

export type FetchItem =
  | { kind: "UID" | "FLAGS" | "INTERNALDATE" | "RFC822.SIZE" | "ENVELOPE" | "BODY" | "BODYSTRUCTURE" | "MODSEQ" }
  | { kind: "RFC822" | "RFC822.HEADER" | "RFC822.TEXT" }
  | { kind: "section"; section: SectionToken };

export type FetchPlan = { items: FetchItem[]; changedSince?: number; vanished: boolean };

const SIMPLE = new Set(["UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY", "BODYSTRUCTURE", "MODSEQ", "RFC822", "RFC822.HEADER", "RFC822.TEXT"]);
const MACROS: Record<string, string[]> = {
  ALL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"],
  FAST: ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
  FULL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"],
};

function item(token: ImapToken): FetchItem {
  if (token.type === "section") {
    if (token.item.startsWith("BINARY")) throw new ParseError("BINARY is not supported");
    return { kind: "section", section: token };
  }
  const name = keyword(token);
  if (!name || !SIMPLE.has(name)) throw new ParseError(`unknown FETCH item ${name ?? token.type}`);
  return { kind: name } as FetchItem;
}

export function parseFetchPlan(tokens: readonly ImapToken[]): FetchPlan {
  const [what, modifiers, ...extra] = tokens;
  if (!what) throw new ParseError("missing FETCH items");
  if (extra.length > 0) throw new ParseError("too many FETCH arguments");
  let items: FetchItem[];
  const macro = keyword(what);
  if (macro && MACROS[macro]) items = MACROS[macro]!.map((kind) => ({ kind }) as FetchItem);
  else if (what.type === "list") {
    if (what.items.length === 0) throw new ParseError("empty FETCH item list");
    items = what.items.map(item);
  } else items = [item(what)];

  const plan: FetchPlan = { items, vanished: false };
  if (modifiers) {
    if (modifiers.type !== "list") throw new ParseError("FETCH modifiers must be a list");
    for (let i = 0; i < modifiers.items.length; i++) {
      const name = keyword(modifiers.items[i]);
      if (name === "CHANGEDSINCE") {
        const value = modifiers.items[++i];
        if (value?.type !== "number") throw new ParseError("CHANGEDSINCE needs a mod-sequence");
        plan.changedSince = value.value;
      } else if (name === "VANISHED") plan.vanished = true;
      else throw new ParseError(`unknown FETCH modifier ${name}`);
    }
  }
  return plan;
}
