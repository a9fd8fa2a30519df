// The full-text index behind SEARCH BODY and TEXT: an FTS5 table inside the
// encrypted database, one row per message content (msg_hash), shared by every
// mailbox holding that content. A store apply hook indexes a message when its
// first meta document arrives and forgets it when its header document is
// collected (MailIndex deletes it once no meta document points at it).
//
// The trigram tokenizer answers substring queries, which is IMAP's semantics.
// The index holds the case-folded text (foldCase), and queries are folded the
// same way, so the trigram match is exact and equals the linear scan's answer
// (SQLite's own folding differs from it, e.g. for final sigma and "ß").
// Needles shorter than three characters have no trigram: they are answered
// with a scan of the stored text instead.
import type { MetaContent } from "../../shared/documents";
import type { DocChange, DocumentStore } from "../store/document-store";
import { leafSizes, readLeaf } from "./content-chunks";
import { headerIdFor } from "./mail-index";
import { type SearchField, type SearchableText, foldCase, searchableText } from "./searchable-text";

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS search_messages (
    id INTEGER PRIMARY KEY,
    msg_hash TEXT NOT NULL UNIQUE,
    complete INTEGER NOT NULL
  );
  CREATE VIRTUAL TABLE IF NOT EXISTS search_text USING fts5(header, body, tokenize = 'trigram case_sensitive 1');
`;

/** The trigram tokenizer indexes runs of three characters; shorter needles match nothing through it. */
const TRIGRAM = 3;

const indexes = new WeakMap<DocumentStore, SearchIndex>();

export class SearchIndex {
  private readonly q;

  /** The index of a store, created (and its hook registered) on first use. */
  static of(store: DocumentStore): SearchIndex {
    let index = indexes.get(store);
    if (!index) {
      index = new SearchIndex(store);
      indexes.set(store, index);
    }
    return index;
  }

  private constructor(private readonly store: DocumentStore) {
    const sql = store.sql;
    sql.exec(SCHEMA);
    this.q = {
      entry: sql.prepare<[string], { id: number; complete: number }>("SELECT id, complete FROM search_messages WHERE msg_hash = ?"),
      insertEntry: sql.prepare<[string, number], { id: number }>(
        "INSERT INTO search_messages (msg_hash, complete) VALUES (?, ?) RETURNING id",
      ),
      markComplete: sql.prepare("UPDATE search_messages SET complete = ? WHERE id = ?"),
      deleteEntry: sql.prepare("DELETE FROM search_messages WHERE id = ?"),
      insertText: sql.prepare("INSERT INTO search_text (rowid, header, body) VALUES (?, ?, ?)"),
      deleteText: sql.prepare("DELETE FROM search_text WHERE rowid = ?"),
      clear: sql.prepare("DELETE FROM search_messages"),
      clearText: sql.prepare("DELETE FROM search_text"),
      allHashes: sql.prepare<[], { msg_hash: string }>("SELECT DISTINCT msg_hash FROM mail_messages"),
      // Messages the hook could not index fully: added before the index existed,
      // or synced before their parts.
      unindexed: sql.prepare<[string], { msg_hash: string }>(
        `SELECT DISTINCT m.msg_hash FROM mail_messages m LEFT JOIN search_messages s ON s.msg_hash = m.msg_hash
         WHERE m.mailbox_id = ? AND (s.id IS NULL OR s.complete = 0)`,
      ),
      // The matches are collected once (MATERIALIZED) and joined as a table,
      // which SQLite indexes on the fly. Written as "s.id IN (SELECT ... MATCH ?)",
      // SQLite tested each message against an unindexed list of the matches:
      // quadratic, 20 seconds for a common word in 20,000 messages.
      matchBody: sql.prepare<[phrase: string, mailboxId: string], { uid: number }>(
        `WITH hits AS MATERIALIZED (SELECT rowid AS id FROM search_text WHERE body MATCH ?)
         SELECT m.uid FROM mail_messages m JOIN search_messages s ON s.msg_hash = m.msg_hash JOIN hits ON hits.id = s.id
         WHERE m.mailbox_id = ?`,
      ),
      matchText: sql.prepare<[phrase: string, mailboxId: string], { uid: number }>(
        `WITH hits AS MATERIALIZED (SELECT rowid AS id FROM search_text WHERE search_text MATCH ?)
         SELECT m.uid FROM mail_messages m JOIN search_messages s ON s.msg_hash = m.msg_hash JOIN hits ON hits.id = s.id
         WHERE m.mailbox_id = ?`,
      ),
      scanBody: sql.prepare<[string, string], { uid: number }>(
        `SELECT m.uid FROM mail_messages m JOIN search_messages s ON s.msg_hash = m.msg_hash
         JOIN search_text t ON t.rowid = s.id WHERE m.mailbox_id = ? AND instr(t.body, ?) > 0`,
      ),
      scanText: sql.prepare<[string, string, string], { uid: number }>(
        `SELECT m.uid FROM mail_messages m JOIN search_messages s ON s.msg_hash = m.msg_hash
         JOIN search_text t ON t.rowid = s.id WHERE m.mailbox_id = ? AND (instr(t.body, ?) > 0 OR instr(t.header, ?) > 0)`,
      ),
    };
    store.onApply((change) => this.apply(change));
  }

  /** UIDs in a mailbox whose text contains `needle`, ignoring case. */
  search(mailboxId: string, field: SearchField, needle: string): Set<number> {
    this.catchUp(mailboxId);
    const folded = foldCase(needle);
    let rows: { uid: number }[];
    if ([...folded].length < TRIGRAM) {
      rows = field === "body" ? this.q.scanBody.all(mailboxId, folded) : this.q.scanText.all(mailboxId, folded, folded);
    } else {
      const phrase = `"${folded.replace(/"/g, '""')}"`;
      rows = (field === "body" ? this.q.matchBody : this.q.matchText).all(phrase, mailboxId);
    }
    return new Set(rows.map((row) => row.uid));
  }

  /** Drops the whole index and indexes every stored message again. */
  rebuild(): void {
    this.store.transaction(() => {
      this.q.clear.run();
      this.q.clearText.run();
      for (const { msg_hash } of this.q.allHashes.all()) this.index(msg_hash);
    });
  }

  private apply({ doc, previous }: DocChange): void {
    if (doc.type === "meta" && doc.content && !previous) {
      const { msgHash } = doc.content as MetaContent;
      if (this.q.entry.get(msgHash)?.complete !== 1) this.index(msgHash);
    } else if (doc.type === "header" && !doc.content && previous) {
      this.forget(doc.id.slice(headerIdFor("").length));
    }
  }

  private catchUp(mailboxId: string): void {
    const missing = this.q.unindexed.all(mailboxId);
    if (missing.length > 0) this.store.transaction(() => missing.forEach(({ msg_hash }) => this.index(msg_hash)));
  }

  /** (Re)writes the entry of one message content from the parts stored so far. */
  private index(msgHash: string): void {
    const text = this.decode(msgHash);
    const existing = this.q.entry.get(msgHash);
    let id: number;
    if (existing) {
      id = existing.id;
      this.q.deleteText.run(id);
      this.q.markComplete.run(text.complete ? 1 : 0, id);
    } else {
      id = this.q.insertEntry.get(msgHash, text.complete ? 1 : 0)!.id;
    }
    this.q.insertText.run(id, foldCase(text.header), foldCase(text.body));
  }

  private decode(msgHash: string): SearchableText {
    const header = this.store.get(headerIdFor(msgHash), "header")?.content;
    if (!header) return { header: "", body: "", complete: false };
    const sizes = leafSizes(header.root);
    return searchableText(header.root, (hash) => readLeaf(this.store, hash, sizes.get(hash) ?? 0));
  }

  private forget(msgHash: string): void {
    const existing = this.q.entry.get(msgHash);
    if (!existing) return;
    this.q.deleteText.run(existing.id);
    this.q.deleteEntry.run(existing.id);
  }
}
