// The open event streams (GET /events), per account: what the change feed
// says goes to every stream of that user at once, written straight to the
// socket (nothing queued per event). One timer for all streams sends the
// keep-alives and closes the streams whose device stopped reading or whose
// token is no longer good.
import type { ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { ProviderEvent } from "../../shared/provider-api";
import type { Clock, Limits } from "../options";
import type { ChangeFeed } from "../storage/change-feed";

type EventStream = { res: ServerResponse; stillValid(): boolean };

const KEEP_ALIVE = ": keep-alive\n\n";

export class EventStreams {
  private readonly byUser = new Map<number, Set<EventStream>>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    feed: ChangeFeed,
    private readonly limits: Pick<Limits, "eventStreamsPerAccount" | "eventKeepAliveMs" | "eventBacklogBytes">,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    feed.on("incoming", (userId) => this.publish(userId, { type: "incoming" }));
    feed.on("sync", (userId, generation) => this.publish(userId, { type: "sync", generation }));
  }

  /** Takes over `res` as the user's stream, starting with `ready`. `stillValid`
   * is asked at each keep-alive (false: the token expired, close it). */
  open(userId: number, res: ServerResponse, ready: ProviderEvent, stillValid: () => boolean): void {
    if (this.closed) {
      res.destroy();
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", "x-accel-buffering": "no" });
    res.flushHeaders();
    // Nagle would hold a small event back until the previous one is acknowledged.
    res.socket?.setNoDelay(true);
    const streams = this.byUser.get(userId) ?? new Set<EventStream>();
    this.byUser.set(userId, streams);
    const stream: EventStream = { res, stillValid };
    streams.add(stream);
    for (const oldest of streams) {
      if (streams.size <= this.limits.eventStreamsPerAccount) break;
      this.close(userId, oldest);
    }
    res.on("close", () => this.forget(userId, stream));
    res.write(format(ready));
    this.startTimer();
  }

  /** Streams open now (all users). */
  count(): number {
    let total = 0;
    for (const streams of this.byUser.values()) total += streams.size;
    return total;
  }

  /** Ends every stream (the provider is stopping); devices reconnect elsewhen. */
  closeAll(): void {
    this.closed = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    for (const [userId, streams] of this.byUser) for (const stream of streams) this.close(userId, stream);
  }

  private publish(userId: number, event: ProviderEvent): void {
    const streams = this.byUser.get(userId);
    if (!streams) return;
    const text = format(event);
    for (const stream of streams) this.send(userId, stream, text);
  }

  private send(userId: number, stream: EventStream, text: string): void {
    if (stream.res.writableLength > this.limits.eventBacklogBytes) {
      this.log.info({ event: "events-closed", reason: "not reading" }, "event stream closed");
      this.close(userId, stream);
      return;
    }
    stream.res.write(text);
  }

  private close(userId: number, stream: EventStream): void {
    this.forget(userId, stream);
    stream.res.destroy();
  }

  private forget(userId: number, stream: EventStream): void {
    const streams = this.byUser.get(userId);
    if (!streams?.delete(stream)) return;
    if (streams.size === 0) this.byUser.delete(userId);
  }

  private startTimer(): void {
    if (this.timer || this.closed) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.keepAlive();
      if (this.byUser.size > 0) this.startTimer();
    }, this.limits.eventKeepAliveMs);
    this.timer.unref();
  }

  private keepAlive(): void {
    for (const [userId, streams] of this.byUser) {
      for (const stream of streams) {
        if (stream.stillValid()) this.send(userId, stream, KEEP_ALIVE);
        else this.close(userId, stream);
      }
    }
  }
}

function format(event: ProviderEvent): string {
  return `data: ${JSON.stringify(event)}\n\n`;
}
