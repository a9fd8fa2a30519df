// offlineimap (offlineimap3) against our IMAP server: a two-way sync of a
// 500-message INBOX with a Maildir, then flag changes and deletes on either
// side, then a sync that must find nothing to do.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ADDRESS, startImap } from "../helpers/imap-server";
import { maildirSnapshot, readMaildir } from "../helpers/maildir";
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
} from "../helpers/sync-scenario";
import { tempDir } from "../helpers/temp-store";
import { describeRun, expectSuccess, requireTool, runTool } from "../helpers/tools";

const skipReason = requireTool({ name: "offlineimap", install: "apt-get install offlineimap3" }, "the offlineimap test");
const RUN_TIMEOUT_MS = 40_000;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

function offlineimaprc(port: number, token: string, home: string, mail: string): string {
  return `# Written by tests/integration/offlineimap.test.ts
[general]
accounts = bitmask
metadata = ${home}/offlineimap-metadata
ui = basic
maxsyncaccounts = 1

[Account bitmask]
localrepository = bitmask-local
remoterepository = bitmask-remote

[Repository bitmask-local]
type = Maildir
localfolders = ${mail}

[Repository bitmask-remote]
type = IMAP
remotehost = 127.0.0.1
remoteport = ${port}
remoteuser = ${ADDRESS}
remotepass = ${token}
ssl = no
starttls = no
timeout = 20
folderfilter = lambda folder: folder == "INBOX"
`;
}

describe.skipIf(skipReason)("offlineimap (offlineimap3)", () => {
  it("syncs a 500-message INBOX both ways, propagates flags and deletes, then transfers nothing", async () => {
    const imap = await startImap();
    cleanup.push(() => imap.stop());
    const temp = tempDir("offlineimap-test-");
    cleanup.push(async () => temp.cleanup());
    const home = path.join(temp.dir, "home");
    const mail = path.join(home, "Mail");
    const maildir = path.join(mail, "INBOX");
    mkdirSync(home, { recursive: true });
    const config = path.join(home, ".offlineimaprc");
    writeFileSync(config, offlineimaprc(imap.port, imap.token, home, mail), { mode: 0o600 });

    const inbox = imap.account.requireMailbox("INBOX");
    seedServer(inbox);
    seedMaildir(maildir);

    const env = { PATH: process.env.PATH, HOME: home, LANG: "C.UTF-8" };
    /** One offlineimap run with the IMAP transcript on; answers the client's commands. */
    const sync = async (label: string) => {
      const run = expectSuccess(
        await runTool("offlineimap", ["-c", config, "-o", "-d", "imap"], { env, cwd: home, timeoutMs: RUN_TIMEOUT_MS }),
        `offlineimap (${label})`,
      );
      // imaplib2 logs each line it writes as: writer > b'TAG COMMAND ...\r\n'
      const sent = (run.stdout + run.stderr)
        .split(/\r?\n/)
        .map((line) => /writer > b'[A-Z]+\d+ (.*?)(?:\\r\\n)?'$/.exec(line)?.[1])
        .filter((line): line is string => line !== undefined);
      // offlineimap exits 0 even when a folder failed to sync: it says so in ERROR lines.
      const errors = (run.stdout + run.stderr).split(/\r?\n/).filter((line) => /^\s*ERROR:|Traceback/.test(line));
      expect(errors, describeRun(run)).toEqual([]);
      console.log(`offlineimap ${label}: ${run.ms} ms, ${sent.length} commands`);
      return { run, sent, commands: commandsIn(sent) };
    };

    // 1. First sync: each side gets the other's 250 messages.
    const first = await sync("first sync");
    expect(compareSides(inbox, maildir), describeRun(first.run)).toEqual([]);
    expect(inbox.uids()).toHaveLength(SERVER_COUNT + LOCAL_COUNT);
    expect(readMaildir(maildir)).toHaveLength(SERVER_COUNT + LOCAL_COUNT);
    expect(first.commands.filter((c) => c === "APPEND")).toHaveLength(LOCAL_COUNT);
    // What offlineimap uploaded is what the Maildir held, byte for byte.
    const server = serverByMessageId(inbox);
    for (const n of [LOCAL_BASE + 1, LOCAL_BASE + 100, LOCAL_BASE + LOCAL_COUNT]) {
      expect(server.get(messageIdFor(n))!.raw.toString("latin1")).toBe(scenarioMessage(n).toString("latin1"));
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
});
