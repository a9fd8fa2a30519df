// Authentication-Results fields are trusted only from our own provider
// (RFC 8601 5): it puts its one field, named with our domain as authserv-id,
// above every Received field. A field claiming our domain further down came
// with the message from outside and would claim checks we never made, so it
// is removed; fields of other authserv-ids are left as they are.

export function stripForeignAuthenticationResults(raw: Uint8Array, ourDomain: string): Uint8Array {
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("latin1");
  // The header with its last line break, without the blank line.
  const end = /\r?\n(?=\r?\n)/.exec(text);
  const header = end ? text.slice(0, end.index + end[0].length) : text;
  const fields = header.match(/^[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*/gm) ?? [];
  const domain = ourDomain.toLowerCase();
  let belowProvider = false;
  let removed = false;
  const kept = fields.filter((field) => {
    if (/^received:/i.test(field)) belowProvider = true;
    const claimsUs = /^authentication-results:/i.test(field) && authservId(field) === domain;
    if (claimsUs && belowProvider) removed = true;
    return !(claimsUs && belowProvider);
  });
  if (!removed) return raw;
  return Buffer.from(kept.join("") + text.slice(header.length), "latin1");
}

/** The authserv-id: the first token of the value, before any ";". */
function authservId(field: string): string {
  const value = field.slice(field.indexOf(":") + 1).replace(/\([^)]*\)/g, " ");
  return (value.split(";")[0] ?? "").trim().split(/\s+/)[0]?.toLowerCase() ?? "";
}
