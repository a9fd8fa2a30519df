// The account of the public mail API: the mailbox list (create, rename,
// delete, subscribe) over mailbox documents. IMAP, SMTP, incoming and sync
// all reach messages through here; none of them touches SQL.
import { EventEmitter } from "node:events";
import { randomBytes, randomInt } from "node:crypto";
import type { MailboxContent } from "../../shared/documents";
import type { DocumentStore } from "../store/document-store";
import { MailIndex } from "./mail-index";
import { Mailbox } from "./mailbox";
import { SearchIndex } from "./search-index";

export const HIERARCHY_DELIMITER = "/";

/** The default mailboxes of docs/DESIGN.md, with their RFC 6154 special-use attributes. */
export const DEFAULT_MAILBOXES: readonly { name: string; specialUse: string | null }[] = [
  { name: "INBOX", specialUse: null },
  { name: "Sent", specialUse: "\\Sent" },
  { name: "Drafts", specialUse: "\\Drafts" },
  { name: "Trash", specialUse: "\\Trash" },
  { name: "Archive", specialUse: "\\Archive" },
  { name: "Junk", specialUse: "\\Junk" },
];

export type MailboxInfo = MailboxContent & { id: string };

/** The document of a subscription to a name without a mailbox. */
export const subscriptionIdFor = (name: string) => `S-${name}`;

export class MailboxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MailboxError";
  }
}

export type AccountEvents = { mailboxes: [] };

export class Account {
  readonly events = new EventEmitter<AccountEvents>();
  private readonly index: MailIndex;
  private readonly views = new Map<string, Mailbox>();
  /** list(), kept between changes: every SELECT, STATUS and LIST looks mailboxes up by name. */
  private listCache: MailboxInfo[] | null = null;

  private constructor(readonly store: DocumentStore) {
    this.index = new MailIndex(store);
    SearchIndex.of(store);
    store.onApply(({ doc }) => {
      if (doc.type !== "mailbox") return;
      this.listCache = null;
      store.afterCommit(() => this.events.emit("mailboxes"));
    });
  }

  /** Opens the mail model on a store, creating the default mailboxes the
   * first time unless told not to: a second device first pulls the account's
   * mailboxes, so that it keeps their UIDVALIDITY instead of making its own. */
  static open(store: DocumentStore, options: { createDefaults?: boolean } = {}): Account {
    const account = new Account(store);
    if (options.createDefaults ?? true) account.ensureDefaultMailboxes();
    return account;
  }

  /** Creates the default mailboxes that do not exist yet (deterministic ids,
   * so two devices that both create one make the same document). */
  ensureDefaultMailboxes(): void {
    this.store.transaction(() => {
      for (const { name, specialUse } of DEFAULT_MAILBOXES) {
        const id = `box-${name.toLowerCase()}`;
        if (!this.store.has(id) && !this.find(name)) this.putMailbox(id, name, specialUse, true);
      }
    });
  }

  list(): MailboxInfo[] {
    if (this.listCache) return [...this.listCache];
    const list = this.store
      .allOfType("mailbox")
      .map((doc) => Object.freeze({ id: doc.id, ...doc.content! }))
      .sort((a, b) => (a.name === "INBOX" ? -1 : b.name === "INBOX" ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // Kept only outside a transaction: inside one, it could still roll back.
    if (this.store.currentTransaction() === 0) this.listCache = list;
    return [...list];
  }

  /** The mailbox of that name (INBOX in any case), or undefined. */
  mailbox(name: string): Mailbox | undefined {
    const info = this.find(normalizeName(name));
    return info ? this.view(info.id) : undefined;
  }

  /** Like mailbox(), but a missing mailbox is an error that names it. */
  requireMailbox(name: string): Mailbox {
    const mailbox = this.mailbox(name);
    if (!mailbox) throw new MailboxError(`no mailbox named ${name}`);
    return mailbox;
  }

  /** Creates a mailbox, unsubscribed (as Dovecot: the client subscribes if
   * it wants to) unless its name kept a subscription from before. */
  createMailbox(name: string, options: { specialUse?: string | null } = {}): Mailbox {
    const normalized = normalizeName(name);
    validateName(normalized);
    return this.store.transaction(() => {
      if (this.find(normalized)) throw new MailboxError(`mailbox ${normalized} already exists`);
      const id = `box-${randomBytes(8).toString("hex")}`;
      const kept = this.store.has(subscriptionIdFor(normalized));
      if (kept) this.store.delete(subscriptionIdFor(normalized));
      this.putMailbox(id, normalized, options.specialUse ?? null, kept);
      return this.view(id);
    });
  }

  /** Deletes a mailbox and its messages. Inferior mailboxes ("a/b" under "a")
   * stay, and so does its subscription: "A server MUST NOT unilaterally
   * remove an existing mailbox name from the subscription list even if a
   * mailbox by that name no longer exists" (RFC 3501 6.3.6). */
  deleteMailbox(name: string): void {
    const normalized = normalizeName(name);
    if (normalized === "INBOX") throw new MailboxError("INBOX cannot be deleted");
    const mailbox = this.requireMailbox(normalized);
    const subscribed = this.find(normalized)!.subscribed;
    this.store.transaction(() => {
      for (const uid of mailbox.uids()) mailbox.remove(uid);
      this.store.delete(mailbox.id);
      if (subscribed) this.store.put("subscription", subscriptionIdFor(normalized), { name: normalized });
    });
    this.views.delete(mailbox.id);
  }

  /** Renames a mailbox and its inferiors. Renaming INBOX moves its messages
   * into the new mailbox and leaves INBOX empty (RFC 3501 6.3.5). */
  renameMailbox(from: string, to: string): void {
    const source = normalizeName(from);
    const target = normalizeName(to);
    validateName(target);
    this.store.transaction(() => {
      const mailbox = this.requireMailbox(source);
      if (this.find(target)) throw new MailboxError(`mailbox ${target} already exists`);
      if (source === "INBOX") {
        const created = this.createMailbox(target);
        mailbox.move(mailbox.uids(), created);
        return;
      }
      const prefix = source + HIERARCHY_DELIMITER;
      for (const info of this.list()) {
        if (info.name === source || info.name.startsWith(prefix)) {
          const renamed = target + info.name.slice(source.length);
          const { id, ...content } = info;
          this.store.put("mailbox", id, { ...content, name: renamed, clock: this.store.clock.tick() });
        }
      }
    });
  }

  /** Subscribes or unsubscribes a name, whether or not a mailbox has it
   * (RFC 3501 6.3.6 lets a server accept either). */
  setSubscribed(name: string, subscribed: boolean): void {
    const normalized = normalizeName(name);
    const info = this.find(normalized);
    if (!info) {
      validateName(normalized);
      const id = subscriptionIdFor(normalized);
      if (subscribed && !this.store.has(id)) this.store.put("subscription", id, { name: normalized });
      if (!subscribed && this.store.has(id)) this.store.delete(id);
      return;
    }
    const { id, ...content } = info;
    if (content.subscribed !== subscribed) this.store.put("mailbox", id, { ...content, subscribed, clock: this.store.clock.tick() });
  }

  /** Every subscribed name, with or without a mailbox. */
  subscriptions(): Set<string> {
    const names = new Set(this.list().filter((info) => info.subscribed).map((info) => info.name));
    for (const doc of this.store.allOfType("subscription")) names.add(doc.content!.name);
    return names;
  }

  private find(name: string): MailboxInfo | undefined {
    return this.list().find((info) => info.name === name);
  }

  private view(id: string): Mailbox {
    let mailbox = this.views.get(id);
    if (!mailbox) {
      mailbox = new Mailbox(id, this.store, this.index, () => this.list().find((info) => info.id === id));
      this.views.set(id, mailbox);
    }
    return mailbox;
  }

  private putMailbox(id: string, name: string, specialUse: string | null, subscribed: boolean): void {
    this.store.put("mailbox", id, {
      name,
      uidValidity: randomInt(1, 2 ** 32),
      subscribed,
      specialUse,
      created: Date.now(),
      clock: this.store.clock.tick(),
    });
  }
}

/** INBOX is case-insensitive (RFC 3501 5.1), also as the first level of a path. */
export function normalizeName(name: string): string {
  const first = name.split(HIERARCHY_DELIMITER, 1)[0]!;
  return first.toUpperCase() === "INBOX" ? "INBOX" + name.slice(first.length) : name;
}

function validateName(name: string): void {
  if (name.length === 0 || name.length > 1000) throw new MailboxError("a mailbox name must have 1 to 1000 characters");
  if (/[\x00-\x1f\x7f*%]/.test(name)) throw new MailboxError(`mailbox name ${JSON.stringify(name)} has a forbidden character`);
  if (name.split(HIERARCHY_DELIMITER).some((level) => level === "")) {
    throw new MailboxError(`mailbox name ${JSON.stringify(name)} has an empty level`);
  }
}
