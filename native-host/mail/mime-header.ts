// Reading header fields from a header block given as bytes (a binary string).
// Only what the store needs: field lookup, unfolding, Content-Type parameters.

export type HeaderField = { name: string; value: string };

/** Splits a header block into fields, unfolding continuation lines. Lines
 * that are not fields (no colon) are skipped, as every MUA does. */
export function parseHeaderFields(block: string): HeaderField[] {
  const fields: HeaderField[] = [];
  const lines = block.split(/\r?\n/);
  for (const line of lines) {
    if (line === "") continue;
    if ((line[0] === " " || line[0] === "\t") && fields.length > 0) {
      fields[fields.length - 1]!.value += " " + line.trim();
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return fields;
}

export function headerValue(fields: HeaderField[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return fields.find((field) => field.name.toLowerCase() === lower)?.value;
}

export type ContentType = { type: string; subtype: string; params: Record<string, string> };

/** Parses a Content-Type (or Content-Disposition) value; parameter names are
 * lower-cased, quoted values unquoted, RFC 2231 continuations joined. */
export function parseContentType(value: string | undefined): ContentType {
  const fallback: ContentType = { type: "text", subtype: "plain", params: {} };
  if (!value) return fallback;
  const [mediaType = "", ...rest] = splitParams(value);
  const slash = mediaType.indexOf("/");
  const type = slash > 0 ? mediaType.slice(0, slash).trim().toLowerCase() : mediaType.trim().toLowerCase();
  const subtype = slash > 0 ? mediaType.slice(slash + 1).trim().toLowerCase() : "";
  return { type: type || fallback.type, subtype: subtype || (type ? "" : fallback.subtype), params: parseParams(rest) };
}

function splitParams(value: string): string[] {
  const out: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!;
    if (quoted && char === "\\" && i + 1 < value.length) {
      current += char + value[++i];
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === ";" && !quoted) {
      out.push(current);
      current = "";
      continue;
    }
    current += char;
  }
  out.push(current);
  return out;
}

function unquote(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')) {
    return trimmed.slice(1, -1).replace(/\\(.)/g, "$1");
  }
  return trimmed;
}

function parseParams(parts: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  const continued = new Map<string, string[]>();
  for (const part of parts) {
    const equals = part.indexOf("=");
    if (equals <= 0) continue;
    const name = part.slice(0, equals).trim().toLowerCase();
    const value = unquote(part.slice(equals + 1));
    const continuation = /^(.+?)\*(\d+)\*?$/.exec(name);
    if (continuation) {
      const list = continued.get(continuation[1]!) ?? [];
      list[Number(continuation[2])] = value;
      continued.set(continuation[1]!, list);
    } else if (!(name in params)) {
      params[name] = value;
    }
  }
  for (const [name, pieces] of continued) if (!(name in params)) params[name] = pieces.join("");
  return params;
}

/** Splits a header block the way IMAP servers read it for ENVELOPE and
 * BODYSTRUCTURE (Dovecot's header parser): a field runs to the next line that
 * does not start with a space or tab; the name ends at the colon, without the
 * blanks before it; the value starts after the blanks that follow the colon
 * (one blank only when the value is nothing but blanks) and keeps its folding
 * line breaks, so callers unfold exactly as their field's syntax says; a line
 * without a colon is a field whose name is the whole line and whose value is
 * empty. The CR of each CRLF ending a line is dropped. */
export function parseExactHeaderFields(block: string): HeaderField[] {
  const fields: HeaderField[] = [];
  const lines = block.split("\n");
  // The block ends with its blank line (or with the message); neither is a field.
  if (lines[lines.length - 1] === "") lines.pop();
  if (lines.length > 0 && (lines[lines.length - 1] === "" || lines[lines.length - 1] === "\r")) lines.pop();
  for (let index = 0; index < lines.length; index++) {
    const line = withoutFinalCr(lines[index]!, index < lines.length - 1 || block.endsWith("\n"));
    const last = fields[fields.length - 1];
    if (index > 0 && last && (line[0] === " " || line[0] === "\t")) {
      last.value += "\n" + line;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon < 0) {
      fields.push({ name: line, value: "" });
      continue;
    }
    const name = line.slice(0, colon).replace(/[ \t]+$/, "");
    const value = line.slice(colon + 1);
    const leadingBlanks = /^[ \t]*/.exec(value)![0].length;
    const skip = leadingBlanks === value.length ? Math.min(1, value.length) : leadingBlanks;
    fields.push({ name, value: value.slice(skip) });
  }
  return fields;
}

function withoutFinalCr(line: string, endedByLf: boolean): string {
  return endedByLf && line.endsWith("\r") ? line.slice(0, -1) : line;
}
