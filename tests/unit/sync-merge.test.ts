import { afterEach, describe, expect, it } from "vitest";
import type { Doc, FlagsContent } from "../../shared/documents";
import { HybridClock } from "../../native-host/store/hybrid-clock";
import { mergeDocuments, mergeFlags } from "../../native-host/sync/merge";
import { openTempStore } from "../helpers/temp-store";

let close = () => {};
afterEach(() => close());

const hash = "A".repeat(64);
const flags = (list: string[], clock: Record<string, string> = {}): FlagsContent => ({ mailbox: "box-inbox", msgHash: hash, flags: list, internalDate: 1, clock });

describe("hybrid clock", () => {
  it("never goes backwards, moves past remote stamps and survives a reopen", async () => {
    const temp = await openTempStore();
    close = temp.close;
    let now = 1_000;
    const clock = new HybridClock(temp.store.sql, () => now);
    const a = clock.tick();
    now = 500; // the wall clock stepped back
    const b = clock.tick();
    expect(b > a).toBe(true);
    clock.observe(`${String(5_000).padStart(16, "0")}-000003-ffffffff`);
    const c = clock.tick();
    expect(c > `${String(5_000).padStart(16, "0")}-000003-ffffffff`).toBe(true);
    const reopened = new HybridClock(temp.store.sql, () => 0);
    expect(reopened.tick() > c).toBe(true);
    expect(reopened.deviceId).toBe(clock.deviceId);
  });
});

describe("merging two devices' edits", () => {
  it("merges flags flag by flag, the later change winning", () => {
    // Device 1 set \Seen at t2 and cleared \Flagged at t3; device 2 set $Work at t4 and set \Flagged at t1.
    const local = flags(["\\Seen"], { "\\seen": "t2", "\\flagged": "t3" });
    const remote = flags(["\\Flagged", "$Work"], { "\\flagged": "t1", $work: "t4" });
    const merged = mergeFlags(local, remote);
    expect(merged.flags).toEqual(["$Work", "\\Seen"]);
    expect(merged.clock).toEqual({ "\\seen": "t2", "\\flagged": "t3", $work: "t4" });
    // Merging is symmetric: both devices reach the same state.
    expect(mergeFlags(remote, local).flags).toEqual(merged.flags);
  });

  it("lets a deletion win and keeps the later mailbox edit", () => {
    const live: Doc = { id: "F-x", rev: 2, type: "flags", content: flags(["\\Seen"]) };
    const deleted: Doc = { id: "F-x", rev: 3, type: "flags", content: null };
    expect(mergeDocuments(live, deleted).content).toBeNull();
    expect(mergeDocuments(deleted, live).content).toBeNull();
    const box = (name: string, clock: string): Doc => ({
      id: "box-1",
      rev: 1,
      type: "mailbox",
      content: { name, uidValidity: 9, subscribed: true, specialUse: null, created: 0, clock },
    });
    expect((mergeDocuments(box("Old", "t1"), box("New", "t2")).content as { name: string }).name).toBe("New");
    expect((mergeDocuments(box("Newer", "t3"), box("New", "t2")).content as { name: string }).name).toBe("Newer");
  });
});
