// The plain way to cut a header block into fields, each with its
// continuation lines: the reference the one-pass HEADER.FIELDS selection
// (native-host/imap/fetch/section.ts, selectFields) is checked against.

export function headerFieldBlocks(header: string): { name: string; raw: string }[] {
  const fields: { name: string; raw: string }[] = [];
  const lines = header.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  for (const line of lines) {
    if (line === "\r\n" || line === "\n") break;
    if ((line[0] === " " || line[0] === "\t") && fields.length > 0) {
      fields[fields.length - 1]!.raw += line;
      continue;
    }
    const colon = line.indexOf(":");
    fields.push({ name: colon > 0 ? line.slice(0, colon).trim().toLowerCase() : "", raw: line });
  }
  return fields;
}
