// The add-on's connection to the native host (the bridge to bitmaskd):
// numbered requests with promised replies, events, and retries with
// back-off while bitmaskd cannot be reached.
import browser from "webextension-polyfill";
import type { ControlEvent, ControlParams, ControlResult } from "../shared/control-api";
import { NATIVE_HOST_NAME, nativeIncoming, type AddonMethod, type NativeIncoming } from "../shared/native-messaging";

export class HostError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "HostError";
  }
}

type Pending = { resolve(result: unknown): void; reject(error: Error): void };
/** The bridge's events, and ours: whether bitmaskd answers, and when we try again if not. */
export type DaemonState = { event: "daemon"; state: "connected" | "disconnected"; message?: string; retryAt?: number };
type HostEvent = ControlEvent | DaemonState;

const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30_000;

/**
 * Two ways to lose bitmaskd, one back-off for both: the native host itself
 * goes away (connect again: Thunderbird starts a new bridge) or the bridge
 * stays but cannot reach the daemon (ask it for the status again, which
 * makes it connect, or start the daemon). Either way the add-on keeps
 * trying, 1 s, 2 s, 4 s... up to 30 s, until the daemon answers.
 */
export class NativeHost {
  private port: browser.Runtime.Port | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private reconnectDelay = RECONNECT_MIN_MS;
  private retry: { timer: ReturnType<typeof setTimeout>; action: () => void } | null = null;

  constructor(private readonly onEvent: (event: HostEvent) => void) {}

  connect(): void {
    const port = browser.runtime.connectNative(NATIVE_HOST_NAME);
    this.port = port;
    port.onMessage.addListener((message: unknown) => this.receive(message));
    port.onDisconnect.addListener(() => {
      if (this.port !== port) return;
      this.port = null;
      const reason = port.error?.message ?? "the native host closed";
      for (const pending of this.pending.values()) pending.reject(new HostError("daemon-unavailable", reason));
      this.pending.clear();
      this.unreachable(reason, () => this.connect());
    });
  }

  /** Runs the waiting retry now (the user asked to), restarting the back-off. */
  retryNow(): void {
    const retry = this.retry;
    if (!retry) return;
    clearTimeout(retry.timer);
    this.retry = null;
    this.reconnectDelay = RECONNECT_MIN_MS;
    retry.action();
  }

  request<M extends AddonMethod>(method: M, params: ControlParams<M>): Promise<ControlResult<M>> {
    if (!this.port) return Promise.reject(new HostError("daemon-unavailable", "not connected to the native host"));
    const id = this.nextId++;
    const reply = new Promise<ControlResult<M>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
    });
    this.port.postMessage({ id, method, params });
    return reply;
  }

  /** Says so, and schedules `action` after the current back-off delay. */
  private unreachable(message: string, action: () => void): void {
    if (this.retry) clearTimeout(this.retry.timer);
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
    this.retry = {
      timer: setTimeout(() => {
        this.retry = null;
        action();
      }, delay),
      action,
    };
    this.onEvent({ event: "daemon", state: "disconnected", message, retryAt: Date.now() + delay });
  }

  /** Asks through the open bridge; its "connected" event ends the retries. */
  private askBridgeAgain(): void {
    this.request("status", {}).catch((error: Error) => {
      if (this.port) this.unreachable(error.message, () => this.askBridgeAgain());
    });
  }

  private receive(message: unknown): void {
    const parsed = nativeIncoming.safeParse(message);
    if (!parsed.success) return;
    const incoming: NativeIncoming = parsed.data;
    if ("event" in incoming) {
      if (incoming.event === "daemon" && incoming.state === "connected") {
        this.reconnectDelay = RECONNECT_MIN_MS;
        if (this.retry) clearTimeout(this.retry.timer);
        this.retry = null;
      } else if (incoming.event === "daemon") {
        this.unreachable(incoming.message ?? "bitmaskd is not reachable", () => this.askBridgeAgain());
        return;
      }
      this.onEvent(incoming);
      return;
    }
    if (incoming.id === null) return;
    const pending = this.pending.get(incoming.id);
    if (!pending) return;
    this.pending.delete(incoming.id);
    if ("error" in incoming) pending.reject(new HostError(incoming.error.code, incoming.error.message));
    else pending.resolve(incoming.result);
  }
}
