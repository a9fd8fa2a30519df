// Native-messaging framing: messages survive any chunking, and an
// oversized message is reported once and skipped without being buffered,
// leaving the stream in step for the next message.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeNativeMessage, NativeMessageReader, type Frame } from "../../native-host/native/framing";

function feed(reader: NativeMessageReader, bytes: Buffer, cuts: number[]): Frame[] {
  const frames: Frame[] = [];
  let start = 0;
  for (const cut of [...cuts.filter((at) => at > 0 && at < bytes.length)].sort((a, b) => a - b).concat(bytes.length)) {
    frames.push(...reader.push(bytes.subarray(start, cut)));
    start = cut;
  }
  return frames;
}

describe("native-messaging framing", () => {
  it("encodes a 32-bit little-endian length and UTF-8 JSON", () => {
    const frame = encodeNativeMessage({ text: "é" });
    expect(frame.readUInt32LE(0)).toBe(frame.length - 4);
    expect(frame.subarray(4).toString("utf8")).toBe('{"text":"é"}');
  });

  it("reads back any messages, however the bytes are cut", () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (messages, cuts) => {
        const bytes = Buffer.concat(messages.map(encodeNativeMessage));
        const frames = feed(new NativeMessageReader(1 << 20), bytes, cuts.map((cut) => cut % (bytes.length + 1)));
        expect(frames.map((frame) => (frame.kind === "message" ? JSON.parse(frame.text) : frame))).toEqual(
          messages.map((message) => JSON.parse(JSON.stringify(message))),
        );
      }),
    );
  });

  it("skips an oversized message, in pieces, and reads the next one", () => {
    const big = Buffer.alloc(4 + 5000);
    big.writeUInt32LE(5000, 0);
    const bytes = Buffer.concat([encodeNativeMessage("before"), big, encodeNativeMessage("after")]);
    for (const step of [1, 7, 1000, bytes.length]) {
      const cuts = Array.from({ length: Math.ceil(bytes.length / step) }, (_, n) => n * step);
      expect(feed(new NativeMessageReader(100), bytes, cuts)).toEqual([
        { kind: "message", text: '"before"' },
        { kind: "too-large", length: 5000 },
        { kind: "message", text: '"after"' },
      ]);
    }
  });

  it("waits for the rest of a message that has not fully arrived", () => {
    const reader = new NativeMessageReader(100);
    const frame = encodeNativeMessage({ a: 1 });
    expect(reader.push(frame.subarray(0, 3))).toEqual([]);
    expect(reader.push(frame.subarray(3, 8))).toEqual([]);
    expect(reader.push(frame.subarray(8))).toEqual([{ kind: "message", text: '{"a":1}' }]);
  });
});
