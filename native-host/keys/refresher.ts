// Runs the keymanager's refresh periodically (LEAP had a refresher but never
// started it). The daemon starts one per unlocked account and stops it when
// the account locks.
import type { RefreshReport } from "./keymanager";

/** Often enough to extend the own key well inside its 60-day margin and to
 * see a contact's new key within the day; rare enough to tell the provider
 * and WKD hosts little. */
export const DEFAULT_REFRESH_INTERVAL_MS = 6 * 60 * 60 * 1000;

export type KeyRefresher = {
  /** Stops the timer and waits for a refresh under way to end. */
  stop(): Promise<void>;
};

export function startKeyRefresher(
  keys: { refreshKeys(): Promise<RefreshReport> },
  options: {
    intervalMs?: number;
    onReport?: (report: RefreshReport) => void;
    onError?: (error: unknown) => void;
  } = {},
): KeyRefresher {
  let running: Promise<void> | null = null;
  const run = () => {
    // A slow refresh is never overlapped by the next one.
    if (running) return;
    running = keys
      .refreshKeys()
      .then((report) => options.onReport?.(report), (error: unknown) => options.onError?.(error))
      .finally(() => (running = null));
  };
  const timer = setInterval(run, options.intervalMs ?? DEFAULT_REFRESH_INTERVAL_MS);
  // The refresher alone does not keep the daemon alive.
  timer.unref();
  run();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
