// The push channel end to end: the provider's event stream makes a daemon
// fetch mail, and another device's changes, within moments. Every daemon
// here has its periodic round disabled (once an hour), so only an event can
// have brought what an IDLE client sees.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UnlockedAccount } from "../../native-host/daemon/daemon";
import { logInAccount, signUpAccount, startTestDaemon, startTlsProvider, syncNow, type TestDaemon, type TlsProvider } from "../helpers/daemon";
import { eventually } from "../helpers/provider";
import { RawImap } from "../helpers/raw-imap";
import { describeRun, requireTool, runTool } from "../helpers/tools";

const ALICE = "alice@example.org";
const PASSPHRASE = "correct horse battery staple";
/** Local changes go out this soon by themselves (the loop's own timer, no syncNow). */
const LOCAL_CHANGE_DELAY_MS = 100;

const swaksMissing = requireTool({ name: "swaks", install: "apt-get install swaks" }, "mail pushed to an IDLE client");

let provider: TlsProvider;
let deviceA: TestDaemon;
let deviceB: TestDaemon;
let alice: UnlockedAccount;
let aliceOnB: UnlockedAccount;

beforeAll(async () => {
  provider = await startTlsProvider();
  deviceA = await startTestDaemon({ push: true, localChangeDelayMs: LOCAL_CHANGE_DELAY_MS });
  deviceB = await startTestDaemon({ push: true, localChangeDelayMs: LOCAL_CHANGE_DELAY_MS });
  alice = await signUpAccount(deviceA.daemon, provider, ALICE, PASSPHRASE);
  await syncNow(alice); // makes and publishes alice's key
  aliceOnB = await logInAccount(deviceB.daemon, provider, ALICE, PASSPHRASE);
  await syncNow(aliceOnB);
  for (const account of [alice, aliceOnB]) {
    await eventually(async () => (account.sync!.status().push === "up" ? true : undefined), 10_000, `${account.address}'s event stream`);
  }
}, 60_000);

afterAll(async () => {
  await deviceA?.stop();
  await deviceB?.stop();
  await provider?.stop();
});

/** An IMAP client on `daemon`, logged in as the account, idling in INBOX. */
async function idleInInbox(daemon: TestDaemon, account: UnlockedAccount): Promise<RawImap> {
  const raw = await RawImap.connect(daemon.daemon.imapPort);
  expect(await raw.command("l", `LOGIN "${account.address}" "${account.tokens.current()}"`)).toMatch(/l OK/);
  expect(await raw.command("s", "SELECT INBOX")).toMatch(/s OK/);
  raw.write("i IDLE\r\n");
  await raw.readUntil((text) => text.includes("+ "));
  return raw;
}

async function swaksToMx(subject: string): Promise<void> {
  const sent = await runTool(
    "swaks",
    ["--server", "127.0.0.1", "--port", String(provider.mxPort), "--from", "sender@example.net", "--to", ALICE,
      "--header", `Subject: ${subject}`, "--body", `${subject}: pushed, not polled`],
    { timeoutMs: 20_000 },
  );
  expect(sent.code, describeRun(sent)).toBe(0);
}

describe("the provider pushes, the daemon listens", () => {
  it.skipIf(swaksMissing)("mail swaks hands to the MX reaches an IDLE client as * n EXISTS, with no round asked for", async () => {
    const idle = await idleInInbox(deviceA, alice);
    try {
      await swaksToMx("push one");
      expect(await idle.readUntil((text) => /\* \d+ EXISTS/.test(text), 10_000)).toMatch(/\* 1 EXISTS\r\n/);
      await swaksToMx("push two");
      expect(await idle.readUntil((text) => /\* \d+ EXISTS/.test(text), 10_000)).toMatch(/\* 2 EXISTS\r\n/);
    } finally {
      idle.close();
    }
  });
});

describe("another device's change, pushed", () => {
  it("a flag set on device A reaches an IDLE client on device B as * n FETCH", async () => {
    const onA = await RawImap.connect(deviceA.daemon.imapPort);
    try {
      expect(await onA.command("l", `LOGIN "${ALICE}" "${alice.tokens.current()}"`)).toMatch(/l OK/);
      const message = "From: a@example.org\r\nSubject: flag me\r\nMessage-ID: <flag-me@example.org>\r\n\r\nflag me\r\n";
      expect(await onA.command("a", `APPEND INBOX {${message.length}+}\r\n${message}`)).toMatch(/a OK/);
      // B learns of A's message by the same stream: no round is asked for.
      const inboxOnB = aliceOnB.mail.requireMailbox("INBOX");
      await eventually(async () => (inboxOnB.byMessageId("<flag-me@example.org>").length > 0 ? true : undefined), 10_000, "A's message on B");
      const idle = await idleInInbox(deviceB, aliceOnB);
      try {
        expect(await onA.command("s", "SELECT INBOX")).toMatch(/s OK/);
        const uid = /\* SEARCH (\d+)/.exec(await onA.command("u", `UID SEARCH HEADER Message-ID "<flag-me@example.org>"`))![1];
        expect(await onA.command("t", `UID STORE ${uid} +FLAGS (\\Flagged)`)).toMatch(/t OK/);
        expect(await idle.readUntil((text) => /FETCH \([^)]*FLAGS \([^)]*\\Flagged/.test(text), 10_000)).toMatch(/\* \d+ FETCH \(.*\\Flagged/);
      } finally {
        idle.close();
      }
    } finally {
      onA.close();
    }
  });
});
