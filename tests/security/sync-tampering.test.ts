// A provider that turns against its user, by editing its own SQLite
// database: it flips a byte of a stored document, replays an older revision
// of a document it kept, or swaps two documents' ciphertexts, and gives each
// a new generation so the client pulls it. The client refuses every one,
// says so (account.errors, source "sync"), and keeps its own data as it was;
// a replayed document gets the client's newer version pushed over it.
import path from "node:path";
import Database from "better-sqlite3-multiple-ciphers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UnlockedAccount } from "../../native-host/daemon/daemon";
import { flagsIdFor, headerIdFor } from "../../native-host/mail/mail-index";
import { DATABASE_FILE } from "../../provider/storage/database";
import { signUpAccount, startTestDaemon, startTlsProvider, syncNow, type TestDaemon, type TlsProvider } from "../helpers/daemon";
import { mailState } from "../helpers/mail-state";
import { plainMessage } from "../helpers/messages";

const ALICE = "alice@example.org";
const PASSPHRASE = "correct horse battery staple";

let provider: TlsProvider;
let device: TestDaemon;
let alice: UnlockedAccount;
let db: Database.Database;
let userId: number;

type Row = { rev: number; data: Buffer };

beforeAll(async () => {
  provider = await startTlsProvider();
  device = await startTestDaemon();
  alice = await signUpAccount(device.daemon, provider, ALICE, PASSPHRASE);
  const inbox = alice.mail.requireMailbox("INBOX");
  for (let n = 1; n <= 3; n++) inbox.add(plainMessage(n, `A body that is only message ${n}'s.\r\n`), { flags: ["\\Seen"] });
  alice.mail.createMailbox("Projects");
  await syncNow(alice);
  db = new Database(path.join(provider.dataDir, DATABASE_FILE));
  userId = (db.prepare("SELECT id FROM users WHERE username = 'alice'").get() as { id: number }).id;
}, 60_000);

afterAll(async () => {
  db?.close();
  await device?.stop();
  await provider?.stop();
});

/** The wire id of one of the account's documents. */
function wireId(localId: string): Promise<string> {
  return alice.context.cipher.wireId(localId);
}

/** Local ids of message n's documents in INBOX. */
function docsOf(n: number): { flags: string; meta: string; header: string; content: string } {
  const inbox = alice.mail.requireMailbox("INBOX");
  const [message] = inbox.byMessageId(`<msg${n}@example.org>`);
  if (!message) throw new Error(`no message ${n}`);
  const meta = alice.store.get(message.metaId, "meta")!.content!;
  expect(meta.contents).toHaveLength(1);
  return { flags: flagsIdFor(message.metaId), meta: message.metaId, header: headerIdFor(message.msgHash), content: meta.contents[0]! };
}

function row(wire: string): Row {
  const found = db.prepare("SELECT rev, data FROM docs WHERE user_id = ? AND id = ?").get(userId, wire) as Row | undefined;
  if (!found) throw new Error(`the provider has no document ${wire}`);
  return found;
}

/** What a malicious provider does: store `rows` as given, each with a new
 * generation (as if just pushed), so the client's next pull serves them. */
function rewrite(rows: [wire: string, row: Row][]): void {
  db.transaction(() => {
    for (const [wire, { rev, data }] of rows) {
      const { generation } = db.prepare("SELECT generation FROM users WHERE id = ?").get(userId) as { generation: number };
      db.prepare("UPDATE docs SET rev = ?, data = ?, gen = ? WHERE user_id = ? AND id = ?").run(rev, data, generation + 1, userId, wire);
      db.prepare("UPDATE users SET generation = ? WHERE id = ?").run(generation + 1, userId);
    }
  })();
}

/** One round; resolves to the errors it reported. */
async function roundErrors(): Promise<{ source: string; message: string }[]> {
  const before = alice.errors.length;
  await syncNow(alice);
  return alice.errors.slice(before);
}

describe("a provider that alters what it stores", () => {
  it("refuses a document with a flipped byte and keeps its own copy", async () => {
    const before = mailState(alice.mail);
    const wire = await wireId(docsOf(1).flags);
    const stored = row(wire);
    const flipped = Buffer.from(stored.data);
    flipped[flipped.length >> 1]! ^= 0x01;
    rewrite([[wire, { rev: stored.rev, data: flipped }]]);

    const errors = await roundErrors();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.source).toBe("sync");
    expect(errors[0]!.message).toMatch(/refused .*\(tampered\)/);
    expect(errors[0]!.message).toContain(wire);
    expect(mailState(alice.mail)).toEqual(before);
    // Nothing is reported again on the next round: the bad document was seen once.
    expect(await roundErrors()).toEqual([]);
  });

  it("refuses an older revision replayed in place of the current one", async () => {
    const { flags } = docsOf(2);
    const box = alice.mail.requireMailbox("Projects").id;
    const flagsWire = await wireId(flags);
    const boxWire = await wireId(box);
    // The provider keeps today's versions...
    const oldFlags = row(flagsWire);
    const oldBox = row(boxWire);
    // ...the user flags the message and renames the mailbox...
    alice.mail.requireMailbox("INBOX").updateFlags([alice.mail.requireMailbox("INBOX").byMessageId("<msg2@example.org>")[0]!.uid], "add", ["\\Flagged"]);
    alice.mail.renameMailbox("Projects", "Work");
    await syncNow(alice);
    expect(row(flagsWire).rev).toBeGreaterThan(oldFlags.rev);
    expect(row(boxWire).rev).toBeGreaterThan(oldBox.rev);
    const before = mailState(alice.mail);

    // ...and later serves the old ones again, authentic but stale.
    rewrite([
      [flagsWire, oldFlags],
      [boxWire, oldBox],
    ]);
    const errors = await roundErrors();
    expect(errors.map((error) => error.source)).toEqual(["sync", "sync"]);
    for (const error of errors) expect(error.message).toMatch(/refused .*\(rollback\)/);
    expect(mailState(alice.mail)).toEqual(before);
    expect(alice.mail.list().map((info) => info.name)).toContain("Work");
    expect(alice.mail.requireMailbox("INBOX").byMessageId("<msg2@example.org>")[0]!.flags).toContain("\\Flagged");
    // The same round put the newer versions back on the provider, for other devices.
    const restoredFlags = row(flagsWire);
    expect(restoredFlags.rev).toBeGreaterThan(oldFlags.rev + 1);
    const opened = await alice.context.cipher.open({ id: flagsWire, rev: restoredFlags.rev, data: restoredFlags.data.toString("base64url") });
    expect((opened.content as { flags: string[] }).flags).toContain("\\Flagged");
    const restoredBox = row(boxWire);
    const openedBox = await alice.context.cipher.open({ id: boxWire, rev: restoredBox.rev, data: restoredBox.data.toString("base64url") });
    expect((openedBox.content as { name: string }).name).toBe("Work");
    expect(await roundErrors()).toEqual([]);
  });

  it("refuses two documents whose ciphertexts were swapped", async () => {
    const before = mailState(alice.mail);
    const first = docsOf(1);
    const third = docsOf(3);
    const pairs: [string, string][] = [
      [first.content, third.content],
      [first.header, third.header],
    ];
    const swapped: [string, Row][] = [];
    for (const [x, y] of pairs) {
      const [wx, wy] = [await wireId(x), await wireId(y)];
      const [rx, ry] = [row(wx), row(wy)];
      swapped.push([wx, { rev: rx.rev, data: ry.data }], [wy, { rev: ry.rev, data: rx.data }]);
    }
    rewrite(swapped);

    const errors = await roundErrors();
    expect(errors).toHaveLength(4);
    for (const error of errors) {
      expect(error.source).toBe("sync");
      expect(error.message).toMatch(/refused .*\((tampered|swapped)\)/);
    }
    expect(mailState(alice.mail)).toEqual(before);
    const inbox = alice.mail.requireMailbox("INBOX");
    for (const n of [1, 3]) {
      expect(inbox.byMessageId(`<msg${n}@example.org>`)[0]!.raw().equals(plainMessage(n, `A body that is only message ${n}'s.\r\n`))).toBe(true);
    }
  });

  it("refuses a document moved under another document's id with a matching revision", async () => {
    // Copy the flags document of message 3 over message 1's, revision and all.
    const before = mailState(alice.mail);
    const source = row(await wireId(docsOf(3).flags));
    const target = await wireId(docsOf(1).flags);
    rewrite([[target, { rev: Math.max(source.rev, row(target).rev), data: source.data }]]);
    const errors = await roundErrors();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/refused .*\((tampered|swapped)\)/);
    expect(mailState(alice.mail)).toEqual(before);
  });
});
