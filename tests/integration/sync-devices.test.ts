// Two (and three) full daemons logged in as the same account on their own
// data folders, syncing through a real provider on loopback: edits cross
// over, concurrent conflicting edits converge to the same state on every
// device, a new device gets everything, an interrupted sync resumes with
// nothing lost or doubled, offline mode waits, and a provider that is down
// is reported once and recovered from. Initial sync reports its progress
// against a known total.
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3-multiple-ciphers";
import { ImapFlow } from "imapflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UnlockedAccount } from "../../native-host/daemon/daemon";
import { readProviderLink, sessionFor } from "../../native-host/sync/provider-link";
import { SyncEngine, type SyncProgress } from "../../native-host/sync/sync-engine";
import { logInAccount, signUpAccount, startTestDaemon, syncNow, type TestDaemon } from "../helpers/daemon";
import { mailState, messageIdCounts, sha256 } from "../helpers/mail-state";
import { startRestartableProvider, type RestartableProvider } from "../helpers/restartable-provider";
import { plainMessage } from "../helpers/messages";
import { openTempStore } from "../helpers/temp-store";

const ALICE = "alice@example.org";
const PASSPHRASE = "correct horse battery staple";

let provider: RestartableProvider;
const daemons: TestDaemon[] = [];
let a: UnlockedAccount;
let b: UnlockedAccount;
/** A's mailboxes before B logged in: B's own default mailboxes must not replace them. */
let uidValidities: [string, number][];

async function device(): Promise<TestDaemon> {
  const started = await startTestDaemon();
  daemons.push(started);
  return started;
}

/** Rounds until both devices hold what the provider holds: A, B, then A
 * again (B's round may have merged and pushed something A must pull). */
async function converge(...accounts: UnlockedAccount[]): Promise<void> {
  for (const account of accounts) await syncNow(account);
  for (const account of accounts) await syncNow(account);
}

function uidOf(account: UnlockedAccount, mailbox: string, n: number): number {
  const found = account.mail.requireMailbox(mailbox).byMessageId(`<msg${n}@example.org>`);
  if (found.length !== 1) throw new Error(`message ${n} is ${found.length} times in ${mailbox}`);
  return found[0]!.uid;
}

/** Each message once in INBOX on both devices, byte-exact, and both alike. */
function expectAllOnce(numbers: number[]): void {
  for (const account of [a, b]) {
    const counts = messageIdCounts(account.mail);
    for (const n of numbers) expect(counts.get(`<msg${n}@example.org>`), `message ${n}`).toBe(1);
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    const box = account.mail.requireMailbox("INBOX");
    expect(box.get(uidOf(account, "INBOX", numbers[0]!))!.raw().equals(plainMessage(numbers[0]!, `body ${numbers[0]}\r\n`))).toBe(true);
  }
  expect(mailState(b.mail)).toEqual(mailState(a.mail));
}

/** Sync documents the provider holds (all users). */
function providerDocCount(): number {
  const sql = new Database(path.join(provider.dataDir, "provider.sqlite"), { readonly: true });
  try {
    return (sql.prepare("SELECT count(*) AS n FROM docs").get() as { n: number }).n;
  } finally {
    sql.close();
  }
}

beforeAll(async () => {
  // Small pages (about 50 documents), so a first pull takes many.
  provider = await startRestartableProvider({ limits: { changesByteBudget: 16 * 1024 } });
  const first = await device();
  a = await signUpAccount(first.daemon, provider, ALICE, PASSPHRASE);
  const inbox = a.mail.requireMailbox("INBOX");
  for (let n = 1; n <= 10; n++) inbox.add(plainMessage(n), { flags: n % 2 === 0 ? ["\\Seen"] : [], internalDate: new Date(1_700_000_000_000 + n) });
  inbox.updateFlags([uidOf(a, "INBOX", 3)], "add", ["\\Flagged"]);
  a.mail.createMailbox("Projects").add(plainMessage(100), { flags: ["$Work"] });
  await syncNow(a);
  uidValidities = a.mail.list().map((box) => [box.name, box.uidValidity]);
  const second = await device();
  b = await logInAccount(second.daemon, provider, ALICE, PASSPHRASE);
  await syncNow(b);
}, 60_000);

afterAll(async () => {
  for (const daemon of daemons) await daemon.stop();
  await provider?.stop();
});

describe("two devices of one account", () => {
  it("the second device gets everything: mailboxes, UIDVALIDITY, messages byte-exact, keys, mail token", async () => {
    await syncNow(a);
    expect(mailState(b.mail)).toEqual(mailState(a.mail));
    expect(a.mail.list().map((box) => [box.name, box.uidValidity])).toEqual(uidValidities);
    expect(b.mail.list().map((box) => box.name)).toEqual(["INBOX", "Archive", "Drafts", "Junk", "Projects", "Sent", "Trash"]);
    const inbox = b.mail.requireMailbox("INBOX");
    for (let n = 1; n <= 10; n++) expect(inbox.get(uidOf(b, "INBOX", n))!.raw().equals(plainMessage(n))).toBe(true);
    expect(b.keys!.ownFingerprint()).toMatch(/^[0-9A-F]{40}$/);
    expect(b.keys!.ownFingerprint()).toBe(a.keys!.ownFingerprint());
    expect(await b.keys!.exportPublic()).toBe(await a.keys!.exportPublic());
    expect(b.tokens.current()).toBe(a.tokens.current());
    expect(b.errors).toEqual([]);
    expect(a.errors).toEqual([]);
  });

  it("a flag set on one and a message moved on the other reach both", async () => {
    b.mail.requireMailbox("INBOX").updateFlags([uidOf(b, "INBOX", 5)], "add", ["\\Answered"]);
    a.mail.requireMailbox("INBOX").move([uidOf(a, "INBOX", 6)], a.mail.requireMailbox("Archive"));
    await converge(a, b);
    for (const account of [a, b]) {
      expect(account.mail.requireMailbox("INBOX").get(uidOf(account, "INBOX", 5))!.flags).toContain("\\Answered");
      expect(account.mail.requireMailbox("INBOX").byMessageId("<msg6@example.org>")).toEqual([]);
      const moved = account.mail.requireMailbox("Archive").get(uidOf(account, "Archive", 6))!;
      expect(moved.raw().equals(plainMessage(6))).toBe(true);
      expect(moved.flags).toContain("\\Seen");
    }
    expect(mailState(b.mail)).toEqual(mailState(a.mail));
  });

  it("converges when both change the same message's flags before either syncs", async () => {
    // Message 3 starts \Flagged; A reads it and unflags it, B answers it and tags it.
    a.mail.requireMailbox("INBOX").updateFlags([uidOf(a, "INBOX", 3)], "add", ["\\Seen"]);
    a.mail.requireMailbox("INBOX").updateFlags([uidOf(a, "INBOX", 3)], "remove", ["\\Flagged"]);
    b.mail.requireMailbox("INBOX").updateFlags([uidOf(b, "INBOX", 3)], "add", ["\\Answered", "$Todo"]);
    await converge(a, b);
    expect(mailState(b.mail)).toEqual(mailState(a.mail));
    expect([...a.mail.requireMailbox("INBOX").get(uidOf(a, "INBOX", 3))!.flags].sort()).toEqual(["$Todo", "\\Answered", "\\Seen"]);
  });

  it("converges when both rename the same mailbox, keeping its UIDVALIDITY and messages", async () => {
    const uidValidity = a.mail.requireMailbox("Projects").uidValidity;
    a.mail.renameMailbox("Projects", "Work");
    // The later edit on the hybrid clock wins; in the same millisecond the
    // device ids would decide, so B's comes a little later for certain.
    await sleep(5);
    b.mail.renameMailbox("Projects", "Jobs");
    await converge(a, b);
    expect(mailState(b.mail)).toEqual(mailState(a.mail));
    const names = a.mail.list().map((box) => box.name);
    expect(names).not.toContain("Projects");
    // The later rename (B's) wins on both.
    expect(names).toContain("Jobs");
    expect(a.mail.requireMailbox("Jobs").uidValidity).toBe(uidValidity);
    expect(messageIdCounts(a.mail, "Jobs")).toEqual(new Map([["<msg100@example.org>", 1]]));
  });

  it("lets a delete on one win over a flag change on the other", async () => {
    const inboxA = a.mail.requireMailbox("INBOX");
    inboxA.updateFlags([uidOf(a, "INBOX", 7)], "add", ["\\Deleted"]);
    inboxA.expunge();
    b.mail.requireMailbox("INBOX").updateFlags([uidOf(b, "INBOX", 7)], "add", ["\\Flagged"]);
    await converge(b, a);
    for (const account of [a, b]) expect(account.mail.requireMailbox("INBOX").byMessageId("<msg7@example.org>")).toEqual([]);
    expect(mailState(b.mail)).toEqual(mailState(a.mail));
  });

  it("tells an IMAP client in IDLE on the other device what a sync brought", async () => {
    const client = new ImapFlow({
      host: "127.0.0.1",
      port: daemons[1]!.daemon.imapPort,
      secure: false,
      auth: { user: ALICE, pass: b.tokens.current() },
      logger: false,
    });
    await client.connect();
    try {
      // imapflow keeps the opened mailbox's figures up to date: copy the count.
      const before = (await client.mailboxOpen("INBOX")).exists;
      const exists = new Promise<number>((resolve) => client.on("exists", (event: { count: number }) => resolve(event.count)));
      const flagged = new Promise<string[]>((resolve) => client.on("flags", (event: { flags: Set<string> }) => resolve([...event.flags])));
      void client.idle();
      const inboxA = a.mail.requireMailbox("INBOX");
      inboxA.add(plainMessage(500));
      inboxA.updateFlags([uidOf(a, "INBOX", 1)], "add", ["\\Answered"]);
      await syncNow(a);
      await syncNow(b);
      expect(await exists).toBe(before + 1);
      expect(await flagged).toContain("\\Answered");
    } finally {
      await client.logout();
    }
  });

  it("an initial sync reports pull progress against the total the provider announces", async () => {
    const inbox = a.mail.requireMailbox("INBOX");
    for (let n = 1000; n < 1040; n++) inbox.add(plainMessage(n));
    await syncNow(a);
    // A new device's engine, on an empty store, with the account's keys.
    const temp = await openTempStore();
    try {
      const events: SyncProgress[] = [];
      const engine = new SyncEngine(temp.store, a.context.cipher, sessionFor(readProviderLink(a.store)!), {
        onProgress: (progress) => events.push(progress),
      });
      const report = await engine.sync();
      expect(report.refused).toEqual([]);
      const pull = events.filter((event) => event.phase === "pull");
      // Pages of about 50 documents: many steps, each with a total, the last reaching it.
      expect(pull.length).toBeGreaterThan(5);
      const total = pull[0]!.total!;
      expect(total).toBeGreaterThan(200);
      expect(report.pulled).toBe(total);
      for (const [i, event] of pull.entries()) {
        expect(event.total).toBe(total);
        expect(event.done).toBeGreaterThan(i === 0 ? 0 : pull[i - 1]!.done);
      }
      expect(pull.at(-1)!.done).toBe(total);
      expect(temp.store.allOfType("meta").length).toBe(a.store.allOfType("meta").length);
    } finally {
      temp.close();
    }
  });
});

describe("interruptions", () => {
  it("resumes a push cut off by the provider going away, with nothing lost or doubled", async () => {
    const inbox = a.mail.requireMailbox("INBOX");
    const added = Array.from({ length: 120 }, (_, i) => 2000 + i);
    for (const n of added) inbox.add(plainMessage(n, `body ${n}\r\n`));
    const before = providerDocCount();
    // The provider goes away right after storing A's first batch of 200 documents.
    let halted: Promise<void> | null = null;
    provider.onRequest = (route, status) => {
      if (route.includes("sync\\/push") && status === 200) halted ??= provider.halt();
    };
    const pushed = await a.sync!.syncNow(() => {});
    provider.onRequest = null;
    await halted;
    expect(pushed.state).toBe("error");
    const stored = providerDocCount() - before;
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(added.length * 4);
    await provider.start();
    await converge(a, b);
    expectAllOnce(added);
  });

  it("resumes a new device's first pull cut off by the provider going away", async () => {
    let pages = 0;
    let halted: Promise<void> | null = null;
    provider.onRequest = (route, status) => {
      if (route.includes("sync\\/changes") && status === 200 && ++pages === 3) halted ??= provider.halt();
    };
    const fourth = await device();
    const d = await logInAccount(fourth.daemon, provider, ALICE, PASSPHRASE);
    const first = await d.sync!.syncNow(() => {});
    provider.onRequest = null;
    await halted;
    // The round the log-in started broke off after three pages; the one asked for failed too.
    expect(first.state).toBe("error");
    expect(pages).toBeGreaterThanOrEqual(3);
    await provider.start();
    await converge(d, a, b);
    expect(mailState(d.mail)).toEqual(mailState(a.mail));
    expect([...messageIdCounts(d.mail).values()].every((count) => count === 1)).toBe(true);
    expect(d.errors.every((error) => error.source === "sync" && /provider/.test(error.message))).toBe(true);
  });

  it("waits while offline, and sends once back online", async () => {
    const daemonA = daemons[0]!.daemon;
    const errors = a.errors.length;
    daemonA.setOffline(true);
    try {
      a.mail.requireMailbox("INBOX").add(plainMessage(3000));
      const status = await a.sync!.syncNow(() => {});
      expect(status.state).toBe("offline");
      await syncNow(b);
      expect(b.mail.requireMailbox("INBOX").byMessageId("<msg3000@example.org>")).toEqual([]);
    } finally {
      daemonA.setOffline(false);
    }
    await converge(a, b);
    expect(b.mail.requireMailbox("INBOX").byMessageId("<msg3000@example.org>")).toHaveLength(1);
    expect(a.errors.length).toBe(errors);
  });

  it("reports a provider that is down once, backs off, and recovers", async () => {
    const errors = a.errors.length;
    await provider.halt();
    try {
      a.mail.requireMailbox("INBOX").add(plainMessage(3001));
      for (let attempt = 0; attempt < 3; attempt++) {
        const status = await a.sync!.syncNow(() => {});
        expect(status.state).toBe("error");
      }
      // Three failed rounds, one error for the user.
      expect(a.errors.length).toBe(errors + 1);
      expect(a.errors.at(-1)!.source).toBe("sync");
      expect(a.errors.at(-1)!.message).toMatch(/unreachable/);
    } finally {
      await provider.start();
    }
    await converge(a, b);
    expect(a.sync!.status().state).toBe("idle");
    expect(b.mail.requireMailbox("INBOX").byMessageId("<msg3001@example.org>")).toHaveLength(1);
    expect(sha256(b.mail.requireMailbox("INBOX").get(uidOf(b, "INBOX", 3001))!.raw())).toBe(sha256(plainMessage(3001)));
    expect(a.errors.length).toBe(errors + 1);
    expect(mailState(b.mail)).toEqual(mailState(a.mail));
  });
});
