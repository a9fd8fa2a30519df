// Rounds that move only what changed: the round after a push downloads
// none of the documents the device just pushed; the loop's own writes
// (pulled documents, incoming mail it stored and pushed) start no further
// round; incoming mail leaves the provider with one delete request per page.
import path from "node:path";
import Database from "better-sqlite3-multiple-ciphers";
import nodemailer from "nodemailer";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UnlockedAccount } from "../../native-host/daemon/daemon";
import { INCOMING_PAGE_SIZE } from "../../native-host/limits";
import { DATABASE_FILE } from "../../provider/storage/database";
import { signUpAccount, startTestDaemon, syncNow, type TestDaemon } from "../helpers/daemon";
import { plainMessage } from "../helpers/messages";
import { eventually } from "../helpers/provider";
import { type RestartableProvider, startRestartableProvider } from "../helpers/restartable-provider";

const ALICE = "alice@example.org";
const PASSPHRASE = "correct horse battery staple";

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
/** Requests the provider answered, as "METHOD route status". */
const requests: string[] = [];

beforeAll(async () => {
  provider = await startRestartableProvider();
  provider.onRequest = (route, status) => requests.push(`${route} ${status}`);
  device = await startTestDaemon({ push: true, localChangeDelayMs: 100, log: roundLog });
  alice = await signUpAccount(device.daemon, provider, ALICE, PASSPHRASE);
  await syncNow(alice);
  await eventually(async () => (alice.sync!.status().push === "up" ? true : undefined), 10_000, "the event stream up");
}, 60_000);

afterAll(async () => {
  await device?.stop();
  await provider?.stop();
});

function providerGeneration(): number {
  const sql = new Database(path.join(provider.dataDir, DATABASE_FILE), { readonly: true });
  try {
    return sql.prepare<[string], { generation: number }>("SELECT generation FROM users WHERE username = ?").get("alice")!.generation;
  } finally {
    sql.close();
  }
}

const pulledGeneration = (account: UnlockedAccount) =>
  account.store.sql.prepare<[], { value: number }>("SELECT value FROM sync_state WHERE key = 'pulled'").get()?.value ?? 0;

async function sendToMx(n: number): Promise<void> {
  const transport = nodemailer.createTransport({ host: "127.0.0.1", port: provider.mxPort, secure: false, ignoreTLS: true });
  try {
    await transport.sendMail({ envelope: { from: "bob@example.net", to: [ALICE] }, raw: plainMessage(n) });
  } finally {
    transport.close();
  }
}

/** Waits until no round has started for `quietMs`. */
async function settled(quietMs = 1000): Promise<void> {
  let seen = -1;
  await eventually(
    async () => {
      if (rounds.length === seen && alice.sync!.status().state !== "syncing") return true;
      seen = rounds.length;
      await new Promise((resolve) => setTimeout(resolve, quietMs));
      return undefined;
    },
    30_000,
    "the loop to settle",
  );
}

describe("rounds that move only what changed", () => {
  it("after pushing 450 messages' documents, the pull stands where the provider's log ends: the next round downloads none of them", async () => {
    const inbox = alice.mail.requireMailbox("Archive");
    for (let n = 1; n <= 450; n++) inbox.add(plainMessage(1000 + n));
    await syncNow(alice);
    await settled();
    expect(providerGeneration()).toBeGreaterThan(450 * 3);
    expect(pulledGeneration(alice)).toBe(providerGeneration());
  });

  it("mail from the MX makes one round: the loop's own writes (stash, INBOX, its push) start no other", async () => {
    await settled();
    const before = rounds.length;
    await sendToMx(1);
    const inbox = alice.mail.requireMailbox("INBOX");
    await eventually(async () => (inbox.byMessageId("<msg1@example.org>").length === 1 ? true : undefined), 10_000, "the message in INBOX");
    await settled();
    expect(rounds.slice(before)).toEqual([true]);
    expect(pulledGeneration(alice)).toBe(providerGeneration());
  });

  it(`deletes a page of ${INCOMING_PAGE_SIZE} fetched messages from the provider in one request`, async () => {
    // Offline, the daemon neither listens nor fetches: the MX takes a page and two more.
    device.daemon.setOffline(true);
    for (let n = 0; n < INCOMING_PAGE_SIZE + 2; n++) await sendToMx(100 + n);
    await settled();
    requests.length = 0;
    device.daemon.setOffline(false);
    requests.length = 0;
    const inbox = alice.mail.requireMailbox("INBOX");
    await eventually(async () => (inbox.byMessageId(`<msg${100 + INCOMING_PAGE_SIZE + 1}@example.org>`).length === 1 ? true : undefined), 20_000, "the page in INBOX");
    await settled();
    expect(requests.filter((line) => line.startsWith("DELETE"))).toEqual([]);
    expect(requests.filter((line) => line.includes("incoming\\/delete"))).toEqual(["POST ^\\/incoming\\/delete$ 204", "POST ^\\/incoming\\/delete$ 204"]);
  });
});
