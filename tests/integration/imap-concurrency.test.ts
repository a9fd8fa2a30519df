// Many clients at once, a client that stops reading, and autologout.
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { ADDRESS, startImap } from "../helpers/imap-server";
import { messageWithAttachment, plainMessage } from "../helpers/messages";
import { RawImap } from "../helpers/raw-imap";

let stop = async () => {};
afterEach(() => stop());

describe("IMAP sessions side by side", () => {
  it("serves 20 concurrent clients each appending and fetching", async () => {
    const imap = await startImap();
    stop = imap.stop;
    const clients = await Promise.all(Array.from({ length: 20 }, () => imap.client()));
    await Promise.all(
      clients.map(async (client, i) => {
        for (let n = 0; n < 5; n++) await client.append("INBOX", plainMessage(i * 100 + n));
        const status = await client.status("INBOX", { messages: true });
        expect(status && status.messages).toBeGreaterThanOrEqual(5);
      }),
    );
    expect(imap.account.requireMailbox("INBOX").counts().messages).toBe(100);
    const lock = await clients[0]!.getMailboxLock("INBOX");
    const uids: number[] = [];
    for await (const message of clients[0]!.fetch("1:*", { uid: true })) uids.push(message.uid);
    lock.release();
    expect(uids).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it("keeps serving others while one client does not read a large FETCH", async () => {
    const imap = await startImap();
    stop = imap.stop;
    const inbox = imap.account.requireMailbox("INBOX");
    for (let n = 0; n < 40; n++) inbox.add(messageWithAttachment(n, randomBytes(500_000)));
    const slow = await RawImap.connect(imap.port);
    await slow.command("s0", `LOGIN ${ADDRESS} ${imap.token}`);
    await slow.command("s1", "SELECT INBOX");
    slow.pause();
    slow.write("s2 FETCH 1:* (BODY.PEEK[])\r\n");
    // The slow client's 27 MB answer waits on its socket; another client gets on.
    const other = await imap.client();
    for (let n = 0; n < 10; n++) await other.append("Archive", plainMessage(n));
    const lock = await other.getMailboxLock("INBOX");
    const first = await other.fetchOne("40", { uid: true, size: true });
    lock.release();
    expect(first && first.uid).toBe(40);
    slow.resume();
    const answer = await slow.readUntil((text) => text.includes("s2 OK"), 60_000);
    expect(answer.match(/\* \d+ FETCH/g)).toHaveLength(40);
    slow.close();
  });

  it("logs out a client idle past the autologout time", async () => {
    const imap = await startImap({ notAuthenticatedMs: 300, authenticatedMs: 2_000 });
    stop = imap.stop;
    const [idleBeforeLogin, loggedIn] = await Promise.all([RawImap.connect(imap.port), RawImap.connect(imap.port)]);
    await loggedIn.command("a1", `LOGIN ${ADDRESS} ${imap.token}`);
    // The connection that never logged in is cut at the shorter time; the one
    // that did, connected at the same moment, still answers: LOGIN moved it to
    // the longer time (waiting on that BYE, not on a sleep, so a slow machine
    // cannot make the NOOP land on the wrong side).
    expect(await idleBeforeLogin.readUntil((text) => text.includes("BYE"))).toContain("* BYE autologout");
    expect(await loggedIn.command("a2", "NOOP")).toContain("a2 OK");
    expect(await loggedIn.readUntil((text) => text.includes("BYE"))).toContain("* BYE autologout");
    expect(loggedIn.closed || (await loggedIn.readUntil(() => loggedIn.closed).then(() => loggedIn.closed))).toBe(true);
  });
});
