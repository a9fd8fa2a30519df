// bitmaskctl's sync progress bar: the line it draws, and that it draws
// nothing off a terminal (a log gets the final result only).
import { describe, expect, it } from "vitest";
import { ProgressBar, progressLine } from "../../native-host/cli/progress-bar";

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { written: string } {
  const stream = { isTTY, written: "", write(text: string) {
    stream.written += text;
    return true;
  } };
  return stream as unknown as NodeJS.WriteStream & { written: string };
}

describe("sync progress bar", () => {
  it("fills in proportion and counts documents", () => {
    expect(progressLine(0, 200)).toBe(`[${"-".repeat(30)}]   0% 0/200 documents`);
    expect(progressLine(100, 200)).toBe(`[${"#".repeat(15)}${"-".repeat(15)}]  50% 100/200 documents`);
    expect(progressLine(200, 200)).toBe(`[${"#".repeat(30)}] 100% 200/200 documents`);
    // Nothing to sync, or a count that overshoots: never a broken bar.
    expect(progressLine(0, 0)).toBe(`[${"-".repeat(30)}]   0% 0/0 documents`);
    expect(progressLine(7, 5)).toContain("100%");
    expect(progressLine(12, null)).toBe(`[${"?".repeat(30)}] 12 documents`);
  });

  it("redraws one line on a terminal and ends it", () => {
    const tty = fakeStream(true);
    const bar = new ProgressBar(tty);
    bar.update(1, 2);
    bar.update(2, 2);
    bar.finish();
    expect(tty.written).toBe(`\r${progressLine(1, 2)}\r${progressLine(2, 2)}\n`);
  });

  it("draws nothing off a terminal", () => {
    const pipe = fakeStream(false);
    const bar = new ProgressBar(pipe);
    bar.update(1, 2);
    bar.finish();
    expect(pipe.written).toBe("");
  });
});
