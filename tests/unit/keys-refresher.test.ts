// The periodic key refresh: runs at start and then every interval, never two
// at once, and stop() waits for the one under way.
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { RefreshReport } from "../../native-host/keys/keymanager";
import { startKeyRefresher } from "../../native-host/keys/refresher";

const REPORT: RefreshReport = { checked: 0, updated: [], ownKeyExtended: false, ownKeyPublished: false, problems: [] };

describe("key refresher", () => {
  it("refreshes at once and then periodically, without overlapping a slow run", async () => {
    let started = 0;
    let running = 0;
    let mostAtOnce = 0;
    const keys = {
      async refreshKeys() {
        started++;
        running++;
        mostAtOnce = Math.max(mostAtOnce, running);
        await sleep(60);
        running--;
        return REPORT;
      },
    };
    const reports: RefreshReport[] = [];
    const refresher = startKeyRefresher(keys, { intervalMs: 20, onReport: (report) => reports.push(report) });
    expect(started).toBe(1);
    await sleep(200);
    await refresher.stop();
    expect(running).toBe(0);
    expect(mostAtOnce).toBe(1);
    expect(started).toBeGreaterThanOrEqual(2);
    expect(reports).toHaveLength(started);
    const afterStop = started;
    await sleep(60);
    expect(started).toBe(afterStop);
  });

  it("hands failures to onError and keeps going", async () => {
    const errors: unknown[] = [];
    const keys = { refreshKeys: () => Promise.reject(new Error("provider down")) };
    const refresher = startKeyRefresher(keys, { intervalMs: 10, onError: (error) => errors.push(error) });
    await sleep(50);
    await refresher.stop();
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect((errors[0] as Error).message).toBe("provider down");
  });
});
