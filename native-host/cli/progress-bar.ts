// The initial sync's progress bar on a terminal: one line redrawn in place.
const WIDTH = 30;

export function progressLine(done: number, total: number | null): string {
  // The provider has not said how many documents there are yet.
  if (total === null) return `[${"?".repeat(WIDTH)}] ${done} documents`;
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(fraction * WIDTH);
  const percent = String(Math.floor(fraction * 100)).padStart(3);
  return `[${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}] ${percent}% ${done}/${total} documents`;
}

export class ProgressBar {
  private drawn = false;

  constructor(private readonly out: NodeJS.WriteStream) {}

  update(done: number, total: number | null): void {
    // Off a terminal a redrawn line is noise in a log; the final result says enough.
    if (!this.out.isTTY) return;
    this.out.write(`\r${progressLine(done, total)}`);
    this.drawn = true;
  }

  finish(): void {
    if (this.drawn) this.out.write("\n");
    this.drawn = false;
  }
}
