// A daemon killed with SIGKILL at random moments while it syncs with the
// provider, and (separately) while it fetches and processes incoming mail,
// must lose nothing and double nothing. The daemon runs in a child process
// on its own data folder (a second device of alice); the provider and the
// first device run here. After every kill the child's next start reports
// what its reopened store holds; at the end both devices must hold every
// message once, byte for byte alike.
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import nodemailer from "nodemailer";
import Database from "better-sqlite3-multiple-ciphers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UnlockedAccount } from "../../native-host/daemon/daemon";
import { DATABASE_FILE } from "../../provider/storage/database";
import { buildPrograms, testBuildDir } from "../helpers/build";
import { logInAccount, signUpAccount, startTestDaemon, startTlsProvider, syncNow, type TestDaemon, type TlsProvider } from "../helpers/daemon";
import { mailState, type MailboxState } from "../helpers/mail-state";
import { plainMessage } from "../helpers/messages";
import type { ChildState } from "../helpers/sync-crash-child";
import { tempDir } from "../helpers/temp-store";

/** The child bundled once (esbuild, packages left in node_modules): it then
 * starts in half a second instead of the two tsx needs, 57 times over. */
const BUILD_DIR = testBuildDir("sync-crash");
const CHILD = path.join(BUILD_DIR, "sync-crash-child.js");
const ALICE = "alice@example.org";
const PASSPHRASE = "correct horse battery staple";
const SYNC_KILLS = 30;
const INCOMING_KILLS = 25;
/** The child is killed this long (at most) after it reported its state: its
 * first round starts then, and takes about this long on a slow machine. */
const MAX_KILL_DELAY_MS = 700;

let provider: TlsProvider;
const folders = [tempDir("bitmask-crash-a-"), tempDir("bitmask-crash-b-")];
const [folderA, folderB] = folders.map((folder) => folder.dir) as [string, string];
let first: TestDaemon | null = null;
let alice: UnlockedAccount;
let running: ChildProcess | null = null;

type ChildRun = { states: ChildState[]; lines: string[]; killed: boolean };

/** Runs the child; kills it `killAfterMs` after its first state line (null: lets it finish). */
function runChild(mode: "sync" | "incoming" | "final", start: number, killAfterMs: number | null): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, folderB, ALICE, PASSPHRASE, mode, String(start)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    running = child;
    let output = "";
    let errors = "";
    let timer: NodeJS.Timeout | null = null;
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (killAfterMs !== null && !timer && output.includes("state ")) timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    });
    child.stderr!.on("data", (chunk: Buffer) => (errors += chunk.toString()));
    const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("exit", (code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      running = null;
      // The last line may be cut off mid-write: only whole lines count.
      const lines = output.split("\n").slice(0, -1);
      const states = lines.filter((line) => line.startsWith("state ")).map((line) => JSON.parse(line.slice(6)) as ChildState);
      if (states.length === 0) reject(new Error(`the child never reported its state (${signal ?? code}): ${errors.slice(-2000)}`));
      else if (killAfterMs === null && code !== 0) reject(new Error(`the child failed (${signal ?? code}): ${errors.slice(-2000)}`));
      else if (killAfterMs !== null && signal !== "SIGKILL") reject(new Error(`the child ended on its own (${code}): ${errors.slice(-2000)}`));
      else resolve({ states, lines, killed: signal === "SIGKILL" });
    });
  });
}

/** No Message-ID twice, nothing that does not join back to its bytes. */
function expectSound(state: ChildState, where: string): void {
  expect(state.broken, `${where}: broken messages`).toEqual([]);
  const doubled = Object.entries(state.counts).filter(([, count]) => count !== 1);
  expect(doubled, `${where}: Message-IDs held more than once`).toEqual([]);
}

function countsOf(mail: UnlockedAccount["mail"]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const box of mailState(mail)) for (const message of box.messages) counts[message.messageId!] = (counts[message.messageId!] ?? 0) + 1;
  return counts;
}

async function openFirstDevice(): Promise<void> {
  first = await startTestDaemon({ dataDir: folderA });
  alice = await first.daemon.unlockAccount(ALICE, PASSPHRASE);
}

async function closeFirstDevice(): Promise<void> {
  await first?.stop();
  first = null;
}

beforeAll(async () => {
  await buildPrograms(BUILD_DIR, { "sync-crash-child": "tests/helpers/sync-crash-child.ts" });
  provider = await startTlsProvider();
  // Device A here; device B's folder is logged in once, then left to the child.
  first = await startTestDaemon({ dataDir: folderA });
  alice = await signUpAccount(first.daemon, provider, ALICE, PASSPHRASE);
  await syncNow(alice);
  const second = await startTestDaemon({ dataDir: folderB });
  await syncNow(await logInAccount(second.daemon, provider, ALICE, PASSPHRASE));
  await second.stop();
}, 60_000);

afterAll(async () => {
  running?.kill("SIGKILL");
  await closeFirstDevice();
  await provider?.stop();
  for (const folder of folders) folder.cleanup();
  rmSync(BUILD_DIR, { recursive: true, force: true });
});

/** Every number's message exactly once across a device's mailboxes. */
function expectEachOnce(counts: Record<string, number>, ids: Iterable<string>, where: string): void {
  const missing: string[] = [];
  for (const id of ids) if (counts[id] !== 1) missing.push(`${id}: ${counts[id] ?? 0}`);
  expect(missing, where).toEqual([]);
}

const idOf = (n: number) => `<msg${n}@example.org>`;

describe("SIGKILL during sync and incoming", () => {
  const written = new Set<string>();
  let next = 1;
  let fullB: MailboxState[] = [];

  /** The messages a child run says it stored ("added n" after each commit), noted as written. */
  function recordAdded(run: ChildRun): string[] {
    const ids: string[] = [];
    for (const line of run.lines) {
      const added = /^added (\d+)$/.exec(line);
      if (!added) continue;
      ids.push(idOf(Number(added[1])));
      next = Math.max(next, Number(added[1]) + 1);
    }
    for (const id of ids) written.add(id);
    return ids;
  }

  const unknown = (counts: Record<string, number>) => Object.keys(counts).filter((id) => !written.has(id));

  it(`loses and doubles nothing when killed ${SYNC_KILLS} times during sync`, async () => {
    let duringRound = 0;
    const ownWritten = new Set<string>();
    for (let kill = 0; kill < SYNC_KILLS; kill++) {
      // Device A has news for B too.
      const inbox = alice.mail.requireMailbox("INBOX");
      for (const n of [100_000 + 2 * kill, 100_001 + 2 * kill]) {
        inbox.add(plainMessage(n));
        written.add(idOf(n));
      }
      await syncNow(alice);
      expectSound({ counts: countsOf(alice.mail), broken: [], stashed: [] }, `device A after kill ${kill}`);

      const run = await runChild("sync", next, Math.floor(Math.random() * MAX_KILL_DELAY_MS));
      expect(run.killed).toBe(true);
      // What B held when it started again (after the previous kill).
      expectSound(run.states[0]!, `device B after kill ${kill - 1}`);
      expectEachOnce(run.states[0]!.counts, ownWritten, `device B after kill ${kill - 1}: the messages it added`);
      for (const id of recordAdded(run)) ownWritten.add(id);
      const last = run.lines.filter((line) => line.startsWith("round-")).at(-1);
      if (last === "round-start") duringRound++;
    }
    // Most kills land inside a round (the rest while it adds messages).
    expect(duringRound).toBeGreaterThan(SYNC_KILLS / 2);

    // Both devices finish their rounds: each holds every message once, alike.
    await syncNow(alice);
    const final = await runChild("final", next, null);
    recordAdded(final);
    await syncNow(alice);
    const state = final.states.at(-1)!;
    expectSound(state, "device B at the end");
    expectEachOnce(state.counts, written, "device B at the end");
    expect(unknown(state.counts), "device B at the end: messages nobody wrote").toEqual([]);
    const counts = countsOf(alice.mail);
    expectEachOnce(counts, written, "device A at the end");
    expect(unknown(counts), "device A at the end: messages nobody wrote").toEqual([]);
    fullB = JSON.parse(final.lines.find((line) => line.startsWith("full "))!.slice(5)) as MailboxState[];
    expect(fullB).toEqual(mailState(alice.mail));
    console.info(`sync: ${SYNC_KILLS} kills, ${duringRound} inside a round, ${written.size} messages`);
  }, 240_000);

  it(`loses and doubles nothing when killed ${INCOMING_KILLS} times while fetching and processing incoming mail`, async () => {
    // Only B fetches incoming mail here: A is closed until the end.
    await closeFirstDevice();
    const mx = nodemailer.createTransport({ host: "127.0.0.1", port: provider.mxPort, secure: false, ignoreTLS: true });
    const sent = new Set<string>();
    const db = new Database(path.join(provider.dataDir, DATABASE_FILE), { readonly: true });
    const waiting = () => (db.prepare("SELECT id FROM incoming").all() as { id: string }[]).map((row) => row.id);
    let interrupted = 0;
    try {
      let waitingAtKill: string[] = [];
      let sentAtKill = 0;
      for (let kill = 0; kill < INCOMING_KILLS; kill++) {
        for (let i = 0; i < 2; i++) {
          const id = `<in${kill}-${i}@example.net>`;
          await mx.sendMail({
            envelope: { from: "bob@example.net", to: [ALICE] },
            raw: `From: Bob <bob@example.net>\r\nTo: ${ALICE}\r\nSubject: Incoming ${kill}-${i}\r\nMessage-ID: ${id}\r\n\r\nHello ${kill}-${i}.\r\n`,
          });
          sent.add(id);
        }
        const run = await runChild("incoming", next, Math.floor(Math.random() * MAX_KILL_DELAY_MS));
        expect(run.killed).toBe(true);
        // B's store as the previous kill left it.
        const before = run.states[0]!;
        expectSound(before, `device B after incoming kill ${kill - 1}`);
        expectEachOnce(before.counts, written, `device B after incoming kill ${kill - 1}: earlier mail`);
        // Every message sent before that kill is in B's mailboxes or still
        // waiting (on the provider, or stashed in B's store): never neither.
        const inMail = [...sent].filter((id) => before.counts[id] === 1).length;
        const pending = new Set([...waitingAtKill, ...before.stashed]).size;
        expect(inMail + pending, `after incoming kill ${kill - 1}: ${inMail} stored, ${pending} waiting`).toBeGreaterThanOrEqual(sentAtKill);
        if (pending > 0 && inMail > 0) interrupted++;
        waitingAtKill = waiting();
        sentAtKill = sent.size;
      }
      const final = await runChild("final", next, null);
      recordAdded(final);
      const state = final.states.at(-1)!;
      expectSound(state, "device B at the end");
      expectEachOnce(state.counts, [...written, ...sent], "device B at the end");
      expect(state.stashed).toEqual([]);
      expect(waiting()).toEqual([]);
      // A, opened again, gets all of it through sync.
      await openFirstDevice();
      await syncNow(alice);
      const counts = countsOf(alice.mail);
      expectEachOnce(counts, [...written, ...sent], "device A at the end");
      expect(JSON.parse(final.lines.find((line) => line.startsWith("full "))!.slice(5))).toEqual(mailState(alice.mail));
      console.info(`incoming: ${INCOMING_KILLS} kills, ${sent.size} messages sent, ${interrupted} restarts found mail half-way (some stored, some waiting)`);
    } finally {
      db.close();
      mx.close();
    }
  }, 240_000);
});
