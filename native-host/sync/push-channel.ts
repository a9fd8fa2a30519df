// The provider's event stream for one account (GET /events, server-sent
// events): kept open while started, reconnected with jittered backoff when
// it breaks, and declared dead when even keep-alives stop coming. Each event
// is checked against the shared schema; what it means for sync is the
// provider loop's business.
import type { IncomingMessage } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { type ProviderEvent, providerEvent } from "../../shared/provider-api";
import { MAX_PUSH_EVENT_BYTES, PUSH_READY_TIMEOUT_MS, PUSH_RECONNECT_MAX_MS, PUSH_RECONNECT_START_MS } from "../limits";

/** off: not wanted (offline, stopped); connecting: first try; up: events
 * flow; down: broken, trying again after a pause. */
export type PushState = "off" | "connecting" | "up" | "down";

export type EventSource = { openEvents(signal: AbortSignal): Promise<IncomingMessage> };

export type PushChannelOptions = {
  onEvent(event: ProviderEvent): void;
  onState(state: PushState): void;
  /** Why the stream broke; said once per outage, not at every retry. */
  onProblem(message: string): void;
};

export class PushStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PushStreamError";
  }
}

export class PushChannel {
  private current: PushState = "off";
  private abort: AbortController | null = null;
  private running: Promise<void> | null = null;
  private reachedReady = false;

  constructor(
    private readonly source: EventSource,
    private readonly options: PushChannelOptions,
  ) {}

  get state(): PushState {
    return this.current;
  }

  start(): void {
    if (this.abort) return;
    const abort = new AbortController();
    this.abort = abort;
    this.running = this.keepOpen(abort.signal);
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    this.abort = null;
    await this.running;
    this.running = null;
    this.setState("off");
  }

  private async keepOpen(signal: AbortSignal): Promise<void> {
    let failures = 0;
    this.setState("connecting");
    while (!signal.aborted) {
      this.reachedReady = false;
      try {
        await this.listen(signal);
        if (!signal.aborted) throw new PushStreamError("the provider ended the event stream");
      } catch (error) {
        if (signal.aborted) break;
        // A stream that worked for a while starts a new outage.
        if (this.reachedReady) failures = 0;
        if (failures === 0) this.options.onProblem((error as Error).message);
      }
      failures++;
      this.setState("down");
      const delay = Math.min(PUSH_RECONNECT_START_MS * 2 ** (failures - 1), PUSH_RECONNECT_MAX_MS);
      await sleep(delay / 2 + Math.random() * (delay / 2), undefined, { signal, ref: false }).catch(() => undefined);
    }
  }

  /** One connection, until it breaks. */
  private async listen(signal: AbortSignal): Promise<void> {
    const connection = new AbortController();
    const stopConnection = () => connection.abort();
    signal.addEventListener("abort", stopConnection);
    let silenceMs = PUSH_READY_TIMEOUT_MS;
    let timer = setTimeout(stopConnection, silenceMs);
    const heard = () => {
      clearTimeout(timer);
      timer = setTimeout(stopConnection, silenceMs);
    };
    try {
      const response = await this.source.openEvents(connection.signal);
      const parser = new EventParser();
      try {
        for await (const chunk of response as AsyncIterable<Buffer>) {
          heard();
          for (const event of parser.feed(chunk.toString("utf8"))) {
            if (event.type === "ready") {
              // Keep-alives come this often: twice that in silence is a dead line.
              silenceMs = 2 * event.keepAliveMs + 1000;
              heard();
              this.reachedReady = true;
              this.setState("up");
            }
            this.options.onEvent(event);
          }
        }
      } finally {
        response.destroy();
      }
    } catch (error) {
      if (connection.signal.aborted && !signal.aborted) throw new PushStreamError(`the event stream was silent for ${silenceMs} ms`);
      throw error;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", stopConnection);
    }
  }

  private setState(state: PushState): void {
    if (state === this.current) return;
    this.current = state;
    this.options.onState(state);
  }
}

/** Server-sent events as the provider sends them: blocks separated by a
 * blank line, the event in its `data:` lines, comments (":") ignored. */
class EventParser {
  private pending = "";

  feed(text: string): ProviderEvent[] {
    this.pending += text.replace(/\r\n?/g, "\n");
    const events: ProviderEvent[] = [];
    for (let end = this.pending.indexOf("\n\n"); end >= 0; end = this.pending.indexOf("\n\n")) {
      const block = this.pending.slice(0, end);
      this.pending = this.pending.slice(end + 2);
      const data = block
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      if (data) events.push(parseEvent(data));
    }
    if (this.pending.length > MAX_PUSH_EVENT_BYTES) throw new PushStreamError(`an event longer than ${MAX_PUSH_EVENT_BYTES} bytes`);
    return events;
  }
}

function parseEvent(data: string): ProviderEvent {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw new PushStreamError(`an event that is not JSON: ${data.slice(0, 80)}`);
  }
  const result = providerEvent.safeParse(value);
  if (!result.success) throw new PushStreamError(`an event the API does not know: ${data.slice(0, 80)}`);
  return result.data;
}
