// mbsync (isync) against our IMAP server: a two-way sync of a 500-message
// INBOX with a Maildir, then flag changes and deletes on either side, then a
// sync that must find nothing to do.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ADDRESS, startImap } from "../helpers/imap-server";
import { plainMessage } from "../helpers/messages";
import { addMaildirMessage, maildirSnapshot, readMaildir } from "../helpers/maildir";
import {
  LOCAL_BASE,
  LOCAL_COUNT,
  SERVER_COUNT,
  changeBothSides,
  commandsIn,
  compareSides,
  messageIdFor,
  missedChanges,
  scenarioMessage,
  seedMaildir,
  seedServer,
  serverByMessageId,
  withoutTuid,
} from "../helpers/sync-scenario";
import { tempDir } from "../helpers/temp-store";
import { describeRun, expectSuccess, requireTool, runTool } from "../helpers/tools";

const skipReason = requireTool({ name: "mbsync", install: "apt-get install isync" }, "the mbsync test");
const RUN_TIMEOUT_MS = 40_000;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** Which store is mbsync's far side: the usual setup has the server far and
 * the Maildir near; the other way round exercises the IMAP driver as the
 * side mbsync treats as its replica. Sync is two-way either way. */
type Orientation = { far: "imap" | "maildir"; near: "imap" | "maildir" };
const ORIENTATIONS: Orientation[] = [
  { far: "imap", near: "maildir" },
  { far: "maildir", near: "imap" },
];

function mbsyncrc(port: number, token: string, mail: string, state: string, sides: Orientation): string {
  const store = (side: "imap" | "maildir") => (side === "imap" ? ":bitmask-remote:" : ":bitmask-local:");
  return `# Written by tests/integration/mbsync.test.ts
IMAPAccount bitmask
Host 127.0.0.1
Port ${port}
User ${ADDRESS}
Pass "${token}"
SSLType None
AuthMechs LOGIN
Timeout 20

IMAPStore bitmask-remote
Account bitmask

MaildirStore bitmask-local
Path ${mail}/
Inbox ${mail}/INBOX
SubFolders Verbatim

Channel bitmask
Far ${store(sides.far)}
Near ${store(sides.near)}
Patterns INBOX
Create Both
Expunge Both
SyncState ${state}/
`;
}

/** Our server, and a home folder with a Maildir and an .mbsyncrc for it. */
async function setUp(sides: Orientation) {
  const imap = await startImap();
  cleanup.push(() => imap.stop());
  const temp = tempDir("mbsync-test-");
  cleanup.push(async () => temp.cleanup());
  const home = path.join(temp.dir, "home");
  const mail = path.join(home, "Mail");
  const config = path.join(home, ".mbsyncrc");
  // mbsync keeps its sync state out of the Maildir: "SyncState *" needs a Maildir near side.
  const state = path.join(home, "mbsync-state");
  mkdirSync(state, { recursive: true });
  writeFileSync(config, mbsyncrc(imap.port, imap.token, mail, state, sides), { mode: 0o600 });
  return { imap, home, maildir: path.join(mail, "INBOX"), config };
}

describe.skipIf(skipReason)("mbsync (isync)", () => {
  it.each(ORIENTATIONS)("far $far, near $near: syncs a 500-message INBOX both ways, propagates flags and deletes, then transfers nothing", async (sides) => {
    const { imap, home, maildir, config } = await setUp(sides);

    const inbox = imap.account.requireMailbox("INBOX");
    seedServer(inbox);
    seedMaildir(maildir);

    const env = { PATH: process.env.PATH, HOME: home, LANG: "C.UTF-8" };
    /** One `mbsync -a` with the IMAP transcript on; answers the client's commands. */
    const sync = async (label: string) => {
      const run = expectSuccess(
        await runTool("mbsync", ["-c", config, "-Dn", "-a"], { env, cwd: home, timeoutMs: RUN_TIMEOUT_MS }),
        `mbsync (${label})`,
      );
      const sent = (run.stdout + run.stderr)
        .split(/\r?\n/)
        .map((line) => /^(?:\(\d+ in progress\) )?>>> \d+ (.*)$/.exec(line)?.[1])
        .filter((line): line is string => line !== undefined);
      console.log(`mbsync (far ${sides.far}) ${label}: ${run.ms} ms, ${sent.length} commands`);
      return { run, sent, commands: commandsIn(sent) };
    };

    // 1. First sync: each side gets the other's 250 messages.
    const first = await sync("first sync");
    expect(compareSides(inbox, maildir), describeRun(first.run)).toEqual([]);
    expect(inbox.uids()).toHaveLength(SERVER_COUNT + LOCAL_COUNT);
    expect(readMaildir(maildir)).toHaveLength(SERVER_COUNT + LOCAL_COUNT);
    expect(first.commands.filter((c) => c === "APPEND")).toHaveLength(LOCAL_COUNT);
    // What mbsync uploaded is what the Maildir held, byte for byte, but for
    // the X-TUID header mbsync adds.
    const server = serverByMessageId(inbox);
    for (const n of [LOCAL_BASE + 1, LOCAL_BASE + 100, LOCAL_BASE + LOCAL_COUNT]) {
      expect(withoutTuid(server.get(messageIdFor(n))!.raw).toString("latin1")).toBe(scenarioMessage(n).toString("latin1"));
    }

    // 2. Changes on both sides: each must cross over.
    changeBothSides(inbox, maildir);
    const second = await sync("changes");
    expect(compareSides(inbox, maildir), describeRun(second.run)).toEqual([]);
    expect(missedChanges(inbox, maildir), describeRun(second.run)).toEqual([]);
    // Only the changes moved: no message was transferred again.
    expect(second.commands.filter((c) => c === "APPEND")).toEqual([]);
    expect(second.sent.filter((line) => /BODY(\.PEEK)?\[/i.test(line))).toEqual([]);

    // 3. Nothing changed: the next sync writes nothing on either side.
    const generation = imap.store.generation();
    const modseq = inbox.highestModseq;
    const snapshot = maildirSnapshot(maildir);
    const third = await sync("no changes");
    expect(imap.store.generation()).toBe(generation);
    expect(inbox.highestModseq).toBe(modseq);
    expect(maildirSnapshot(maildir)).toEqual(snapshot);
    const writes = third.sent.filter((line) => /^(UID )?(APPEND|STORE|EXPUNGE|COPY|MOVE)\b|BODY(\.PEEK)?\[/i.test(line));
    expect(writes).toEqual([]);
  }, 120_000);

  // RFC 3501 6.3.11: APPEND "appends the literal argument as a new message".
  // A Maildir that holds the same file twice (an import, a restored backup)
  // must end up as two messages on the server, and stay two. (mbsync adds
  // its X-TUID header to what it uploads, so the server's two copies differ
  // in that line; byte-identical APPENDs are imap-rfc-conformance.test.ts's.)
  it("uploads the same file held twice in the Maildir as two messages, and keeps both", async () => {
    const { imap, home, maildir, config } = await setUp(ORIENTATIONS[0]!);
    const message = plainMessage(42);
    addMaildirMessage(maildir, message, "1700000001.M1P1.testhost");
    addMaildirMessage(maildir, message, "1700000002.M2P1.testhost");

    const env = { PATH: process.env.PATH, HOME: home, LANG: "C.UTF-8" };
    for (const label of ["first sync", "second sync"]) {
      expectSuccess(await runTool("mbsync", ["-c", config, "-a"], { env, cwd: home, timeoutMs: RUN_TIMEOUT_MS }), `mbsync (${label})`);
      const inbox = imap.account.requireMailbox("INBOX");
      expect(inbox.uids(), label).toHaveLength(2);
      for (const uid of inbox.uids()) expect(withoutTuid(inbox.get(uid)!.raw()).equals(message), label).toBe(true);
      expect(readMaildir(maildir), label).toHaveLength(2);
    }
  }, 60_000);
});