import { afterEach, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { DocumentStore, StoreBusyError, StoreLockedError } from "../../native-host/store/document-store";
import { openTempStore } from "../helpers/temp-store";
import { ZodError } from "zod";

let close = () => {};
afterEach(() => close());

const mailbox = (name: string) => ({ name, uidValidity: 5, subscribed: true, specialUse: null, created: 0 });

describe("document store", () => {
  it("keeps revisions, tombstones and a change log by generation", async () => {
    const temp = await openTempStore();
    close = temp.close;
    const { store } = temp;
    expect(store.generation()).toBe(0);
    expect(store.put("mailbox", "b1", mailbox("A")).rev).toBe(1);
    expect(store.put("mailbox", "b1", mailbox("B")).rev).toBe(2);
    store.put("content", "C-1", new Uint8Array([1, 2, 3]));
    store.delete("C-1");
    expect(store.get("C-1")).toBeUndefined();
    expect(store.getIncludingDeleted("C-1")).toMatchObject({ rev: 2, content: null });
    expect(store.generation()).toBe(4);
    const log = store.changesSince(0);
    expect(log.map((d) => [d.id, d.gen, d.rev])).toEqual([
      ["b1", 2, 2],
      ["C-1", 4, 2],
    ]);
    expect(store.changesSince(2).map((d) => d.id)).toEqual(["C-1"]);
    expect(store.get("b1", "mailbox")?.content?.name).toBe("B");
    expect(() => store.get("b1", "flags")).toThrow(/is a mailbox/);
  });

  it("rolls back every write of a failed transaction and skips its after-commit work", async () => {
    const temp = await openTempStore();
    close = temp.close;
    const { store } = temp;
    let ran = false;
    expect(() =>
      store.transaction(() => {
        store.put("mailbox", "b1", mailbox("A"));
        store.afterCommit(() => (ran = true));
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(store.get("b1")).toBeUndefined();
    expect(store.generation()).toBe(0);
    expect(ran).toBe(false);
  });

  it("refuses invalid document content", async () => {
    const temp = await openTempStore();
    close = temp.close;
    // The mailbox schema's own refusal (an empty name), not some other failure.
    expect(() => temp.store.put("mailbox", "b1", { name: "" } as never)).toThrow(ZodError);
    expect(() => temp.store.put("mailbox", "b1", { name: "" } as never)).toThrow(/too_small[\s\S]*"name"/);
    expect(temp.store.get("b1")).toBeUndefined();
  });

  it("cannot be opened with another secret", async () => {
    const temp = await openTempStore();
    close = temp.close;
    temp.store.put("mailbox", "b1", mailbox("A"));
    temp.store.close();
    await expect(DocumentStore.open(temp.file, new Uint8Array(randomBytes(64)))).rejects.toBeInstanceOf(StoreLockedError);
    const again = await DocumentStore.open(temp.file, temp.secret);
    expect(again.get("b1", "mailbox")?.content?.name).toBe("A");
    again.close();
  });

  it("belongs to one opener at a time, and says so to a second one", async () => {
    const temp = await openTempStore();
    close = temp.close;
    temp.store.put("mailbox", "b1", mailbox("A"));
    const second = DocumentStore.open(temp.file, temp.secret);
    await expect(second).rejects.toBeInstanceOf(StoreBusyError);
    await expect(second).rejects.toThrow(/in use by another process/);
    // The owner goes on undisturbed, and the next opener gets the store once it is closed.
    temp.store.put("mailbox", "b2", mailbox("B"));
    temp.store.close();
    const next = await DocumentStore.open(temp.file, temp.secret);
    expect(next.get("b2", "mailbox")?.content?.name).toBe("B");
    next.close();
  });
});
