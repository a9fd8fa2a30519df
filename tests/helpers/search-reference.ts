// The linear reference the full-text index is checked against: SEARCH BODY
// and TEXT (TEXT also looks in the header) by scanning one message's text.
import { type SearchField, type SearchableText, foldCase } from "../../native-host/mail/searchable-text";

export function textContains(text: SearchableText, field: SearchField, needle: string): boolean {
  const folded = foldCase(needle);
  return foldCase(text.body).includes(folded) || (field === "text" && foldCase(text.header).includes(folded));
}
