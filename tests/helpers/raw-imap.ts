// A minimal IMAP client over a raw socket, for tests that must see the exact
// bytes: it sends what it is told and collects responses up to a tagged one.
import net from "node:net";

export class RawImap {
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
  }

  static async connect(port: number): Promise<RawImap> {
    const socket = net.connect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const client = new RawImap(socket);
    await client.readUntil((text) => text.includes("\r\n"));
    client.buffer = Buffer.alloc(0);
    return client;
  }

  private wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Waits (bounded) until the received text satisfies `done`, returns and consumes it. */
  async readUntil(done: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.buffer.toString("latin1"))) {
      if (this.closed) break;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; received so far: ${JSON.stringify(this.buffer.toString("latin1").slice(-500))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const text = this.buffer.toString("latin1");
    this.buffer = Buffer.alloc(0);
    return text;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends `tag command` and returns everything up to and including the tagged reply. */
  async command(tag: string, command: string | Buffer, timeoutMs?: number): Promise<string> {
    this.write(Buffer.concat([Buffer.from(`${tag} `), Buffer.from(command), Buffer.from("\r\n")]));
    return this.readUntil((text) => new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n$`).test(text) || this.closed, timeoutMs);
  }

  close(): void {
    this.socket.destroy();
  }
}
