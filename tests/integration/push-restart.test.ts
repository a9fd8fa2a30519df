// The push channel when the provider goes away. A restart: the daemons'
// streams break, they reconnect by themselves (jittered backoff), and mail
// the MX took meanwhile reaches an IDLE client without any round asked for.
// Gone for good: the stream stays down, the periodic round keeps trying (and
// says so once), and a message stored locally meanwhile is neither lost nor
// forgotten: it reaches the provider when the provider is back.
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UnlockedAccount } from "../../native-host/daemon/daemon";
import { logInAccount, signUpAccount, startTestDaemon, syncNow, type TestDaemon } from "../helpers/daemon";
import { eventually } from "../helpers/provider";
import { RawImap } from "../helpers/raw-imap";
import { type RestartableProvider, startRestartableProvider } from "../helpers/restartable-provider";
import { describeRun, requireTool, runTool } from "../helpers/tools";

const ALICE = "alice@example.org";
const PASSPHRASE = "correct horse battery staple";

const swaksMissing = requireTool({ name: "swaks", install: "apt-get install swaks" }, "mail sent while the provider restarted");

/** Round outcomes the daemon logged, in order. */
const rounds: boolean[] = [];
const roundLog = pino(
  { level: "info" },
  {
    write(line: string) {
      const entry = JSON.parse(line) as { event?: string; ok?: boolean };
      if (entry.event === "round") rounds.push(entry.ok === true);
    },
  },
);

let provider: RestartableProvider;
let device: TestDaemon;
let alice: UnlockedAccount;

beforeAll(async () => {
  provider = await startRestartableProvider();
  // The periodic round once an hour: only events (and failures' retries) start rounds.
  device = await startTestDaemon({ push: true, localChangeDelayMs: 100, log: roundLog });
  alice = await signUpAccount(device.daemon, provider, ALICE, PASSPHRASE);
  await syncNow(alice);
  await pushUp(alice);
}, 60_000);

afterAll(async () => {
  await device?.stop();
  await provider?.stop();
});

function pushUp(account: UnlockedAccount): Promise<true> {
  return eventually(async () => (account.sync!.status().push === "up" ? true : undefined), 15_000, "the event stream up");
}

async function loggedIn(account: UnlockedAccount): Promise<RawImap> {
  const raw = await RawImap.connect(device.daemon.imapPort);
  expect(await raw.command("l", `LOGIN "${account.address}" "${account.tokens.current()}"`)).toMatch(/l OK/);
  return raw;
}

describe("the provider restarts while the daemon listens", () => {
  it.skipIf(swaksMissing)("the stream comes back by itself and mail sent meanwhile reaches the IDLE client", async () => {
    const idle = await loggedIn(alice);
    try {
      expect(await idle.command("s", "SELECT INBOX")).toMatch(/\* 0 EXISTS/);
      idle.write("i IDLE\r\n");
      await idle.readUntil((text) => text.includes("+ "));
      await provider.halt();
      await eventually(async () => (alice.sync!.status().push === "down" ? true : undefined), 10_000, "the stream seen down");
      await provider.start();
      // At once: the daemon is still waiting to reconnect.
      const sent = await runTool(
        "swaks",
        ["--server", "127.0.0.1", "--port", String(provider.mxPort), "--from", "sender@example.net", "--to", ALICE,
          "--header", "Subject: during the restart", "--body", "sent while the daemon was not listening"],
        { timeoutMs: 20_000 },
      );
      expect(sent.code, describeRun(sent)).toBe(0);
      expect(await idle.readUntil((text) => /\* \d+ EXISTS/.test(text), 20_000)).toMatch(/\* 1 EXISTS\r\n/);
      expect(alice.sync!.status().push).toBe("up");
    } finally {
      idle.close();
    }
  });
});

describe("the provider gone for good", () => {
  it("the stream stays down, rounds keep trying, and a message stored meanwhile waits to go out", async () => {
    await pushUp(alice);
    await provider.halt();
    const before = rounds.length;
    const raw = await loggedIn(alice);
    const message = "From: a@example.org\r\nSubject: kept\r\nMessage-ID: <kept@example.org>\r\n\r\nkept while the provider is gone\r\n";
    try {
      expect(await raw.command("a", `APPEND INBOX {${message.length}+}\r\n${message}`)).toMatch(/a OK/);
    } finally {
      raw.close();
    }
    // The local change's round fails, and the retry after the backoff too.
    await eventually(async () => (rounds.slice(before).filter((ok) => !ok).length >= 2 ? true : undefined), 20_000, "two failed rounds");
    expect(rounds.slice(before)).not.toContain(true);
    const status = alice.sync!.status();
    expect(status.state).toBe("error");
    expect(status.push).not.toBe("up");
    // Said once, not at every retry.
    const unreachable = alice.errors.filter((error) => error.source === "sync" && /unreachable/.test(error.message));
    expect(unreachable).toHaveLength(1);
    expect(alice.mail.requireMailbox("INBOX").byMessageId("<kept@example.org>")).toHaveLength(1);

    // Back: the stream's catch-up round pushes the kept message, which a second device then finds.
    await provider.start();
    await pushUp(alice);
    const second = await startTestDaemon();
    try {
      const aliceOnSecond = await logInAccount(second.daemon, provider, ALICE, PASSPHRASE);
      await eventually(
        async () => {
          await syncNow(aliceOnSecond);
          return aliceOnSecond.mail.requireMailbox("INBOX").byMessageId("<kept@example.org>").length === 1 ? true : undefined;
        },
        20_000,
        "the kept message on a second device",
      );
    } finally {
      await second.stop();
    }
  }, 90_000);
});
