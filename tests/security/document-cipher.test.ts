// What a hostile provider can do to synced documents, and that each is refused.
import { describe, expect, it } from "vitest";
import { fromBase64Url, toBase64Url } from "../../shared/bytes";
import { DocumentCipher, DocumentIntegrityError, type WireDoc } from "../../shared/crypto/document-cipher";

const secret = new Uint8Array(64).map((_, i) => 255 - i);

async function sealed(id: string, rev: number, name: string) {
  const cipher = await DocumentCipher.create(secret);
  const wire = await cipher.seal({ id, rev, type: "mailbox", content: { name, uidValidity: 1, subscribed: false, specialUse: null, created: 0 } });
  return { cipher, wire };
}

async function refusal(promise: Promise<unknown>): Promise<DocumentIntegrityError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DocumentIntegrityError);
  return error as DocumentIntegrityError;
}

describe("sync ciphertext integrity", () => {
  it("refuses a flipped byte anywhere in the ciphertext", async () => {
    const { cipher, wire } = await sealed("box-a", 1, "Secret plans");
    const bytes = fromBase64Url(wire.data);
    for (const position of [0, 11, 12, 40, bytes.length - 17, bytes.length - 1]) {
      const flipped = bytes.slice();
      flipped[position]! ^= 0x01;
      const error = await refusal(cipher.open({ ...wire, data: toBase64Url(flipped) }));
      expect(error.problem).toBe("tampered");
    }
  });

  it("refuses two documents' ciphertexts swapped between their ids", async () => {
    const cipher = await DocumentCipher.create(secret);
    const a = await cipher.seal({ id: "box-a", rev: 1, type: "mailbox", content: { name: "A", uidValidity: 1, subscribed: false, specialUse: null, created: 0 } });
    const b = await cipher.seal({ id: "box-b", rev: 1, type: "mailbox", content: { name: "B", uidValidity: 1, subscribed: false, specialUse: null, created: 0 } });
    const swappedA: WireDoc = { ...a, data: b.data };
    const swappedB: WireDoc = { ...b, data: a.data };
    expect((await refusal(cipher.open(swappedA))).problem).toBe("tampered");
    expect((await refusal(cipher.open(swappedB))).problem).toBe("tampered");
  });

  it("refuses an older revision replayed as-is", async () => {
    const { cipher, wire: old } = await sealed("box-a", 1, "Old name");
    const current = await cipher.seal({ id: "box-a", rev: 2, type: "mailbox", content: { name: "New name", uidValidity: 1, subscribed: false, specialUse: null, created: 0 } });
    expect((await cipher.open(current, 1)).rev).toBe(2);
    const error = await refusal(cipher.open(old, 2));
    expect(error.problem).toBe("rollback");
  });

  it("refuses an old ciphertext relabelled with a newer revision", async () => {
    const { cipher, wire: old } = await sealed("box-a", 1, "Old name");
    const error = await refusal(cipher.open({ ...old, rev: 5 }, 2));
    expect(error.problem).toBe("tampered");
  });

  it("refuses a document sealed under another secret", async () => {
    const { wire } = await sealed("box-a", 1, "A");
    const stranger = await DocumentCipher.create(new Uint8Array(64));
    expect((await refusal(stranger.open(wire))).problem).toBe("tampered");
  });

  it("refuses truncated and non-base64 data", async () => {
    const { cipher, wire } = await sealed("box-a", 1, "A");
    expect((await refusal(cipher.open({ ...wire, data: "abc" }))).problem).toBe("malformed");
    expect((await refusal(cipher.open({ ...wire, data: "!!!!" }))).problem).toBe("malformed");
    expect((await refusal(cipher.open({ ...wire, data: toBase64Url(fromBase64Url(wire.data).slice(0, -10)) }))).problem).toBe("tampered");
  });
});
