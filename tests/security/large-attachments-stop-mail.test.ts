// The attack: an outside sender mails two 15 MB attachments through the MX
// (each message under its 25 MB limit). Once they were in INBOX, every push
// went over the provider's 64 MiB body limit (413), and the round stopped
// before fetching incoming mail, so no later mail ever arrived; IMAP
// APPENDs of 60 x 2 MB did the same. Now pushes are batched by bytes (and
// smaller after a 413), big leaves are stored as chunks so no document
// comes near the limit, and a failing sync and a failing incoming queue no
// longer keep the other half of the round from working.
//
// Scaled down by eight: the provider takes pushes of 8 MiB instead of 64,
// and the mail is two 4 MB attachments and 3 APPENDs of 2 MB (encrypting
// 30 MB at the MX and sealing it takes minutes on a busy two-core machine).
// The proportions hold: each attachment alone, sealed whole, was over the
// limit, and so were the APPENDs pushed together.
import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import Database from "better-sqlite3-multiple-ciphers";
import { ImapFlow } from "imapflow";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UnlockedAccount } from "../../native-host/daemon/daemon";
import { CONTENT_CHUNK_BYTES } from "../../native-host/limits";
import { DATABASE_FILE } from "../../provider/storage/database";
import { inboxOverImap, logInAccount, signUpAccount, startTestDaemon, startTlsProvider, syncNow, type TestDaemon, type TlsProvider } from "../helpers/daemon";
import { plainMessage } from "../helpers/messages";

const ALICE = "alice@example.org";
const PASSPHRASE = "correct horse battery staple";
const MiB = 1024 * 1024;
const PROVIDER_PUSH_LIMIT = 8 * MiB;

/** Mails alice through the provider's MX from outside, with `attachment` if given. */
async function mailFromOutside(provider: TlsProvider, subject: string, attachment?: Buffer): Promise<void> {
  const transport = nodemailer.createTransport({ host: "127.0.0.1", port: provider.mxPort, secure: false, tls: { ca: provider.ca } });
  try {
    await transport.sendMail({
      from: "mallory@outside.example",
      to: ALICE,
      subject,
      text: `${subject}\n`,
      attachments: attachment ? [{ filename: "big.bin", content: attachment }] : [],
    });
  } finally {
    transport.close();
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function subjects(sources: string[]): (string | undefined)[] {
  return sources.map((source) => /^Subject: (.*)\r$/m.exec(source)?.[1]);
}

/** The decoded attachment of a message read over IMAP. */
function attachmentOf(source: string): Buffer {
  const part = source.split('filename=big.bin')[1] ?? source.split('filename="big.bin"')[1];
  if (!part) throw new Error("no attachment in the message");
  const base64 = part.slice(part.indexOf("\r\n\r\n") + 4).split("\r\n--")[0]!;
  return Buffer.from(base64.replace(/\s+/g, ""), "base64");
}

/** The hashes of the attachments among `sources`, sorted. */
function received(sources: string[]): string[] {
  return sources.filter((source) => source.includes("big.bin")).map((source) => sha256(attachmentOf(source))).sort();
}

/** The provider's own view of one user's documents. */
function providerDocs(provider: TlsProvider): { largest: number; generation: number } {
  const db = new Database(path.join(provider.dataDir, DATABASE_FILE), { readonly: true });
  try {
    const { largest } = db.prepare("SELECT max(length(data)) AS largest FROM docs").get() as { largest: number };
    const { generation } = db.prepare("SELECT generation FROM users WHERE username = 'alice'").get() as { generation: number };
    return { largest, generation };
  } finally {
    db.close();
  }
}

/** A provider taking pushes up to `maxPushBytes`, and alice signed up there from a daemon, synced once. */
async function aliceAtProvider(maxPushBytes: number): Promise<{ provider: TlsProvider; device: TestDaemon; alice: UnlockedAccount }> {
  const provider = await startTlsProvider({ limits: { maxPushBytes } });
  const device = await startTestDaemon();
  const alice = await signUpAccount(device.daemon, provider, ALICE, PASSPHRASE);
  await syncNow(alice);
  return { provider, device, alice };
}

describe("big attachments through the MX, and big APPENDs", () => {
  let provider: TlsProvider;
  let device: TestDaemon;
  let second: TestDaemon;
  let alice: UnlockedAccount;
  const attachments = [randomBytes(4_000_000), randomBytes(4_000_000)];
  const sent = attachments.map(sha256).sort();

  beforeAll(async () => {
    ({ provider, device, alice } = await aliceAtProvider(PROVIDER_PUSH_LIMIT));
  }, 120_000);

  afterAll(async () => {
    await second?.stop();
    await device?.stop();
    await provider?.stop();
  });

  it("are pushed in batches under the provider's limit, and mail after them still arrives", async () => {
    await mailFromOutside(provider, "first attachment", attachments[0]);
    await mailFromOutside(provider, "second attachment", attachments[1]);
    await syncNow(alice);
    expect(alice.errors).toEqual([]);
    // Each leaf went as chunks: no document on the provider is bigger than a sealed chunk.
    expect(providerDocs(provider).largest).toBeLessThan(1.5 * CONTENT_CHUNK_BYTES);

    await mailFromOutside(provider, "a small one after them");
    await syncNow(alice);
    const inbox = await inboxOverImap(device.daemon, alice);
    expect(subjects(inbox).sort()).toEqual(["a small one after them", "first attachment", "second attachment"]);
    expect(received(inbox)).toEqual(sent);
  }, 300_000);

  it("APPENDs of 2 MB messages over IMAP are all pushed", async () => {
    const client = new ImapFlow({ host: "127.0.0.1", port: device.daemon.imapPort, secure: false, auth: { user: ALICE, pass: alice.tokens.current() }, logger: false });
    await client.connect();
    try {
      for (let n = 1; n <= 3; n++) await client.append("INBOX", plainMessage(100 + n, randomBytes(1_500_000).toString("base64").replace(/.{76}/g, "$&\r\n")));
    } finally {
      await client.logout();
    }
    const before = providerDocs(provider).generation;
    await syncNow(alice);
    expect(alice.errors).toEqual([]);
    // Each message is at least a header, a content, a flags and a meta document.
    expect(providerDocs(provider).generation - before).toBeGreaterThanOrEqual(3 * 4);
  }, 300_000);

  it("reach a second device whole, put together from their chunks", async () => {
    second = await startTestDaemon();
    const again = await logInAccount(second.daemon, provider, ALICE, PASSPHRASE);
    await syncNow(again);
    const inbox = await inboxOverImap(second.daemon, again);
    expect(inbox).toHaveLength(6);
    expect(inbox).toEqual(await inboxOverImap(device.daemon, alice));
    expect(received(inbox)).toEqual(sent);
  }, 300_000);
});

describe("a sync the provider refuses, and an incoming queue that fails", () => {
  let provider: TlsProvider;
  let device: TestDaemon;
  let alice: UnlockedAccount;

  beforeAll(async () => {
    // Smaller than one sealed chunk: a big local message can never be pushed here.
    ({ provider, device, alice } = await aliceAtProvider(1 * MiB));
  }, 120_000);

  afterAll(async () => {
    await device?.stop();
    await provider?.stop();
  });

  it("a push refused at every round does not keep incoming mail out of INBOX", async () => {
    alice.mail.requireMailbox("INBOX").add(plainMessage(1, randomBytes(1_200_000).toString("base64")));
    await mailFromOutside(provider, "mail while the sync fails");
    const status = await alice.sync!.syncNow(() => {});
    expect(status.state).toBe("error");
    expect(alice.errors.map((error) => error.message).join("\n")).toMatch(/413/);
    expect(subjects(await inboxOverImap(device.daemon, alice))).toContain("mail while the sync fails");
  }, 120_000);

  it("an incoming queue the daemon cannot read does not keep local changes from the provider", async () => {
    const inbox = alice.mail.requireMailbox("INBOX");
    const [big] = inbox.byMessageId("<msg1@example.org>");
    inbox.updateFlags([big!.uid], "add", ["\\Deleted"]);
    inbox.expunge();
    await syncNow(alice);
    // The provider's queue now holds a document whose id breaks the API's schema.
    const db = new Database(path.join(provider.dataDir, DATABASE_FILE));
    try {
      const { id } = db.prepare("SELECT id FROM users WHERE username = 'alice'").get() as { id: number };
      db.prepare("INSERT INTO incoming (user_id, id, data, received_at) VALUES (?, 'not an id!', ?, ?)").run(id, Buffer.from("junk"), Date.now());
    } finally {
      db.close();
    }
    const before = providerDocs(provider).generation;
    alice.mail.createMailbox("Pushed anyway");
    const status = await alice.sync!.syncNow(() => {});
    expect(status.state).toBe("error");
    expect(alice.errors.at(-1)!.message).toMatch(/incoming/);
    expect(providerDocs(provider).generation).toBeGreaterThan(before);
  }, 120_000);
});
