// A minimal IMAP client over a raw socket, for tests that must see the exact
// bytes: it sends what it is told and collects responses up to a tagged one.
import net from "node:net";

export class RawImap {
  private chunks: Buffer[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk);
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
    return client;
  }

  private wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  /** The last bytes received, as text: what `done` looks at, so that waiting
   * on a large answer does not rescan all of it for every chunk. */
  private tail(): string {
    const window = 64 * 1024;
    const parts: Buffer[] = [];
    let length = 0;
    for (let i = this.chunks.length - 1; i >= 0 && length < window; i--) {
      parts.unshift(this.chunks[i]!);
      length += this.chunks[i]!.length;
    }
    return Buffer.concat(parts).toString("latin1");
  }

  /** Waits (bounded) until the text received (its last 64 KiB) satisfies
   * `done`, then returns all of it and consumes it. */
  async readUntil(done: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.tail())) {
      if (this.closed) break;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; received so far: ${JSON.stringify(this.tail().slice(-500))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const text = Buffer.concat(this.chunks).toString("latin1");
    this.chunks = [];
    return text;
  }

  /** Stops reading the socket, as a slow client would; its data waits in the kernel. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
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
