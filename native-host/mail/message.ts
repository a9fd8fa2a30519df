// One message as the mail API hands it out: a snapshot of its local row plus
// lazy access to the stored MIME tree and leaf bodies.
import type { MimeNode } from "../../shared/documents";
import type { DocumentStore } from "../store/document-store";
import type { MailIndex, MessageRow } from "./mail-index";
import { contentIdFor, headerIdFor } from "./mail-index";
import { bodyChunks, joinChunks } from "./mime-split";

export class MissingPartError extends Error {
  constructor(id: string) {
    super(`stored part ${id} is missing (not yet synced or damaged)`);
    this.name = "MissingPartError";
  }
}

export class Message {
  readonly uid: number;
  readonly modseq: number;
  readonly flags: readonly string[];
  readonly internalDate: Date;
  readonly size: number;
  readonly messageId: string | null;
  readonly msgHash: string;
  private readonly mailboxId: string;
  private root: MimeNode | undefined;

  constructor(
    private readonly store: DocumentStore,
    private readonly index: MailIndex,
    row: MessageRow,
    /** The top-level header, when the caller read it with the row. */
    private topHeader?: Buffer,
  ) {
    this.mailboxId = row.mailbox_id;
    this.uid = row.uid;
    this.modseq = row.modseq;
    this.flags = JSON.parse(row.flags) as string[];
    this.internalDate = new Date(row.internal_date);
    this.size = row.size;
    this.messageId = row.message_id;
    this.msgHash = row.msg_hash;
  }

  /** The MIME tree: every entity's exact header bytes and body layout. */
  mime(): MimeNode {
    if (!this.root) {
      const header = this.store.get(headerIdFor(this.msgHash), "header");
      if (!header?.content) throw new MissingPartError(headerIdFor(this.msgHash));
      this.root = header.content.root;
    }
    return this.root;
  }

  /** The top-level header block, exactly as received (with its blank line):
   * BODY[HEADER]. Cheap: read from the local header table, not the MIME tree
   * (which it equals), so a header sync reads no header document. */
  headerBytes(): Buffer {
    this.topHeader ??= this.root
      ? Buffer.from(this.root.header, "latin1")
      : (this.index.topHeader(this.mailboxId, this.uid) ?? Buffer.from(this.mime().header, "latin1"));
    return this.topHeader;
  }

  /** One leaf body by its hash, still transfer-encoded. */
  leaf(hash: string): Uint8Array {
    const doc = this.store.get(contentIdFor(hash), "content");
    if (!doc?.content) throw new MissingPartError(contentIdFor(hash));
    return doc.content;
  }

  /** The exact bytes of an entity (the whole message by default), in chunks. */
  chunks(node: MimeNode = this.mime()): Generator<Uint8Array> {
    return joinChunks(node, (hash) => this.leaf(hash));
  }

  raw(node: MimeNode = this.mime()): Buffer {
    return Buffer.concat([...this.chunks(node)]);
  }

  /** The exact bytes of an entity's body, without its header block. */
  body(node: MimeNode): Buffer {
    return Buffer.concat([...bodyChunks(node, (hash) => this.leaf(hash))]);
  }
}
