// Inline PGP (native-host/pgp/open.ts): a text/plain body, or the only text
// part of a multipart, holding an armored PGP MESSAGE is decrypted in place
// and its signature checked; a cleartext-signed body is verified and kept as
// it is. Messages made by openpgp and by GnuPG (throwaway GNUPGHOME), and
// stamped with LEAP's X-Leap-* headers as incoming mail stores them.
import * as openpgp from "openpgp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stamp } from "../../native-host/incoming/incoming-processor";
import type { OwnKey } from "../../native-host/keys/keymanager-api";
import { splitMessage } from "../../native-host/mail/mime-split";
import { openMessage, PgpMimeError } from "../../native-host/pgp/open";
import { generateKeyPair } from "../helpers/pgp-keys";
import { tempDir } from "../helpers/temp-store";
import { expectSuccess, requireTool, runTool, type ToolRun } from "../helpers/tools";

let alice: OwnKey;
let bob: OwnKey;
let mallory: OwnKey;

beforeAll(async () => {
  [alice, bob, mallory] = await Promise.all([
    generateKeyPair("alice@example.org"),
    generateKeyPair("bob@example.net"),
    generateKeyPair("mallory@example.com"),
  ]);
});

const HEADER = "From: Bob <bob@example.net>\r\nTo: alice@example.org\r\nSubject: Inline\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <inline-1@example.net>\r\n";
const crlf = (text: string) => text.replace(/\r?\n/g, "\r\n");
/** An armored block as a MUA puts it in a body: CRLF lines, no line break after the last. */
const block = (armored: string) => crlf(armored.trimEnd());
const headerBlock = (message: Buffer) => message.toString("latin1", 0, message.indexOf("\r\n\r\n") + 2);

/** The text of a message's one text part, transfer encoding undone. */
function textOf(message: Buffer): string {
  const headerEnd = message.indexOf("\r\n\r\n");
  const header = message.toString("latin1", 0, headerEnd);
  const body = message.subarray(headerEnd + 4);
  return /Content-Transfer-Encoding: base64/i.test(header) ? Buffer.from(body.toString("latin1"), "base64").toString("utf8") : body.toString("utf8");
}

async function encryptText(text: string, options: { sign?: boolean; to?: OwnKey } = {}): Promise<string> {
  return openpgp.encrypt({
    message: await openpgp.createMessage({ text }),
    encryptionKeys: (options.to ?? alice).publicKey,
    signingKeys: options.sign === false ? undefined : bob.privateKey,
    format: "armored",
  });
}

async function clearsign(text: string, signer: OwnKey = bob): Promise<string> {
  return openpgp.sign({ message: await openpgp.createCleartextMessage({ text }), signingKeys: signer.privateKey, format: "armored" });
}

const keysForAlice = () => ({ decryptionKeys: [alice.privateKey], verificationKeys: [bob.publicKey] });

describe("inline PGP made by openpgp", () => {
  it("decrypts a signed PGP MESSAGE in a text/plain body in place, keeping the text around it", async () => {
    const armored = await encryptText("The secret is ZQX-INLINE-1.\nSecond line.\n");
    const raw = Buffer.from(
      `${HEADER}Content-Type: text/plain; charset=us-ascii; format=flowed\r\n\r\nHello,\r\n\r\n${block(armored)}\r\nBye.\r\n`,
      "latin1",
    );
    const opened = await openMessage(raw, keysForAlice());
    expect(opened).toMatchObject({ encrypted: true, signature: { status: "valid", fingerprint: bob.fingerprint } });
    const header = headerBlock(opened.message);
    expect(header).toContain("Subject: Inline\r\n");
    expect(header).toContain("Message-ID: <inline-1@example.net>\r\n");
    expect(header).toContain("Content-Type: text/plain; charset=utf-8\r\n");
    expect(header).not.toContain("format=flowed");
    expect(textOf(opened.message)).toBe("Hello,\r\n\r\nThe secret is ZQX-INLINE-1.\r\nSecond line.\r\nBye.\r\n");
    expect(opened.message.toString("latin1")).not.toContain("BEGIN PGP");

    const stamped = stamp(raw, opened).toString("latin1");
    expect(stamped).toMatch(/^X-Leap-Encryption: decrypted\r\nX-Leap-Signature: valid; pubkey="[0-9A-F]{40}"\r\n/);
    expect(stamped).toContain(`X-Leap-Signature: valid; pubkey="${bob.fingerprint}"\r\n`);
  });

  it("reads a message without Content-Type (text/plain by default) and an unsigned block", async () => {
    const raw = Buffer.from(`${HEADER}\r\n${block(await encryptText("unsigned text\n", { sign: false }))}\r\n`, "latin1");
    const opened = await openMessage(raw, keysForAlice());
    expect(opened).toMatchObject({ encrypted: true, signature: null });
    expect(headerBlock(opened.message)).toContain("MIME-Version: 1.0\r\n");
    expect(textOf(opened.message)).toBe("unsigned text\r\n");
    expect(stamp(raw, opened).toString("latin1")).toMatch(/^X-Leap-Encryption: decrypted\r\nX-Leap-Signature: could not verify\r\n/);
  });

  it("stores non-ASCII plaintext as UTF-8 in base64, from a quoted-printable part", async () => {
    const armored = block(await encryptText("Grüße aus Köln — ZQX\n"));
    // A MUA may send the armor quoted-printable (its lines are ASCII: nothing changes but the label).
    const raw = Buffer.from(`${HEADER}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nVorab: =E4\r\n${armored}\r\n`, "latin1");
    const opened = await openMessage(raw, keysForAlice());
    expect(opened.signature).toMatchObject({ status: "valid" });
    const header = headerBlock(opened.message);
    expect(header).toContain("Content-Transfer-Encoding: base64\r\n");
    expect(header).not.toContain("quoted-printable");
    expect(textOf(opened.message)).toBe("Vorab: ä\r\nGrüße aus Köln — ZQX\r\n");
  });

  it("decrypts the single text part of a multipart and leaves the attachments byte for byte", async () => {
    const armored = block(await encryptText("multipart secret\n"));
    const attachment = `--b1\r\nContent-Type: application/pgp-keys\r\nContent-Disposition: attachment; filename="bob.asc"\r\n\r\n${crlf(bob.armoredPublicKey)}`;
    const raw = Buffer.from(
      `${HEADER}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\npreamble\r\n` +
        `--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n${armored}\r\n${attachment}\r\n--b1--\r\n`,
      "latin1",
    );
    const opened = await openMessage(raw, keysForAlice());
    expect(opened).toMatchObject({ encrypted: true, signature: { status: "valid", fingerprint: bob.fingerprint } });
    const text = opened.message.toString("latin1");
    expect(text).toContain("--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\nmultipart secret\r\n--b1\r\n");
    expect(text).toContain(attachment);
    expect(text).not.toContain("BEGIN PGP MESSAGE");
    // Still a well-formed multipart with both parts.
    const { root } = splitMessage(opened.message);
    expect(root.body.kind === "multipart" && root.body.parts.length).toBe(2);
  });

  it("throws PgpMimeError for a block it cannot decrypt, and tells a wrong signer", async () => {
    const forMallory = Buffer.from(`${HEADER}\r\n${crlf(await encryptText("not for alice\n", { to: mallory }))}`, "latin1");
    await expect(openMessage(forMallory, keysForAlice())).rejects.toThrow(PgpMimeError);
    const raw = Buffer.from(`${HEADER}\r\n${crlf(await encryptText("signed by bob\n"))}`, "latin1");
    const unknown = await openMessage(raw, { decryptionKeys: [alice.privateKey], verificationKeys: [mallory.publicKey] });
    expect(unknown).toMatchObject({ encrypted: true, signature: { status: "unknown-key" } });
    expect(stamp(raw, unknown).toString("latin1")).toContain("X-Leap-Signature: could not verify\r\n");
  });

  it("verifies a cleartext-signed body and keeps the message as it is", async () => {
    const raw = Buffer.from(`${HEADER}Content-Type: text/plain\r\n\r\n${crlf(await clearsign("Signed, not sealed.\n- a dashed line\n"))}`, "latin1");
    const opened = await openMessage(raw, keysForAlice());
    expect(opened).toMatchObject({ encrypted: false, signature: { status: "valid", fingerprint: bob.fingerprint } });
    expect(opened.message.equals(raw)).toBe(true);
    expect(stamp(raw, opened).toString("latin1")).toMatch(new RegExp(`^X-Leap-Signature: valid; pubkey="${bob.fingerprint}"\\r\\nFrom: `));
  });

  it("tells a tampered cleartext-signed body (invalid) from an unknown signer", async () => {
    const signed = crlf(await clearsign("Pay 10 euros.\n"));
    const tampered = Buffer.from(`${HEADER}\r\n${signed.replace("Pay 10", "Pay 99")}`, "latin1");
    const invalid = await openMessage(tampered, keysForAlice());
    expect(invalid).toMatchObject({ encrypted: false, signature: { status: "invalid", fingerprint: bob.fingerprint } });
    expect(stamp(tampered, invalid).toString("latin1")).toContain("X-Leap-Signature: invalid\r\n");
    const byMallory = Buffer.from(`${HEADER}\r\n${crlf(await clearsign("Pay 10 euros.\n", mallory))}`, "latin1");
    expect((await openMessage(byMallory, keysForAlice())).signature).toMatchObject({ status: "unknown-key" });
  });

  it("keeps a cleartext-signed body whose signature cannot be read, as could not verify", async () => {
    const signed = crlf(await clearsign("text\n"));
    const broken = signed.replace(/(-----BEGIN PGP SIGNATURE-----\r\n\r\n)[^\r]+/, "$1!!not base64!!");
    const raw = Buffer.from(`${HEADER.replace(/\r\n/g, "\n")}\n${broken.replace(/\r\n/g, "\n")}`, "latin1");
    const opened = await openMessage(raw, keysForAlice());
    expect(opened).toMatchObject({ encrypted: false, signature: null });
    expect(opened.message.equals(raw)).toBe(true);
  });

  it("scans a hostile body of many unterminated armor lines in linear time", async () => {
    const raw = Buffer.from(`${HEADER}\r\n${"-----BEGIN PGP MESSAGE-----\r\n-----BEGIN PGP SIGNED MESSAGE-----\r\n".repeat(50_000)}`, "latin1");
    const started = Date.now();
    const opened = await openMessage(raw, keysForAlice());
    expect(opened).toMatchObject({ encrypted: false, signature: null });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("verifies a cleartext-signed message that was encrypted afterwards", async () => {
    const raw = Buffer.from(`${HEADER}\r\n${crlf(await encryptText(await clearsign("sign, then encrypt\n"), { sign: false }))}`, "latin1");
    const opened = await openMessage(raw, keysForAlice());
    expect(opened).toMatchObject({ encrypted: true, signature: { status: "valid", fingerprint: bob.fingerprint } });
    expect(textOf(opened.message)).toContain("sign, then encrypt");
  });

  it("leaves alone quoted armor, two blocks, two text parts and attachments", async () => {
    const armored = crlf(await encryptText("x\n"));
    const quoted = Buffer.from(`${HEADER}\r\nYou wrote:\r\n${armored.replace(/^/gm, "> ")}`, "latin1");
    const twoBlocks = Buffer.from(`${HEADER}\r\n${armored}\r\n${armored}`, "latin1");
    const alternative = Buffer.from(
      `${HEADER}Content-Type: multipart/alternative; boundary="a"\r\n\r\n--a\r\nContent-Type: text/plain\r\n\r\n${armored}\r\n` +
        `--a\r\nContent-Type: text/html\r\n\r\n<pre>${armored}</pre>\r\n--a--\r\n`,
      "latin1",
    );
    const attached = Buffer.from(
      `${HEADER}Content-Type: multipart/mixed; boundary="m"\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n` +
        `--m\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="x.asc"\r\n\r\n${armored}\r\n--m--\r\n`,
      "latin1",
    );
    for (const raw of [quoted, twoBlocks, alternative, attached]) {
      const opened = await openMessage(raw, keysForAlice());
      expect(opened).toMatchObject({ encrypted: false, signature: null });
      expect(opened.message.equals(raw)).toBe(true);
    }
  });
});

const gpgMissing = requireTool({ name: "gpg", install: "apt-get install gnupg" }, "inline PGP made by GnuPG");

describe.skipIf(gpgMissing)("inline PGP made by GnuPG", () => {
  const CAROL = "carol@example.com";
  let home: ReturnType<typeof tempDir>;
  let carolFingerprint: string;
  let carolPublic: openpgp.PublicKey;

  const gpg = (args: string[], input?: string): Promise<ToolRun> =>
    runTool("gpg", ["--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", "", "--trust-model", "always", ...args], {
      env: { ...process.env, GNUPGHOME: home.dir },
      timeoutMs: 60_000,
      input,
    });

  beforeAll(async () => {
    home = tempDir("bitmask-gnupg-inline-");
    expectSuccess(await gpg(["--quick-generate-key", `Carol <${CAROL}>`, "ed25519", "sign", "1d"]), "gpg key generation");
    const listing = expectSuccess(await gpg(["--with-colons", "--list-keys", CAROL]), "gpg --list-keys").stdout;
    carolFingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(listing)![1]!;
    expectSuccess(await gpg(["--quick-add-key", carolFingerprint, "cv25519", "encr", "1d"]), "gpg encryption subkey");
    expectSuccess(await gpg(["--import"], alice.armoredPublicKey), "gpg --import of alice's key");
    carolPublic = await openpgp.readKey({ armoredKey: expectSuccess(await gpg(["--armor", "--export", CAROL]), "gpg --export").stdout });
  }, 60_000);
  afterAll(async () => {
    await runTool("gpgconf", ["--kill", "gpg-agent"], { env: { ...process.env, GNUPGHOME: home.dir }, timeoutMs: 10_000 }).catch(() => undefined);
    home?.cleanup();
  });

  const carolKeys = () => ({ decryptionKeys: [alice.privateKey], verificationKeys: [carolPublic] });
  const fromCarol = (body: string) =>
    Buffer.from(`From: Carol <${CAROL}>\r\nTo: alice@example.org\r\nSubject: From gpg\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${crlf(body)}`, "utf8");

  it("decrypts and verifies what gpg signed and encrypted (binary and text mode)", async () => {
    for (const mode of [[], ["--textmode"]]) {
      const run = expectSuccess(
        await gpg(["--armor", "--sign", "--encrypt", ...mode, "-u", CAROL, "-r", "alice@example.org"], "Made by GnuPG: ZQX-GPG.\nÄnderung.\n"),
        "gpg --sign --encrypt",
      );
      const raw = fromCarol(run.stdout);
      const opened = await openMessage(raw, carolKeys());
      expect(opened).toMatchObject({ encrypted: true, signature: { status: "valid", fingerprint: carolFingerprint } });
      expect(textOf(opened.message)).toBe("Made by GnuPG: ZQX-GPG.\r\nÄnderung.\r\n");
      expect(stamp(raw, opened).toString("latin1")).toContain(`X-Leap-Signature: valid; pubkey="${carolFingerprint}"\r\n`);
    }
  });

  it("decrypts what gpg only encrypted", async () => {
    const run = expectSuccess(await gpg(["--armor", "--encrypt", "-r", "alice@example.org"], "encrypted only\n"), "gpg --encrypt");
    const opened = await openMessage(fromCarol(run.stdout), carolKeys());
    expect(opened).toMatchObject({ encrypted: true, signature: null });
    expect(textOf(opened.message)).toBe("encrypted only\r\n");
  });

  it("verifies what gpg clear-signed, also with trailing blanks and dash-escaped lines", async () => {
    const run = expectSuccess(await gpg(["--clearsign", "-u", CAROL], "Clear text, signed.  \n-- \nCarol\n- listed\n"), "gpg --clearsign");
    expect(run.stdout).toContain("- -- ");
    const raw = fromCarol(run.stdout);
    const opened = await openMessage(raw, carolKeys());
    expect(opened).toMatchObject({ encrypted: false, signature: { status: "valid", fingerprint: carolFingerprint } });
    expect(opened.message.equals(raw)).toBe(true);
    const tampered = fromCarol(run.stdout.replace("Clear text", "Clear TEXT"));
    expect((await openMessage(tampered, carolKeys())).signature).toMatchObject({ status: "invalid", fingerprint: carolFingerprint });
  });
});
