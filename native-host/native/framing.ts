// Native-messaging framing: a 32-bit little-endian length, then that many
// bytes of UTF-8 JSON.

export function encodeNativeMessage(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), "utf8");
  const header = Buffer.alloc(4);
  header.writeUInt32LE(body.length, 0);
  return Buffer.concat([header, body]);
}

export type Frame = { kind: "message"; text: string } | { kind: "too-large"; length: number };

/** Cuts a byte stream into frames. A frame longer than the limit is
 * reported once and its bytes are skipped as they arrive, never buffered,
 * so the frames after it are read normally. */
export class NativeMessageReader {
  private buffer: Buffer = Buffer.alloc(0);
  /** Bytes of an oversized frame still to skip. */
  private skipping = 0;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.skipping > 0) {
        const skipped = Math.min(this.skipping, this.buffer.length);
        this.skipping -= skipped;
        this.buffer = this.buffer.subarray(skipped);
        if (this.skipping > 0) return frames;
      }
      if (this.buffer.length < 4) return frames;
      const length = this.buffer.readUInt32LE(0);
      if (length > this.maxBytes) {
        frames.push({ kind: "too-large", length });
        this.buffer = this.buffer.subarray(4);
        this.skipping = length;
        continue;
      }
      if (this.buffer.length < 4 + length) return frames;
      frames.push({ kind: "message", text: this.buffer.subarray(4, 4 + length).toString("utf8") });
      this.buffer = this.buffer.subarray(4 + length);
    }
  }
}
