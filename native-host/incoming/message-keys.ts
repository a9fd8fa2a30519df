// Reading what incoming processing needs from a message: the sender's
// address and the OpenPGP keys attached to it (application/pgp-keys).
import type { MimeNode } from "../../shared/documents";
import { headerValue, parseContentType, parseHeaderFields } from "../mail/mime-header";
import { splitMessage } from "../mail/mime-split";

/** The address in a From value ("Name <a@b>" or "a@b"), lower-cased; null when there is none. */
export function senderAddress(from: string | undefined): string | null {
  if (!from) return null;
  const angle = /<([^<>\s]+@[^<>\s]+)>/.exec(from);
  const bare = angle ? angle[1] : /([^\s<>"(),;:]+@[^\s<>"(),;:]+)/.exec(from)?.[1];
  return bare ? bare.toLowerCase() : null;
}

/** Armored keys from every application/pgp-keys part. */
export function attachedKeys(raw: Uint8Array): string[] {
  const { root, leaves } = splitMessage(raw);
  const found: string[] = [];
  const visit = (node: MimeNode) => {
    const body = node.body;
    if (body.kind === "multipart") body.parts.forEach((part) => visit(part.node));
    else if (body.kind === "message") visit(body.node);
    else {
      const fields = parseHeaderFields(node.header);
      const type = parseContentType(headerValue(fields, "content-type"));
      if (type.type !== "application" || type.subtype !== "pgp-keys") return;
      const bytes = leaves.get(body.hash)!;
      const encoding = (headerValue(fields, "content-transfer-encoding") ?? "").toLowerCase();
      const text = encoding === "base64" ? Buffer.from(bytes.toString("latin1"), "base64").toString("latin1") : bytes.toString("latin1");
      if (text.includes("-----BEGIN PGP PUBLIC KEY BLOCK-----")) found.push(text);
    }
  };
  visit(root);
  return found;
}
