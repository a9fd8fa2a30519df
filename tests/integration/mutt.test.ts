// mutt against our IMAP server: open INBOX, open a message's attachments,
// save the attachment, quit; the saved file must equal the original bytes.
//
// mutt has no batch mode for reading mail: it needs a terminal. `script`
// (util-linux) gives it a pseudo-terminal, and `push` feeds the keystrokes.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ADDRESS, startImap } from "../helpers/imap-server";
import { messageWithAttachment, plainMessage } from "../helpers/messages";
import { tempDir } from "../helpers/temp-store";
import { describeRun, requireTool, runTool } from "../helpers/tools";

const skipReason = requireTool(
  [
    { name: "mutt", install: "apt-get install mutt" },
    { name: "script", install: "apt-get install util-linux" },
  ],
  "the mutt test",
);

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

function muttrc(port: number, token: string): string {
  return `# Written by tests/integration/mutt.test.ts
set imap_user="${ADDRESS}"
set imap_pass="${token}"
set folder="imap://127.0.0.1:${port}/"
set spoolfile="+INBOX"
set ssl_starttls=no
set ssl_force_tls=no
set header_cache=""
set message_cachedir=""
set sort=mailbox-order
set quit=yes
set wait_key=no
set confirmcreate=no
set mail_check_stats=no
`;
}

describe.skipIf(skipReason)("mutt", () => {
  it("fetches a message over IMAP and saves its attachment identical to the original", async () => {
    const imap = await startImap();
    cleanup.push(() => imap.stop());
    const temp = tempDir("mutt-test-");
    cleanup.push(async () => temp.cleanup());
    const home = path.join(temp.dir, "home");
    mkdirSync(home, { recursive: true });
    const config = path.join(home, ".muttrc");
    writeFileSync(config, muttrc(imap.port, imap.token), { mode: 0o600 });

    const attachment = randomBytes(150_000);
    const inbox = imap.account.requireMailbox("INBOX");
    inbox.add(plainMessage(1));
    inbox.add(messageWithAttachment(2, attachment, "report.pdf"));
    const saved = path.join(temp.dir, "saved-report.pdf");

    // In mailbox order the message with the attachment is the last one (the
    // highest UID); its attachment is the last entry of the attachment menu.
    const keys = `<last-entry><view-attachments><last-entry><save-entry><kill-line>${saved}<enter><exit><quit>`;
    const mutt = `mutt -n -F ${config} -d 2 -e 'push "${keys}"'`;
    const run = await runTool("script", ["-q", "-e", "-c", mutt, "/dev/null"], {
      env: { PATH: process.env.PATH, HOME: home, TERM: "xterm", LANG: "C.UTF-8", COLUMNS: "100", LINES: "30" },
      cwd: home,
      timeoutMs: 30_000,
    });
    // mutt's debug log (-d 2) holds the IMAP transcript.
    const debugLog = path.join(home, ".muttdebug0");
    const transcript = existsSync(debugLog) ? readFileSync(debugLog, "latin1").slice(-8000) : "(no ~/.muttdebug0)";
    const why = `${describeRun(run)}\n--- ~/.muttdebug0 ---\n${transcript}`;
    expect(run.code, why).toBe(0);
    expect(existsSync(saved), why).toBe(true);
    expect(readFileSync(saved).equals(attachment), why).toBe(true);
    console.log(`mutt: ${run.ms} ms`);
  }, 60_000);
});
