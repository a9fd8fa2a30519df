// RFC 3156 build and parse (native-host/pgp/): what we build, we read back;
// protected headers come back out; tampering and unknown keys are told apart.
// GnuPG reads and writes the same messages in tests/interop/gnupg-smtp.test.ts.
import * as openpgp from "openpgp";
import { beforeAll, describe, expect, it } from "vitest";
import type { OwnKey } from "../../native-host/keys/keymanager-api";
import { HIDDEN_SUBJECT, isEncryptedMessage, signAndEncryptMessage, signMessage } from "../../native-host/pgp/build";
import { fieldValue, parseEntity, toCrlf } from "../../native-host/pgp/mime-entity";
import { openMessage } from "../../native-host/pgp/open";
import { joinMessage, splitMessage } from "../../native-host/mail/mime-split";
import { messageWithAttachment } from "../helpers/messages";
import { generateKeyPair } from "../helpers/pgp-keys";

const headerBlock = (message: Buffer) => message.toString("latin1", 0, message.indexOf("\r\n\r\n") + 2);

const message = Buffer.from(
  "From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: The real subject\r\n" +
    "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m1@example.org>\r\nMIME-Version: 1.0\r\n" +
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
    "Grüße aus Köln.\r\nFrom the start of a line, with a trailing blank \r\n",
  "utf8",
);

let alice: OwnKey;
let bob: OwnKey;
let mallory: OwnKey;

beforeAll(async () => {
  alice = await generateKeyPair("alice@example.org");
  bob = await generateKeyPair("bob@example.net");
  mallory = await generateKeyPair("mallory@example.com");
});

describe("multipart/signed", () => {
  it("verifies with the signer's key, the message unchanged", async () => {
    const signed = await signMessage(message, alice.privateKey);
    expect(headerBlock(signed)).toMatch(/Content-Type: multipart\/signed; micalg="pgp-sha\d+"; protocol="application\/pgp-signature"/);
    expect(headerBlock(signed)).toContain("Subject: The real subject\r\n");
    const opened = await openMessage(signed, { decryptionKeys: [], verificationKeys: [alice.publicKey] });
    expect(opened).toMatchObject({ encrypted: false, signature: { status: "valid", fingerprint: alice.fingerprint } });
    expect(opened.message.equals(signed)).toBe(true);
  });

  it("signs a 7-bit part: 8-bit text, trailing blanks and From lines are base64-encoded", async () => {
    const signed = await signMessage(message, alice.privateKey);
    expect([...signed].every((byte) => byte < 0x80)).toBe(true);
    expect(signed.toString("latin1")).not.toMatch(/^From the start/m);
    const tree = splitMessage(signed);
    const signedPart = tree.root.body.kind === "multipart" ? tree.root.body.parts[0]!.node : undefined;
    expect(signedPart?.header).toContain("Content-Transfer-Encoding: base64\r\n");
    expect(signedPart?.header).toContain('protected-headers="v1"');
    expect(signedPart?.header).toContain("Subject: The real subject\r\n");
  });

  it("keeps a multipart body's structure and its safe parts byte for byte", async () => {
    const withAttachment = messageWithAttachment(1, Buffer.from("attached bytes"));
    const signed = await signMessage(withAttachment, alice.privateKey);
    expect(signed.toString("latin1")).toContain("See attached (1).\r\n");
    const opened = await openMessage(signed, { decryptionKeys: [], verificationKeys: [alice.publicKey] });
    expect(opened.signature).toMatchObject({ status: "valid" });
  });

  it("tells a tampered message (invalid) from an unknown signer", async () => {
    const signed = await signMessage(Buffer.from("Subject: s\r\n\r\nsigned text\r\n"), alice.privateKey);
    const tampered = Buffer.from(signed.toString("latin1").replace("signed text", "signed TEXT"), "latin1");
    const invalid = await openMessage(tampered, { decryptionKeys: [], verificationKeys: [alice.publicKey] });
    expect(invalid.signature).toMatchObject({ status: "invalid", fingerprint: alice.fingerprint });
    const unknown = await openMessage(signed, { decryptionKeys: [], verificationKeys: [bob.publicKey] });
    expect(unknown.signature).toMatchObject({ status: "unknown-key" });
  });
});

describe("multipart/encrypted", () => {
  it("hides the subject and every other field outside, and restores them when opened", async () => {
    const encrypted = await signAndEncryptMessage(message, alice.privateKey, [bob.publicKey]);
    expect(isEncryptedMessage(encrypted)).toBe(true);
    const outer = headerBlock(encrypted);
    expect(outer).toContain(`Subject: ${HIDDEN_SUBJECT}\r\n`);
    expect(outer).not.toContain("The real subject");
    expect(outer).toContain("Message-ID: <m1@example.org>\r\n");
    expect(encrypted.toString("latin1")).not.toContain("Köln");

    const opened = await openMessage(encrypted, { decryptionKeys: [bob.privateKey], verificationKeys: [alice.publicKey] });
    expect(opened).toMatchObject({ encrypted: true, signature: { status: "valid", fingerprint: alice.fingerprint } });
    const text = opened.message.toString("utf8");
    expect(text).toContain("Subject: The real subject\r\n");
    expect(text).not.toContain(HIDDEN_SUBJECT);
    expect(text).toContain("Content-Type: text/plain; charset=utf-8; protected-headers=\"v1\"\r\n");
    expect(text.endsWith("\r\n\r\nGrüße aus Köln.\r\nFrom the start of a line, with a trailing blank \r\n")).toBe(true);
  });

  it("fails to open without the right private key, and says so", async () => {
    const encrypted = await signAndEncryptMessage(message, alice.privateKey, [bob.publicKey]);
    await expect(openMessage(encrypted, { decryptionKeys: [mallory.privateKey], verificationKeys: [] })).rejects.toThrow(
      /cannot decrypt/,
    );
  });

  it("reports a signature by a key it does not have as unknown, still decrypting", async () => {
    const encrypted = await signAndEncryptMessage(message, mallory.privateKey, [bob.publicKey]);
    const opened = await openMessage(encrypted, { decryptionKeys: [bob.privateKey], verificationKeys: [alice.publicKey] });
    expect(opened).toMatchObject({ encrypted: true, signature: { status: "unknown-key" } });
  });

  it("verifies a message signed first and encrypted separately (RFC 3156 6.1)", async () => {
    const signed = await signMessage(message, alice.privateKey);
    const unsignedArmor = await openpgp.encrypt({ message: await openpgp.createMessage({ binary: signed }), encryptionKeys: bob.publicKey });
    // The same PGP/MIME wrapper, around an OpenPGP message that carries no signature of its own.
    const wrapper = (await signAndEncryptMessage(message, alice.privateKey, [bob.publicKey])).toString("latin1");
    const armorBlock = /-----BEGIN PGP MESSAGE-----[\s\S]*-----END PGP MESSAGE-----\r\n/;
    const wrapped = Buffer.from(wrapper.replace(armorBlock, unsignedArmor.replace(/\n/g, "\r\n")), "latin1");
    const opened = await openMessage(wrapped, { decryptionKeys: [bob.privateKey], verificationKeys: [alice.publicKey] });
    expect(opened).toMatchObject({ encrypted: true, signature: { status: "valid", fingerprint: alice.fingerprint } });
  });
});

describe("plain messages", () => {
  it("come back unchanged, unsigned", async () => {
    const opened = await openMessage(message, { decryptionKeys: [bob.privateKey], verificationKeys: [] });
    expect(opened).toEqual({ message, encrypted: false, signature: null });
    expect(isEncryptedMessage(message)).toBe(false);
    const tree = splitMessage(message);
    expect(joinMessage(tree.root, (hash) => tree.leaves.get(hash)!).equals(message)).toBe(true);
  });
});

describe("MIME entities", () => {
  it("canonicalises every line break to CRLF, leaving CRLF text as it is", () => {
    expect(toCrlf(Buffer.from("a\nb\rc\r\nd\n\n")).toString()).toBe("a\r\nb\r\nc\r\nd\r\n\r\n");
    const canonical = Buffer.from("a\r\nb\r\n");
    expect(toCrlf(canonical).equals(canonical)).toBe(true);
  });

  it("splits header fields with their folding, and bodies, including the edge cases", () => {
    const { fields, body } = parseEntity(Buffer.from("Subject: a\r\n  folded\r\nX: 1\r\n\r\nbody\r\n"));
    expect(fields.map((field) => field.raw)).toEqual(["Subject: a\r\n  folded\r\n", "X: 1\r\n"]);
    expect(fieldValue(fields[0]!)).toBe("a  folded");
    expect(body.toString()).toBe("body\r\n");
    expect(parseEntity(Buffer.from("\r\nonly body"))).toMatchObject({ fields: [] });
    expect(parseEntity(Buffer.from("X: only header\r\n")).body.length).toBe(0);
  });
});
