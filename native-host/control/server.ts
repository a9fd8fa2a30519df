// The daemon's control socket: a Unix socket (mode 0600, in a 0700 folder)
// speaking JSON lines (shared/control-api.ts). Each request is checked
// against its method's schema before a handler sees it; whatever a handler
// throws becomes an error reply, never a crash.
import { chmodSync, mkdirSync, unlinkSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { controlRequest, type ControlEvent, type ControlReply } from "../../shared/control-api";
import { dispatch } from "./dispatch";
import type { ControlHandlers } from "./errors";
import { LineReader, LineTooLongError } from "./line-reader";
import { MAX_CONTROL_LINE_BYTES } from "./limits";

export class DaemonAlreadyRunningError extends Error {
  constructor(readonly socketPath: string) {
    super(`another bitmaskd already answers on ${socketPath}`);
    this.name = "DaemonAlreadyRunningError";
  }
}

export type ControlServerOptions = {
  socketPath: string;
  handlers: ControlHandlers;
  /** Told of each failed request (not of its params: they may hold passphrases). */
  onError?(method: string, error: unknown): void;
};

/** True when something answers on the socket. */
function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

export class ControlServer {
  private readonly connections = new Set<net.Socket>();
  private readonly subscribers = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly socketPath: string,
  ) {}

  /** Listens on the socket; a stale socket file (no one answering) is
   * replaced, a live one means another daemon and throws. */
  static async listen(options: ControlServerOptions): Promise<ControlServer> {
    const { socketPath } = options;
    mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o700 });
    if (await socketAnswers(socketPath)) throw new DaemonAlreadyRunningError(socketPath);
    try {
      unlinkSync(socketPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    const server = net.createServer();
    const control = new ControlServer(server, socketPath);
    server.on("connection", (socket) => control.serve(socket, options));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, () => {
        server.off("error", reject);
        resolve();
      });
    });
    // The folder is 0700 already; the socket itself is 0600 as well, so a
    // looser folder mode set by hand still keeps other users out.
    chmodSync(socketPath, 0o600);
    return control;
  }

  /** Sends an event to every connection that subscribed. */
  broadcast(event: ControlEvent): void {
    const line = `${JSON.stringify(event)}\n`;
    for (const socket of this.subscribers) if (!socket.destroyed) socket.write(line);
  }

  async close(): Promise<void> {
    for (const socket of this.connections) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      unlinkSync(this.socketPath);
    } catch {
      // Already gone (net.Server removes it on close on some platforms).
    }
  }

  private serve(socket: net.Socket, options: ControlServerOptions): void {
    this.connections.add(socket);
    socket.on("close", () => {
      this.connections.delete(socket);
      this.subscribers.delete(socket);
    });
    socket.on("error", () => socket.destroy());
    const reader = new LineReader(MAX_CONTROL_LINE_BYTES);
    const send = (reply: ControlReply) => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
    };
    socket.on("data", (chunk: Buffer) => {
      let lines: string[];
      try {
        lines = reader.push(chunk);
      } catch (error) {
        if (!(error instanceof LineTooLongError)) throw error;
        send({ id: null, error: { code: "too-large", message: error.message } });
        socket.end();
        return;
      }
      for (const line of lines) {
        if (line.trim() === "") continue;
        void this.answer(line, socket, options).then(send);
      }
    });
  }

  private async answer(line: string, socket: net.Socket, options: ControlServerOptions): Promise<ControlReply> {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return { id: null, error: { code: "bad-request", message: "not JSON" } };
    }
    const request = controlRequest.safeParse(json);
    if (!request.success) return { id: null, error: { code: "bad-request", message: "not a request: needs id and method" } };
    const { id, method } = request.data;
    if (method === "subscribe") {
      this.subscribers.add(socket);
      return { id, result: { subscribed: true } };
    }
    return { id, ...(await dispatch(options.handlers, method, request.data.params, options.onError)) };
  }
}
