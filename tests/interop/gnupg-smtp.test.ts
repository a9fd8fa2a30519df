// GnuPG interop, in a throwaway GNUPGHOME with a key GnuPG made itself:
// - what the SMTP gateway sends (RFC 3156 signed+encrypted, and signed only)
//   decrypts and verifies with gpg;
// - PGP/MIME that gpg signed and encrypted (or signed) to our key is
//   decrypted and verified by native-host/pgp/open.ts.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as openpgp from "openpgp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openMessage } from "../../native-host/pgp/open";
import { type Gateway, SENDER, headerOf, nodemailerClient, startGateway } from "../helpers/smtp-gateway";
import { tempDir } from "../helpers/temp-store";
import { type ToolRun, expectSuccess, requireTool, runTool } from "../helpers/tools";

const BOB = "bob@example.net";
const CAROL = "carol@example.com";
const missing = requireTool({ name: "gpg", install: "apt-get install gnupg" }, "GnuPG interop");

describe.skipIf(missing)("GnuPG interop", () => {
  let home: ReturnType<typeof tempDir>;
  let gateway: Gateway;
  let bobFingerprint: string;

  const gpg = (args: string[], input?: string): Promise<ToolRun> =>
    runTool("gpg", ["--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", "", "--trust-model", "always", ...args], {
      env: { ...process.env, GNUPGHOME: home.dir },
      timeoutMs: 60_000,
      input,
    });
  const file = (name: string, content: string | Buffer) => {
    const target = path.join(home.dir, name);
    writeFileSync(target, content);
    return target;
  };

  beforeAll(async () => {
    home = tempDir("bitmask-gnupg-");
    expectSuccess(await gpg(["--quick-generate-key", `Bob <${BOB}>`, "ed25519", "sign", "1d"]), "gpg key generation");
    const listing = expectSuccess(await gpg(["--with-colons", "--list-keys", BOB]), "gpg --list-keys").stdout;
    bobFingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(listing)![1]!;
    expectSuccess(await gpg(["--quick-add-key", bobFingerprint, "cv25519", "encr", "1d"]), "gpg encryption subkey");

    gateway = await startGateway();
    const bobPublic = expectSuccess(await gpg(["--armor", "--export", BOB]), "gpg --export").stdout;
    await gateway.learnContact(BOB, await openpgp.readKey({ armoredKey: bobPublic }));
    expectSuccess(await gpg(["--import"], gateway.own.armoredPublicKey), "gpg --import of our key");
  });
  afterAll(async () => {
    await gateway?.stop();
    await runTool("gpgconf", ["--kill", "gpg-agent"], { env: { ...process.env, GNUPGHOME: home.dir }, timeoutMs: 10_000 }).catch(() => undefined);
    home.cleanup();
  });

  const send = (to: string[], subject: string) =>
    nodemailerClient.send({
      port: gateway.port,
      user: SENDER,
      pass: gateway.token,
      from: SENDER,
      to,
      message: Buffer.from(`From: ${SENDER}\r\nTo: ${to.join(", ")}\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\n\r\nHello from the gateway.\r\n`),
    });

  /** The exact bytes of each part of a top-level multipart (the gateway
   * always writes a preamble, so every delimiter follows a CRLF). */
  function parts(raw: Buffer): string[] {
    const boundary = /boundary="([^"]+)"/.exec(headerOf(raw))![1]!;
    const pieces = raw.toString("latin1").split(`\r\n--${boundary}`);
    // Drop the header and preamble before the first delimiter, the "--" after
    // the last, and the CRLF that ends each delimiter line.
    return pieces.slice(1, -1).map((piece) => piece.slice(2));
  }

  it("decrypts and verifies with gpg what the gateway encrypted to a GnuPG key", async () => {
    expect((await send([BOB], "Secret lunch")).accepted).toBe(true);
    const [mail] = gateway.sink.received.splice(0);
    expect(headerOf(mail!.raw)).toContain("multipart/encrypted");
    const [version, encrypted] = parts(mail!.raw);
    expect(version).toContain("Version: 1");
    const armored = encrypted!.slice(encrypted!.indexOf("-----BEGIN PGP MESSAGE-----"));
    const run = expectSuccess(await gpg(["--status-fd", "2", "--decrypt"], armored), "gpg --decrypt");
    expect(run.stderr).toMatch(/\[GNUPG:\] DECRYPTION_OKAY/);
    expect(run.stderr).toContain(`[GNUPG:] VALIDSIG ${gateway.own.fingerprint}`);
    expect(run.stdout).toContain("Subject: Secret lunch\r\n");
    expect(run.stdout).toContain('protected-headers="v1"');
    expect(run.stdout).toContain("Hello from the gateway.");
  });

  it("verifies with gpg what the gateway signed for a recipient without a key", async () => {
    expect((await send([CAROL], "Signed lunch")).accepted).toBe(true);
    const [mail] = gateway.sink.received.splice(0);
    expect(headerOf(mail!.raw)).toMatch(/multipart\/signed; micalg="pgp-sha\d+"/);
    const [signed, signature] = parts(mail!.raw);
    const signaturePath = file("signature.asc", signature!.slice(signature!.indexOf("-----BEGIN PGP SIGNATURE-----")));
    const run = expectSuccess(await gpg(["--status-fd", "2", "--verify", signaturePath, file("signed.eml", Buffer.from(signed!, "latin1"))]), "gpg --verify");
    expect(run.stderr).toContain(`[GNUPG:] VALIDSIG ${gateway.own.fingerprint}`);
  });

  const innerEntity = (subject: string) =>
    `Content-Type: text/plain; charset=utf-8; protected-headers="v1"\r\nFrom: Bob <${BOB}>\r\nTo: ${SENDER}\r\nSubject: ${subject}\r\n\r\nHello from GnuPG.\r\n`;

  it("decrypts and verifies PGP/MIME that gpg signed and encrypted to our key", async () => {
    const run = expectSuccess(await gpg(["--armor", "--sign", "--encrypt", "-u", BOB, "-r", SENDER], innerEntity("From gpg")), "gpg --sign --encrypt");
    const boundary = "gpg-boundary";
    const raw = Buffer.from(
      `From: Bob <${BOB}>\r\nTo: ${SENDER}\r\nSubject: ...\r\nMIME-Version: 1.0\r\n` +
        `Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="${boundary}"\r\n\r\n` +
        `--${boundary}\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n` +
        `--${boundary}\r\nContent-Type: application/octet-stream\r\n\r\n${run.stdout.replace(/\r?\n/g, "\r\n")}` +
        `--${boundary}--\r\n`,
    );
    const bobPublic = await openpgp.readKey({ armoredKey: (await gpg(["--armor", "--export", BOB])).stdout });
    const opened = await openMessage(raw, { decryptionKeys: [gateway.own.privateKey], verificationKeys: [bobPublic] });
    expect(opened).toMatchObject({ encrypted: true, signature: { status: "valid", fingerprint: bobFingerprint } });
    const text = opened.message.toString("utf8");
    expect(text).toContain("Subject: From gpg\r\n");
    expect(text).not.toContain("Subject: ...");
    expect(text).toContain("Hello from GnuPG.");
  });

  it("verifies a multipart/signed message with a detached signature made by gpg", async () => {
    const signedPart = innerEntity("Signed by gpg");
    const signedPath = file("to-sign.eml", signedPart);
    expectSuccess(await gpg(["--armor", "--detach-sign", "-u", BOB, "--output", `${signedPath}.asc`, signedPath]), "gpg --detach-sign");
    const boundary = "gpg-signed";
    const raw = Buffer.from(
      `From: Bob <${BOB}>\r\nTo: ${SENDER}\r\nSubject: Signed by gpg\r\nMIME-Version: 1.0\r\n` +
        `Content-Type: multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature"; boundary="${boundary}"\r\n\r\n` +
        `--${boundary}\r\n${signedPart}\r\n--${boundary}\r\nContent-Type: application/pgp-signature\r\n\r\n` +
        `${readFileSync(`${signedPath}.asc`, "latin1").replace(/\r?\n/g, "\r\n")}\r\n--${boundary}--\r\n`,
    );
    const bobPublic = await openpgp.readKey({ armoredKey: (await gpg(["--armor", "--export", BOB])).stdout });
    const opened = await openMessage(raw, { decryptionKeys: [], verificationKeys: [bobPublic] });
    expect(opened).toMatchObject({ encrypted: false, signature: { status: "valid", fingerprint: bobFingerprint } });
  });
});
