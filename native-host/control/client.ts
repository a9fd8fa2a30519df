// The client end of the control socket, for bitmaskctl and the bridge.
import net from "node:net";
import {
  controlEvent,
  controlMethods,
  controlReply,
  isEventLine,
  type ControlEvent,
  type ControlMethod,
  type ControlParams,
  type ControlReply,
  type ControlResult,
  type ErrorCode,
} from "../../shared/control-api";
import { LineReader } from "./line-reader";
import { CONTROL_REPLY_TIMEOUT_MS, MAX_CONTROL_REPLY_BYTES } from "./limits";

export class DaemonNotRunningError extends Error {
  constructor(readonly socketPath: string) {
    super(`bitmaskd is not running (nothing answers on ${socketPath})`);
    this.name = "DaemonNotRunningError";
  }
}

/** The daemon answered with an error. */
export class ControlRequestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ControlRequestError";
  }
}

type Pending = { resolve(reply: ControlReply): void; reject(error: Error): void; timer: NodeJS.Timeout };

export class ControlClient {
  private nextId = 1;
  private readonly pending = new Map<number | string, Pending>();
  private readonly eventListeners = new Set<(event: ControlEvent) => void>();
  private readonly closeListeners = new Set<() => void>();

  private constructor(private readonly socket: net.Socket) {
    const reader = new LineReader(MAX_CONTROL_REPLY_BYTES);
    socket.on("data", (chunk: Buffer) => {
      let lines: string[];
      try {
        lines = reader.push(chunk);
      } catch (error) {
        this.failAll(error as Error);
        socket.destroy();
        return;
      }
      for (const line of lines) this.receive(line);
    });
    socket.on("error", (error) => this.failAll(error));
    socket.on("close", () => {
      this.failAll(new Error("bitmaskd closed the control connection"));
      for (const listener of this.closeListeners) listener();
    });
  }

  static connect(socketPath: string): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(socketPath);
      socket.once("connect", () => {
        socket.removeAllListeners("error");
        resolve(new ControlClient(socket));
      });
      socket.once("error", (error: NodeJS.ErrnoException) => {
        reject(["ENOENT", "ECONNREFUSED"].includes(error.code ?? "") ? new DaemonNotRunningError(socketPath) : error);
      });
    });
  }

  /** Sends a request and answers the reply as it came (for relaying). */
  send(method: string, params: unknown, id: number | string = this.nextId++): Promise<ControlReply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`bitmaskd did not answer ${method} within ${CONTROL_REPLY_TIMEOUT_MS / 1000} s`));
      }, CONTROL_REPLY_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  /** Calls a method; answers its checked result or throws ControlRequestError. */
  async request<M extends ControlMethod>(method: M, params: ControlParams<M>): Promise<ControlResult<M>> {
    const reply = await this.send(method, params);
    if ("error" in reply) throw new ControlRequestError(reply.error.code, reply.error.message);
    return controlMethods[method].result.parse(reply.result) as ControlResult<M>;
  }

  onEvent(listener: (event: ControlEvent) => void): void {
    this.eventListeners.add(listener);
  }

  onClose(listener: () => void): void {
    this.closeListeners.add(listener);
  }

  close(): void {
    this.socket.end();
  }

  private receive(line: string): void {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return;
    }
    if (isEventLine(json)) {
      const event = controlEvent.safeParse(json);
      if (event.success) for (const listener of this.eventListeners) listener(event.data);
      return;
    }
    const reply = controlReply.safeParse(json);
    if (!reply.success || reply.data.id === null) return;
    const pending = this.pending.get(reply.data.id);
    if (!pending) return;
    this.pending.delete(reply.data.id);
    clearTimeout(pending.timer);
    pending.resolve(reply.data);
  }

  private failAll(error: Error): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.pending.delete(id);
    }
  }
}
