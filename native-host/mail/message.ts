// One message as the mail API hands it out: a snapshot of its local row plus
// lazy access to the stored MIME tree and leaf bodies.
import type { MimeNode } from "../../shared/documents";
import type { DocumentStore } from "../store/document-store";
import { leafSizes, readLeaf } from "./content-chunks";
import type { MailIndex, MessageIdentity } from "./mail-index";
import { contentIdFor, headerIdFor } from "./mail-index";
import { bodyChunks, joinChunks } from "./mime-split";
import { syncHeader } from "./sync-header";

export class MissingPartError extends Error {
  constructor(id: string) {
    super(`stored part ${id} is missing (not yet synced or damaged)`);
    this.name = "MissingPartError";
  }
}

/** The columns of mail_messages a Message is made from, in the order of
 * MessageColumns: what a FETCH of flags and headers needs, read as arrays
 * (the driver's raw mode); building an object per row in the driver, or
 * reading the long hash and Message-ID strings too, cost as much again as
 * the rest of reading a header sync's rows. The rest is read when asked for. */
export const MESSAGE_COLUMNS = "uid, flags, internal_date, size, modseq";
export type MessageColumns = [uid: number, flags: string, internalDate: number, size: number, modseq: number];

/** Flag lists parsed from their JSON, shared: a mailbox holds few distinct
 * ones, and parsing one per message was a tenth of a header sync. Frozen, as
 * every message with that list gets the same array. */
const parsedFlags = new Map<string, readonly string[]>();
const PARSED_FLAGS_MAX = 1000;

function flagsFrom(json: string): readonly string[] {
  let flags = parsedFlags.get(json);
  if (!flags) {
    if (parsedFlags.size >= PARSED_FLAGS_MAX) parsedFlags.clear();
    flags = Object.freeze(JSON.parse(json) as string[]);
    parsedFlags.set(json, flags);
  }
  return flags;
}

export class Message {
  readonly uid: number;
  readonly modseq: number;
  readonly flags: readonly string[];
  readonly size: number;
  private readonly internalTime: number;
  private identity: MessageIdentity | undefined;
  private root: MimeNode | undefined;
  private leafSize: Map<string, number> | undefined;

  constructor(
    private readonly store: DocumentStore,
    private readonly index: MailIndex,
    private readonly mailboxId: string,
    [uid, flags, internalDate, size, modseq]: MessageColumns,
    /** The sync header as latin1 text, when the caller read it with the row. */
    private syncHeaderText?: string,
  ) {
    this.uid = uid;
    this.modseq = modseq;
    this.flags = flagsFrom(flags);
    this.internalTime = internalDate;
    this.size = size;
  }

  get internalDate(): Date {
    return new Date(this.internalTime);
  }

  private identify(): MessageIdentity {
    this.identity ??= this.index.identity(this.mailboxId, this.uid);
    if (!this.identity) throw new Error(`message ${this.uid} is no longer in its mailbox (expunged since it was read)`);
    return this.identity;
  }

  /** The id of the message's meta document (its flags document is flagsIdFor of it). */
  get metaId(): string {
    return this.identify().metaId;
  }

  /** The SHA-256 of the message's bytes (its content address). */
  get msgHash(): string {
    return this.identify().msgHash;
  }

  get messageId(): string | null {
    return this.identify().messageId;
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

  /** The top-level header block, exactly as received (with its blank line),
   * as latin1 text (one character per byte): BODY[HEADER]. */
  headerText(): string {
    return this.mime().header;
  }

  /** The top-level header block without its trace fields (sync-header.ts),
   * as latin1 text: what a header sync selects its fields from. Cheap: read
   * from the local header table, so a header sync reads no header document. */
  syncHeader(): string {
    this.syncHeaderText ??= this.index.syncHeader(this.mailboxId, this.uid) ?? syncHeader(this.mime().header);
    return this.syncHeaderText;
  }

  /** One leaf body by its hash, still transfer-encoded. */
  leaf(hash: string): Uint8Array {
    this.leafSize ??= leafSizes(this.mime());
    const bytes = readLeaf(this.store, hash, this.leafSize.get(hash) ?? 0);
    if (!bytes) throw new MissingPartError(contentIdFor(hash));
    return bytes;
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
