// The mail API's change stream for out-of-process users (the web reader,
// `subscribe` on the control socket): every mailbox's new / changed /
// expunged listeners, and changes of the mailbox list, as control events.
import type { ControlEvent } from "../../shared/control-api";
import type { Account } from "../mail/account";
import type { Mailbox } from "../mail/mailbox";

type MailChanged = Extract<ControlEvent, { event: "mail-changed" }>;

/** Calls `emit` for each change in any mailbox of `mail`, mailboxes made later included. */
export function watchMailChanges(address: string, mail: Account, emit: (event: MailChanged) => void): void {
  const watched = new Set<string>();
  // A mailbox deleted since has no name any more; its expunges need none.
  const nameOf = (mailbox: Mailbox) => mail.list().find((info) => info.id === mailbox.id)?.name ?? null;
  const watchAll = () => {
    for (const info of mail.list()) {
      if (watched.has(info.id)) continue;
      watched.add(info.id);
      const mailbox = mail.mailbox(info.name)!;
      mailbox.events.on("new", (uids) => emit({ event: "mail-changed", address, mailbox: nameOf(mailbox), kind: "new", uids }));
      mailbox.events.on("changed", (changes) =>
        emit({ event: "mail-changed", address, mailbox: nameOf(mailbox), kind: "changed", uids: changes.map((change) => change.uid) }),
      );
      mailbox.events.on("expunged", (uids) => emit({ event: "mail-changed", address, mailbox: nameOf(mailbox), kind: "expunged", uids }));
    }
  };
  watchAll();
  mail.events.on("mailboxes", () => {
    watchAll();
    emit({ event: "mail-changed", address, mailbox: null, kind: "mailboxes", uids: [] });
  });
}
