// Every add and copy is a message of its own (RFC 3501 6.3.11: APPEND
// "appends the literal argument as a new message to the end of the specified
// destination mailbox"; RFC 4315: each gets its own UID), while the header
// and content documents of identical bytes stay shared. Stores written when
// meta ids were content addressed (`M-{mailbox}-{msgHash}`) keep their
// messages, their UIDs and their flags.
import { afterEach, describe, expect, it } from "vitest";
import { Account } from "../../native-host/mail/account";
import { contentIdFor, flagsIdFor, headerIdFor } from "../../native-host/mail/mail-index";
import { splitMessage } from "../../native-host/mail/mime-split";
import { DocumentStore } from "../../native-host/store/document-store";
import { messageWithAttachment, plainMessage } from "../helpers/messages";
import { openTempAccount } from "../helpers/temp-store";

let close = () => {};
afterEach(() => close());

async function setup() {
  const temp = await openTempAccount();
  close = temp.close;
  return temp;
}

const count = (store: DocumentStore, type: string) =>
  (store.sql.prepare("SELECT count(*) AS n FROM docs WHERE type = ? AND deleted = 0").get(type) as { n: number }).n;

describe("message ids", () => {
  it("adds the same bytes twice as two messages that share their parts", async () => {
    const { account, store } = await setup();
    const inbox = account.requireMailbox("INBOX");
    const raw = messageWithAttachment(1, Buffer.from("attached bytes"));
    const first = inbox.add(raw, { flags: ["\\Seen"] });
    const second = inbox.add(raw);
    expect([first, second]).toEqual([
      { uid: 1, existed: false },
      { uid: 2, existed: false },
    ]);
    expect(inbox.get(1)!.metaId).not.toBe(inbox.get(2)!.metaId);
    expect(inbox.get(1)!.flags).toEqual(["\\Seen"]);
    expect(inbox.get(2)!.flags).toEqual([]);
    expect(inbox.get(2)!.raw().equals(raw)).toBe(true);
    const leaves = splitMessage(raw).leaves.size;
    expect([count(store, "meta"), count(store, "flags"), count(store, "header"), count(store, "content")]).toEqual([2, 2, 1, leaves]);
    // Expunging one keeps the parts the other still points at.
    inbox.updateFlags([1], "add", ["\\Deleted"]);
    expect(inbox.expunge()).toEqual([1]);
    expect(inbox.get(2)!.raw().equals(raw)).toBe(true);
    inbox.updateFlags([2], "add", ["\\Deleted"]);
    inbox.expunge();
    expect([count(store, "meta"), count(store, "header"), count(store, "content")]).toEqual([0, 0, 0]);
  });

  it("copies and moves into the same mailbox as new messages with new UIDs", async () => {
    const { account } = await setup();
    const inbox = account.requireMailbox("INBOX");
    inbox.add(plainMessage(1), { flags: ["$Work"] });
    expect(inbox.copy([1], inbox)).toEqual([{ from: 1, to: 2 }]);
    expect(inbox.get(2)!.flags).toEqual(["$Work"]);
    expect(inbox.move([1, 2], inbox)).toEqual([
      { from: 1, to: 3 },
      { from: 2, to: 4 },
    ]);
    expect(inbox.uids()).toEqual([3, 4]);
    expect(inbox.get(4)!.raw().equals(plainMessage(1))).toBe(true);
  });

  it("adds under a key once: a retried add of the same bytes returns the first", async () => {
    const { account } = await setup();
    const inbox = account.requireMailbox("INBOX");
    expect(inbox.add(plainMessage(1), { key: "incoming-7" })).toEqual({ uid: 1, existed: false });
    expect(inbox.add(plainMessage(1), { key: "incoming-7" })).toEqual({ uid: 1, existed: true });
    // Other bytes under the same key, or the same bytes under none, are other messages.
    expect(inbox.add(plainMessage(2), { key: "incoming-7" })).toEqual({ uid: 2, existed: false });
    expect(inbox.add(plainMessage(1))).toEqual({ uid: 3, existed: false });
  });

  it("keeps the messages of a store written with content-addressed meta ids", async () => {
    const temp = await setup();
    const inbox = temp.account.requireMailbox("INBOX");
    // What the previous version wrote for an add: meta and flags documents
    // named by mailbox and message hash.
    const raws = [plainMessage(1), messageWithAttachment(2, Buffer.from("other bytes"))];
    temp.store.transaction(() => {
      for (const [i, raw] of raws.entries()) {
        const split = splitMessage(raw);
        const metaId = `M-${inbox.id}-${split.msgHash}`;
        for (const [hash, bytes] of split.leaves) temp.store.put("content", contentIdFor(hash), bytes);
        temp.store.put("header", headerIdFor(split.msgHash), { size: split.size, messageId: split.messageId, root: split.root });
        temp.store.put("flags", flagsIdFor(metaId), { mailbox: inbox.id, msgHash: split.msgHash, flags: i ? [] : ["\\Seen"], internalDate: 1000 * i });
        temp.store.put("meta", metaId, {
          mailbox: inbox.id,
          msgHash: split.msgHash,
          flags: flagsIdFor(metaId),
          header: headerIdFor(split.msgHash),
          contents: [...split.leaves.keys()].map(contentIdFor),
        });
      }
    });
    temp.store.close();

    const store = await DocumentStore.open(temp.file, temp.secret);
    close = () => {
      store.close();
      temp.close = () => {};
    };
    const reopened = Account.open(store).requireMailbox("INBOX");
    expect(reopened.uids()).toEqual([1, 2]);
    expect(reopened.get(1)!.metaId).toBe(`M-${inbox.id}-${splitMessage(raws[0]!).msgHash}`);
    expect(reopened.get(1)!.flags).toEqual(["\\Seen"]);
    expect(reopened.get(2)!.raw().equals(raws[1]!)).toBe(true);
    // Its flags document still follows it, and the same bytes again are a new message.
    reopened.updateFlags([2], "add", ["\\Flagged"]);
    expect(store.get(flagsIdFor(reopened.get(2)!.metaId), "flags")!.content!.flags).toEqual(["\\Flagged"]);
    expect(reopened.add(raws[0]!).uid).toBe(3);
    expect(reopened.copy([1], reopened)).toEqual([{ from: 1, to: 4 }]);
    reopened.updateFlags([1, 3], "add", ["\\Deleted"]);
    expect(reopened.expunge()).toEqual([1, 3]);
    expect(reopened.get(4)!.raw().equals(raws[0]!)).toBe(true);
  });
});
