import { afterEach, describe, expect, it } from "vitest";
import { plainMessage } from "../helpers/messages";
import { startImap } from "../helpers/imap-server";

let stop = async () => {};
afterEach(() => stop());

describe("IMAP with imapflow", () => {
  it("logs in, lists, selects, appends and fetches", async () => {
    const imap = await startImap();
    stop = imap.stop;
    const client = await imap.client();
    const boxes = await client.list();
    expect(boxes.map((box) => box.path).sort()).toEqual(["Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"]);
    expect(boxes.find((box) => box.path === "Sent")?.specialUse).toBe("\\Sent");
    const appended = await client.append("INBOX", plainMessage(1), ["\\Seen"]);
    expect(appended && appended.uid).toBe(1);
    const lock = await client.getMailboxLock("INBOX");
    try {
      const message = await client.fetchOne("1", { source: true, flags: true, uid: true, size: true });
      expect(message && message.source?.equals(plainMessage(1))).toBe(true);
      expect(message && [...(message.flags ?? [])]).toEqual(["\\Seen", "\\Recent"]);
    } finally {
      lock.release();
    }
    expect(imap.events.some((e) => e.type === "login")).toBe(true);
  });
});
