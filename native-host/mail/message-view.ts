// A message as a reader shows it (the control API's mail methods and the web
// reader): decoded header fields, the text and HTML bodies decoded from their
// transfer encoding and charset, attachments listed by IMAP part number, and
// the encryption and signature state incoming mail stamped on it.
import type { MimeNode } from "../../shared/documents";
import type { Message } from "./message";
import { type HeaderField, headerValue, parseContentType, parseHeaderFields } from "./mime-header";
import { decodeCharset, decodeHeaderValue, transferDecode } from "./searchable-text";

/** What incoming mail found (X-Leap-* fields, LEAP-REFERENCE.md section 3);
 * all null/false on mail that never came through incoming (sent, appended). */
export type SecurityState = {
  encrypted: boolean;
  signature: "valid" | "invalid" | "unverified" | null;
  /** The fingerprint of the key that made a valid signature. */
  signer: string | null;
  /** Why the message could not be opened, when it could not. */
  error: string | null;
};

export type MessageSummary = {
  uid: number;
  flags: string[];
  /** The Date field's time (ms), or the time it was stored when that is missing or unreadable. */
  date: number;
  from: string;
  to: string;
  subject: string;
  size: number;
  security: SecurityState;
};

export type AttachmentInfo = { part: string; filename: string | null; contentType: string; size: number };

export type MessageView = MessageSummary & {
  cc: string;
  replyTo: string;
  messageId: string | null;
  references: string;
  text: string | null;
  html: string | null;
  attachments: AttachmentInfo[];
};

export type MessagePart = { contentType: string; filename: string | null; data: Buffer };

export class NoSuchPartError extends Error {
  constructor(uid: number, part: string) {
    super(`message ${uid} has no part ${part}`);
    this.name = "NoSuchPartError";
  }
}

function field(fields: HeaderField[], name: string): string {
  const value = headerValue(fields, name);
  return value === undefined ? "" : decodeHeaderValue(value);
}

function securityState(fields: HeaderField[]): SecurityState {
  const signature = headerValue(fields, "x-leap-signature")?.trim().toLowerCase() ?? null;
  const signer = signature?.startsWith("valid") ? (/pubkey="?([0-9a-f]+)/i.exec(headerValue(fields, "x-leap-signature")!)?.[1] ?? null) : null;
  return {
    encrypted: headerValue(fields, "x-leap-encryption")?.trim().toLowerCase() === "decrypted",
    signature: signature === null ? null : signature.startsWith("valid") ? "valid" : signature.startsWith("invalid") ? "invalid" : "unverified",
    signer,
    error: headerValue(fields, "x-leap-error") ?? null,
  };
}

/** The fields a list view needs, from the sync header (no body is read). */
export function summarize(message: Message): MessageSummary {
  const fields = parseHeaderFields(message.syncHeader());
  const dated = Date.parse(headerValue(fields, "date") ?? "");
  return {
    uid: message.uid,
    flags: [...message.flags],
    date: Number.isNaN(dated) ? message.internalDate.getTime() : dated,
    from: field(fields, "from"),
    to: field(fields, "to"),
    subject: field(fields, "subject"),
    size: message.size,
    security: securityState(fields),
  };
}

type Leaf = { part: string; node: MimeNode };

/** Every entity a reader may show or offer, with its IMAP part number;
 * attached messages are one attachment each, not opened. */
function leaves(node: MimeNode, part: string, out: Leaf[] = []): Leaf[] {
  if (node.body.kind === "multipart") {
    node.body.parts.forEach((child, i) => leaves(child.node, part === "" ? `${i + 1}` : `${part}.${i + 1}`, out));
  } else {
    out.push({ part: part === "" ? "1" : part, node });
  }
  return out;
}

function describe(node: MimeNode): { fields: HeaderField[]; contentType: string; filename: string | null; attachment: boolean } {
  const fields = parseHeaderFields(node.header);
  const type = parseContentType(headerValue(fields, "content-type"));
  const disposition = parseContentType(headerValue(fields, "content-disposition"));
  const rawName = disposition.params.filename ?? type.params.name;
  return {
    fields,
    contentType: `${type.type}/${type.subtype}`,
    filename: rawName === undefined ? null : decodeHeaderValue(rawName),
    attachment: disposition.type === "attachment",
  };
}

function decodedText(message: Message, node: MimeNode, fields: HeaderField[]): string {
  const charset = parseContentType(headerValue(fields, "content-type")).params.charset;
  return decodeCharset(transferDecode(message.body(node), fields), charset);
}

/** The whole message for a reader: the first inline text/plain and
 * text/html bodies, every other entity as an attachment. */
export function viewMessage(message: Message): MessageView {
  const fields = parseHeaderFields(message.headerText());
  const view: MessageView = {
    ...summarize(message),
    cc: field(fields, "cc"),
    replyTo: field(fields, "reply-to"),
    messageId: headerValue(fields, "message-id")?.trim() ?? null,
    references: [headerValue(fields, "references"), headerValue(fields, "in-reply-to")].filter(Boolean).join(" "),
    text: null,
    html: null,
    attachments: [],
  };
  for (const { part, node } of leaves(message.mime(), "")) {
    const { fields: partFields, contentType, filename, attachment } = describe(node);
    const size = node.body.kind === "leaf" ? node.body.size : message.body(node).length;
    if (!attachment && contentType === "text/plain" && view.text === null) view.text = decodedText(message, node, partFields);
    else if (!attachment && contentType === "text/html" && view.html === null) view.html = decodedText(message, node, partFields);
    else view.attachments.push({ part, filename, contentType, size });
  }
  return view;
}

/** One entity's decoded bytes, by IMAP part number ("1", "2.1"). */
export function messagePart(message: Message, part: string): MessagePart {
  const found = leaves(message.mime(), "").find((leaf) => leaf.part === part);
  if (!found) throw new NoSuchPartError(message.uid, part);
  const { fields, contentType, filename } = describe(found.node);
  return { contentType, filename, data: Buffer.from(transferDecode(message.body(found.node), fields)) };
}
