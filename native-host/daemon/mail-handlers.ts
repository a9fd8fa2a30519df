// The control API's mail methods (shared/control-api.ts): the public mail
// API (native-host/mail) out of process, for bitmaskctl and the web reader.
// Like IMAP, they reach messages only through Account and Mailbox; sending
// takes the SMTP gateway's path (smtp/submission.ts).
import MailComposer from "nodemailer/lib/mail-composer";
import type { ComposedMessage, ControlResult, MailboxListing } from "../../shared/control-api";
import { MAX_MAIL_PART_BYTES, MAX_MAIL_SEARCH_RESULTS } from "../../shared/control-limits";
import { ControlFailure, type ControlHandlers } from "../control/errors";
import { type Account, MailboxError } from "../mail/account";
import type { Mailbox } from "../mail/mailbox";
import type { Message } from "../mail/message";
import { NoSuchPartError, messagePart, summarize, viewMessage } from "../mail/message-view";
import { SmtpReplyError } from "../smtp/smtp-reply";
import { lookUpRecipient, submitMessage } from "../smtp/submission";
import type { Daemon, UnlockedAccount } from "./daemon";

type MailHandlers = Pick<
  ControlHandlers,
  | "mail.mailboxes"
  | "mail.list"
  | "mail.get"
  | "mail.part"
  | "mail.search"
  | "mail.flags"
  | "mail.copy"
  | "mail.move"
  | "mail.delete"
  | "mailbox.create"
  | "mailbox.rename"
  | "mailbox.delete"
  | "mail.send"
>;

function mailboxOf(mail: Account, name: string): Mailbox {
  const mailbox = mail.mailbox(name);
  if (!mailbox) throw new ControlFailure("not-found", `no mailbox named ${name}`);
  return mailbox;
}

function messageOf(mailbox: Mailbox, uid: number): Message {
  const message = mailbox.get(uid);
  if (!message) throw new ControlFailure("not-found", `no message with UID ${uid} in ${mailbox.name} (UIDs there run up to ${mailbox.uidNext - 1})`);
  return message;
}

/** All of `uids` must exist: a request naming a missing one changes nothing. */
function requireAll(mailbox: Mailbox, uids: readonly number[]): number[] {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const present = new Set(mailbox.messages(sorted).map((message) => message.uid));
  const missing = sorted.filter((uid) => !present.has(uid));
  if (missing.length > 0) throw new ControlFailure("not-found", `no message with UID ${missing.join(", ")} in ${mailbox.name}`);
  return sorted;
}

function listing(mailbox: Mailbox, specialUse: string | null): MailboxListing {
  const { messages, unseen, size } = mailbox.counts();
  return { name: mailbox.name, specialUse, messages, unseen, size };
}

function listingOf(mail: Account, name: string): MailboxListing {
  const mailbox = mailboxOf(mail, name);
  return listing(mailbox, mail.list().find((info) => info.id === mailbox.id)?.specialUse ?? null);
}

/** Mailbox errors (bad or taken names, INBOX not deletable) keep their message. */
function mailboxChange<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof MailboxError) throw new ControlFailure("failed", error.message);
    throw error;
  }
}

function compose(from: string, message: ComposedMessage, original: Message | undefined): Promise<Buffer> {
  const answered = original ? viewMessage(original) : undefined;
  return new MailComposer({
    from,
    to: message.to,
    cc: message.cc,
    subject: message.subject,
    text: message.text,
    inReplyTo: answered?.messageId ?? undefined,
    references: answered ? `${answered.references} ${answered.messageId ?? ""}`.trim() || undefined : undefined,
  })
    .compile()
    .build();
}

async function send(account: UnlockedAccount, message: ComposedMessage): Promise<ControlResult<"mail.send">> {
  const sender = account.sender;
  if (!sender) throw new ControlFailure("unavailable", "sending is not running in this daemon");
  const repliedBox = message.inReplyTo ? mailboxOf(account.mail, message.inReplyTo.mailbox) : undefined;
  const original = repliedBox && message.inReplyTo ? messageOf(repliedBox, message.inReplyTo.uid) : undefined;
  const raw = await compose(account.address, message, original);
  try {
    const recipients = await Promise.all([...message.to, ...(message.cc ?? [])].map((address) => lookUpRecipient(sender, address)));
    const { outcome, encrypted, signedOnly } = await submitMessage(sender, raw, recipients);
    const sent = account.mail.list().find((box) => box.specialUse === "\\Sent");
    const sentUid = sent ? (account.mail.mailbox(sent.name)?.add(raw, { flags: ["\\Seen"] }).uid ?? null) : null;
    if (repliedBox && original) repliedBox.updateFlags([original.uid], "add", ["\\Answered"]);
    return { reply: outcome.reply, encrypted, signedOnly, sentUid };
  } catch (error) {
    if (error instanceof SmtpReplyError) throw new ControlFailure("failed", `not sent: ${error.reply}`);
    throw error;
  }
}

export function mailHandlers(daemon: Daemon): MailHandlers {
  const mailOf = (address: string | undefined) => daemon.account(address).mail;
  return {
    "mail.mailboxes": ({ address }) => {
      const account = daemon.account(address);
      const mailboxes = account.mail.list().map((info) => listingOf(account.mail, info.name));
      return { address: account.address, mailboxes };
    },
    "mail.list": ({ address, mailbox: name, page, pageSize }) => {
      const mailbox = mailboxOf(mailOf(address), name);
      const uids = mailbox.uids();
      // Newest first: page 0 is the end of the UID list.
      const end = uids.length - page * pageSize;
      const pageUids = end <= 0 ? [] : uids.slice(Math.max(0, end - pageSize), end);
      const messages = mailbox.messages(pageUids, { headers: true }).map(summarize).reverse();
      return { mailbox: mailbox.name, total: uids.length, page, pageSize, messages };
    },
    "mail.get": ({ address, mailbox: name, uid }) => {
      const mailbox = mailboxOf(mailOf(address), name);
      return { mailbox: mailbox.name, ...viewMessage(messageOf(mailbox, uid)) };
    },
    "mail.part": ({ address, mailbox: name, uid, part }) => {
      const message = messageOf(mailboxOf(mailOf(address), name), uid);
      try {
        const { contentType, filename, data } = messagePart(message, part);
        if (data.length > MAX_MAIL_PART_BYTES) {
          throw new ControlFailure("too-large", `part ${part} has ${data.length} bytes, more than the ${MAX_MAIL_PART_BYTES} the control API returns: fetch it over IMAP`);
        }
        return { contentType, filename, base64: data.toString("base64") };
      } catch (error) {
        if (error instanceof NoSuchPartError) throw new ControlFailure("not-found", error.message);
        throw error;
      }
    },
    "mail.search": ({ address, mailbox: name, query }) => {
      const mailbox = mailboxOf(mailOf(address), name);
      // Every word, anywhere in the header or text (as IMAP SEARCH TEXT w1 TEXT w2).
      const perWord = query.split(/\s+/).map((word) => mailbox.searchText("text", word));
      const found = [...perWord[0]!].filter((uid) => perWord.every((uids) => uids.has(uid))).sort((a, b) => b - a);
      const shown = found.slice(0, MAX_MAIL_SEARCH_RESULTS).sort((a, b) => a - b);
      const messages = mailbox.messages(shown, { headers: true }).map(summarize).reverse();
      return { mailbox: mailbox.name, total: found.length, messages };
    },
    "mail.flags": ({ address, mailbox: name, uids, mode, flags }) => {
      const mailbox = mailboxOf(mailOf(address), name);
      const wanted = requireAll(mailbox, uids);
      try {
        mailbox.updateFlags(wanted, mode, flags);
      } catch (error) {
        throw new ControlFailure("bad-request", (error as Error).message);
      }
      return mailbox.messages(wanted).map((message) => ({ uid: message.uid, flags: [...message.flags] }));
    },
    "mail.copy": ({ address, mailbox: name, uids, target }) => {
      const mail = mailOf(address);
      const mailbox = mailboxOf(mail, name);
      return mailbox.copy(requireAll(mailbox, uids), mailboxOf(mail, target));
    },
    "mail.move": ({ address, mailbox: name, uids, target }) => {
      const mail = mailOf(address);
      const mailbox = mailboxOf(mail, name);
      const into = mailboxOf(mail, target);
      if (into.id === mailbox.id) throw new ControlFailure("bad-request", `the messages are in ${mailbox.name} already`);
      return mailbox.move(requireAll(mailbox, uids), into);
    },
    "mail.delete": ({ address, mailbox: name, uids }) => {
      const account = daemon.account(address);
      const mailbox = mailboxOf(account.mail, name);
      const deleted = requireAll(mailbox, uids);
      account.store.transaction(() => {
        for (const uid of deleted) mailbox.remove(uid);
      });
      return { deleted };
    },
    "mailbox.create": ({ address, mailbox: name }) => {
      const mail = mailOf(address);
      return listing(mailboxChange(() => mail.createMailbox(name)), null);
    },
    "mailbox.rename": ({ address, mailbox: name, to }) => {
      const mail = mailOf(address);
      mailboxOf(mail, name);
      mailboxChange(() => mail.renameMailbox(name, to));
      return listingOf(mail, to);
    },
    "mailbox.delete": ({ address, mailbox: name }) => {
      const mail = mailOf(address);
      const { name: deleted } = mailboxOf(mail, name);
      mailboxChange(() => mail.deleteMailbox(deleted));
      return { deleted };
    },
    "mail.send": ({ address, message }) => send(daemon.account(address), message),
  };
}
