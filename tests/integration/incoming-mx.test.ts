// Incoming mail end to end: mail handed to the provider's MX (swaks, and
// nodemailer as the sending MTA) is stored there encrypted to alice's key;
// one round of alice's daemon fetches it, opens it and stores it in INBOX,
// where an IMAP client (imapflow) reads it with LEAP's X-Leap-* headers.
// PGP/MIME and inline PGP from bob are decrypted and verified against the key
// his Autocrypt header taught. The provider never holds a plaintext byte. A
// message the daemon cannot open (envelope for another key, tampered
// envelope, broken PGP/MIME) is kept in INBOX as a notice and reported.
import path from "node:path";
import Database from "better-sqlite3-multiple-ciphers";
import nodemailer from "nodemailer";
import * as openpgp from "openpgp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UnlockedAccount } from "../../native-host/daemon/daemon";
import { formatAutocryptHeader } from "../../native-host/keys/autocrypt";
import type { OwnKey } from "../../native-host/keys/keymanager-api";
import { minimalKeyFor } from "../../native-host/keys/openpgp-keys";
import { signAndEncryptMessage } from "../../native-host/pgp/build";
import { encryptMail } from "../../provider/keys/public-key";
import { DATABASE_FILE } from "../../provider/storage/database";
import { IncomingStore } from "../../provider/storage/incoming-store";
import { Usage } from "../../provider/storage/usage";
import { inboxOverImap, signUpAccount, startTestDaemon, startTlsProvider, syncNow, type TestDaemon, type TlsProvider } from "../helpers/daemon";
import { generateKeyPair } from "../helpers/pgp-keys";
import { describeRun, requireTool, runTool } from "../helpers/tools";
import { filesContaining } from "../helpers/byte-scan";

const ALICE = "alice@example.org";
const BOB = "bob@example.net";
/** Each message carries its own marker; none may reach the provider's disk. */
const MARKERS = {
  swaks: "ZQXJ-SWAKS-PLAINTEXT-4411",
  pgpMime: "ZQXJ-PGPMIME-PLAINTEXT-4412",
  pgpMimeSubject: "ZQXJ-PGPMIME-SUBJECT-4413",
  inline: "ZQXJ-INLINE-PLAINTEXT-4414",
  tampered: "ZQXJ-TAMPERED-PLAINTEXT-4415",
  broken: "ZQXJ-BROKEN-PLAINTEXT-4416",
};

const swaksMissing = requireTool({ name: "swaks", install: "apt-get install swaks" }, "incoming mail sent with swaks");

let provider: TlsProvider;
let device: TestDaemon;
let alice: UnlockedAccount;
let bob: OwnKey;
let alicePublicKey: openpgp.PublicKey;
let bobAutocrypt: string;
/** Each message sent gets a later Date, so every Autocrypt header counts. */
let clock = Date.now() - 60 * 60 * 1000;

beforeAll(async () => {
  provider = await startTlsProvider();
  device = await startTestDaemon();
  alice = await signUpAccount(device.daemon, provider, ALICE, "correct horse battery staple");
  await syncNow(alice); // makes and publishes alice's key
  alicePublicKey = await openpgp.readKey({ armoredKey: await alice.keys!.exportPublic() });
  bob = await generateKeyPair(BOB);
  bobAutocrypt = formatAutocryptHeader(BOB, await minimalKeyFor(bob.publicKey, BOB), "mutual");
}, 60_000);

afterAll(async () => {
  await device?.stop();
  await provider?.stop();
});

function nextDate(): string {
  clock += 60_000;
  return new Date(clock).toUTCString().replace("GMT", "+0000");
}

/** Hands a message to the provider's MX as another MTA would (plain SMTP on loopback). */
async function sendToMx(raw: Buffer, from = BOB): Promise<void> {
  const transport = nodemailer.createTransport({ host: "127.0.0.1", port: provider.mxPort, secure: false, ignoreTLS: true });
  try {
    await transport.sendMail({ envelope: { from, to: [ALICE] }, raw });
  } finally {
    transport.close();
  }
}

/** Every message in alice's INBOX, read over IMAP as a mail client would. */
function inbox(): Promise<string[]> {
  return inboxOverImap(device.daemon, alice);
}

/** One round, then the INBOX messages that contain `needle`, which must be one. */
async function afterRound(needle: string): Promise<string> {
  await syncNow(alice);
  const found = (await inbox()).filter((source) => source.includes(needle));
  expect(found, `messages with ${needle}`).toHaveLength(1);
  return found[0]!;
}

const headerOf = (source: string) => source.slice(0, source.search(/\r?\n\r?\n/) + 2);

/** The provider's database, opened beside the running provider (WAL allows it). */
function providerDatabase() {
  const sql = new Database(path.join(provider.dataDir, DATABASE_FILE));
  const userId = sql.prepare<[string], { id: number }>("SELECT id FROM users WHERE username = ?").get("alice")!.id;
  return { sql, userId };
}

function incomingCount(): number {
  const { sql, userId } = providerDatabase();
  try {
    return sql.prepare<[number], { n: number }>("SELECT count(*) AS n FROM incoming WHERE user_id = ?").get(userId)!.n;
  } finally {
    sql.close();
  }
}

describe("incoming mail through the provider's MX", () => {
  it.skipIf(swaksMissing)("stores what swaks sent, decrypted from the MX envelope, with X-Leap-Signature", async () => {
    const sent = await runTool(
      "swaks",
      ["--server", "127.0.0.1", "--port", String(provider.mxPort), "--from", "sender@example.net", "--to", ALICE,
        "--header", "Subject: hello from swaks", "--body", `${MARKERS.swaks} in the body`],
      { timeoutMs: 20_000 },
    );
    expect(sent.code, describeRun(sent)).toBe(0);
    expect(incomingCount()).toBe(1);
    const source = await afterRound(MARKERS.swaks);
    const header = headerOf(source);
    expect(header).toMatch(/^X-Leap-Signature: could not verify\r\n/);
    expect(header).not.toContain("X-Leap-Encryption");
    expect(header).toContain("Subject: hello from swaks\r\n");
    expect(incomingCount()).toBe(0);
  });

  it("decrypts and verifies signed+encrypted PGP/MIME from bob, whose key his Autocrypt header gave", async () => {
    const message = Buffer.from(
      `From: Bob <${BOB}>\r\nTo: ${ALICE}\r\nSubject: ${MARKERS.pgpMimeSubject}\r\nDate: ${nextDate()}\r\nMessage-ID: <pgpmime@example.net>\r\n` +
        `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${MARKERS.pgpMime}: the meeting is at noon.\r\n`,
    );
    const encrypted = await signAndEncryptMessage(message, bob.privateKey, [alicePublicKey]);
    expect(encrypted.toString("latin1")).not.toContain(MARKERS.pgpMime);
    await sendToMx(Buffer.concat([Buffer.from(`Autocrypt: ${bobAutocrypt}\r\n`), encrypted]));
    const source = await afterRound(MARKERS.pgpMime);
    const header = headerOf(source);
    expect(header).toMatch(/^X-Leap-Encryption: decrypted\r\nX-Leap-Signature: valid; pubkey="[0-9A-F]{40}"\r\n/);
    expect(header).toContain(`X-Leap-Signature: valid; pubkey="${bob.fingerprint}"\r\n`);
    expect(header).toContain(`Subject: ${MARKERS.pgpMimeSubject}\r\n`);
    expect(source).not.toContain("BEGIN PGP MESSAGE");
  });

  it("decrypts and verifies an inline PGP message from bob", async () => {
    const armored = await openpgp.encrypt({
      message: await openpgp.createMessage({ text: `${MARKERS.inline}: inline works too.\n` }),
      encryptionKeys: alicePublicKey,
      signingKeys: bob.privateKey,
      format: "armored",
    });
    await sendToMx(
      Buffer.from(
        `From: Bob <${BOB}>\r\nTo: ${ALICE}\r\nSubject: inline\r\nDate: ${nextDate()}\r\nMessage-ID: <inline@example.net>\r\n` +
          `Autocrypt: ${bobAutocrypt}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHi Alice,\r\n\r\n${armored.trimEnd().replace(/\r?\n/g, "\r\n")}\r\n`,
      ),
    );
    const source = await afterRound(MARKERS.inline);
    expect(headerOf(source)).toMatch(new RegExp(`^X-Leap-Encryption: decrypted\\r\\nX-Leap-Signature: valid; pubkey="${bob.fingerprint}"\\r\\n`));
    expect(source).toContain(`Hi Alice,\r\n\r\n${MARKERS.inline}: inline works too.\r\n`);
    expect(source).not.toContain("BEGIN PGP MESSAGE");
  });

  it("keeps a message whose envelope is for another key as a notice in INBOX, and reports it", async () => {
    const mallory = await generateKeyPair("mallory@example.com");
    const { sql, userId } = providerDatabase();
    try {
      // Straight into alice's incoming queue, encrypted as the MX would, but to mallory's key.
      const raw = Buffer.from(`From: ${BOB}\r\nTo: ${ALICE}\r\nSubject: not for alice\r\n\r\nwrong key\r\n`);
      new IncomingStore(sql, new Usage(sql, 1 << 30)).add([{ userId, data: Buffer.from(await encryptMail(raw, mallory.armoredPublicKey)) }], Date.now());
    } finally {
      sql.close();
    }
    const errorsBefore = alice.errors.length;
    const notice = await afterRound("Subject: A message could not be decrypted");
    expect(notice).toMatch(/X-Leap-Error: the provider's envelope could not be decrypted/);
    expect(notice).toContain("-----BEGIN PGP MESSAGE-----"); // the original, kept
    expect(alice.errors.slice(errorsBefore)).toMatchObject([{ source: "incoming", message: expect.stringContaining("envelope could not be decrypted") }]);
    expect(incomingCount()).toBe(0);
  });

  it("keeps a message whose envelope ciphertext was tampered with as a notice, and reports it", async () => {
    await sendToMx(Buffer.from(`From: ${BOB}\r\nTo: ${ALICE}\r\nSubject: tampered\r\nDate: ${nextDate()}\r\n\r\n${MARKERS.tampered}\r\n`));
    const { sql, userId } = providerDatabase();
    try {
      const row = sql.prepare<[number], { id: string; data: Buffer }>("SELECT id, data FROM incoming WHERE user_id = ?").get(userId)!;
      const { data } = await openpgp.unarmor(row.data.toString("utf8"));
      const bytes = Buffer.from(data as Uint8Array);
      const at = bytes.length - 40; // inside the encrypted data
      bytes[at] = bytes[at]! ^ 0x01;
      const tampered = openpgp.armor(openpgp.enums.armor.message, bytes);
      sql.prepare("UPDATE incoming SET data = ? WHERE user_id = ? AND id = ?").run(Buffer.from(tampered), userId, row.id);
    } finally {
      sql.close();
    }
    const errorsBefore = alice.errors.length;
    const before = (await inbox()).length;
    await syncNow(alice);
    const after = await inbox();
    expect(after).toHaveLength(before + 1);
    const notice = after.at(-1)!;
    expect(notice).toContain("Subject: A message could not be decrypted");
    expect(notice).not.toContain(MARKERS.tampered);
    expect(alice.errors.slice(errorsBefore)).toMatchObject([{ source: "incoming", message: expect.stringContaining("envelope could not be decrypted") }]);
  });

  it("keeps a broken PGP/MIME message, attached to a visible notice, and reports it", async () => {
    const boundary = "broken-b";
    const garbage = "-----BEGIN PGP MESSAGE-----\r\n\r\nbm90IGFuIE9wZW5QR1AgbWVzc2FnZQ==\r\n-----END PGP MESSAGE-----\r\n";
    await sendToMx(
      Buffer.from(
        `From: Bob <${BOB}>\r\nTo: ${ALICE}\r\nSubject: ${MARKERS.broken}\r\nDate: ${nextDate()}\r\nMessage-ID: <broken@example.net>\r\nMIME-Version: 1.0\r\n` +
          `Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="${boundary}"\r\n\r\n` +
          `--${boundary}\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n` +
          `--${boundary}\r\nContent-Type: application/octet-stream\r\n\r\n${garbage}--${boundary}--\r\n`,
      ),
    );
    const errorsBefore = alice.errors.length;
    const notice = await afterRound(MARKERS.broken);
    const header = headerOf(notice);
    expect(header).toContain(`Subject: [not decrypted] ${MARKERS.broken}\r\n`);
    expect(header).toContain("From: Bob <bob@example.net>\r\n");
    expect(header).toContain("X-Leap-Signature: could not verify\r\n");
    expect(header).not.toContain("X-Leap-Encryption");
    expect(header).toMatch(/X-Leap-Error: the OpenPGP message inside could not be read/);
    expect(notice).toContain("Bitmask could not decrypt or read this message.");
    expect(notice).toContain("Content-Type: message/rfc822");
    expect(notice).toContain(garbage); // the original, as it arrived
    expect(alice.errors.slice(errorsBefore)).toMatchObject([{ source: "incoming", message: expect.stringContaining("could not be read") }]);
  });

  it("left no plaintext on the provider's disk, nor in the daemon's data folder", async () => {
    const needles = Object.values(MARKERS).map((marker) => Buffer.from(marker));
    // The scan reads what is there: alice's published key is found.
    const keyLine = (await alice.keys!.exportPublic()).split(/\r?\n/).find((line) => /^[A-Za-z0-9+/]{60,}$/.test(line))!;
    expect(filesContaining(provider.dataDir, [Buffer.from(keyLine)])).not.toEqual([]);
    expect(filesContaining(provider.dataDir, needles)).toEqual([]);
    expect(filesContaining(device.dataDir, needles)).toEqual([]);
  });
});
