import { describe, expect, it } from "vitest";
import { fromBase64Url, utf8 } from "../../shared/bytes";
import { DocumentCipher } from "../../shared/crypto/document-cipher";
import type { Doc } from "../../shared/documents";

const secret = new Uint8Array(64).map((_, i) => i);

describe("document cipher", () => {
  it("round-trips JSON, byte and tombstone documents", async () => {
    const cipher = await DocumentCipher.create(secret);
    const docs: Doc[] = [
      { id: "mbx1", rev: 3, type: "mailbox", content: { name: "INBOX", uidValidity: 7, subscribed: true, specialUse: null, created: 1 } },
      { id: "C-" + "A".repeat(64), rev: 1, type: "content", content: new Uint8Array([0, 1, 2, 255]) },
      { id: "F-x", rev: 9, type: "flags", content: null },
    ];
    for (const doc of docs) {
      const wire = await cipher.seal(doc);
      expect(await cipher.open(wire)).toEqual(doc);
    }
  });

  it("hides the local id, the type and the exact length", async () => {
    const cipher = await DocumentCipher.create(secret);
    const a = await cipher.seal({ id: "C-" + "B".repeat(64), rev: 1, type: "content", content: new Uint8Array(300) });
    const b = await cipher.seal({ id: "C-" + "C".repeat(64), rev: 1, type: "content", content: new Uint8Array(400) });
    expect(a.id).not.toContain("C-");
    expect(a.id).toBe(await cipher.wireId("C-" + "B".repeat(64)));
    expect(fromBase64Url(a.data).length).toBe(fromBase64Url(b.data).length);
    expect(new TextDecoder("latin1").decode(fromBase64Url(a.data))).not.toContain("content");
  });

  it("derives different wire ids under different secrets", async () => {
    const other = await DocumentCipher.create(new Uint8Array(64).fill(7));
    const cipher = await DocumentCipher.create(secret);
    expect(await cipher.wireId("INBOX")).not.toBe(await other.wireId("INBOX"));
    expect(utf8(await cipher.wireId("INBOX")).length).toBe(43);
  });
});
