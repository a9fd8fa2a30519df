// The add-on's connection to the native host (the bridge to bitmaskd):
// numbered requests with promised replies, events, and reconnection with
// back-off when the host goes away (Thunderbird then starts a new bridge,
// which starts the daemon if it is not running).
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
type HostEvent = ControlEvent | { event: "daemon"; state: "connected" | "disconnected"; message?: string };

const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30_000;

export class NativeHost {
  private port: browser.Runtime.Port | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private reconnectDelay = RECONNECT_MIN_MS;

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
      this.onEvent({ event: "daemon", state: "disconnected", message: reason });
      setTimeout(() => this.connect(), this.reconnectDelay);
      this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
    });
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

  private receive(message: unknown): void {
    const parsed = nativeIncoming.safeParse(message);
    if (!parsed.success) return;
    const incoming: NativeIncoming = parsed.data;
    if ("event" in incoming) {
      if (incoming.event === "daemon" && incoming.state === "connected") this.reconnectDelay = RECONNECT_MIN_MS;
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
