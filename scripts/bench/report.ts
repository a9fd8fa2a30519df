// Shared measurement and printing helpers for `npm run bench`.
//
// Project rule: a speed or memory figure is only meaningful as a ratio against
// a reference measured in the same run on the same machine. Every bench
// therefore measures "ours" and "reference" through the same helpers, each in
// its own child process (so the process-wide peak RSS belongs to one phase),
// and prints ours/reference next to the absolute figures.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";

// ---------------------------------------------------------------------------
// Measuring

/** Work done in a span of time: the raw material of messages/s and MB/s. */
export type Throughput = { messages: number; bytes: number; seconds: number };

/** Accumulates time spent inside `measure` calls only, so that work around
 * them in the same loop (verification, progress) is not counted. */
export class Stopwatch {
  private elapsedMs = 0;

  measure<T>(work: () => T): T {
    const start = performance.now();
    try {
      return work();
    } finally {
      this.elapsedMs += performance.now() - start;
    }
  }

  get seconds(): number {
    return this.elapsedMs / 1000;
  }
}

/** Peak resident set size of this whole process so far, in bytes. */
export function peakRssBytes(): number {
  // maxRSS is in kilobytes (KiB on Linux and macOS).
  return process.resourceUsage().maxRSS * 1024;
}

/** Collects garbage if node runs with --expose-gc (npm run bench does), so a
 * phase does not pay for the garbage of the one before. */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Reports progress on stderr roughly every tenth of the way; silent otherwise. */
export class Progress {
  private nextReport: number;
  private readonly step: number;

  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {
    this.step = Math.max(1, Math.ceil(total / 10));
    this.nextReport = this.step;
  }

  tick(done: number): void {
    if (done < this.nextReport && done !== this.total) return;
    while (this.nextReport <= done) this.nextReport += this.step;
    const percent = Math.round((done / this.total) * 100);
    process.stderr.write(`  ${this.label}: ${done}/${this.total} (${percent}%)\n`);
  }
}

/** A scratch folder that is removed afterwards, whatever happens. */
export async function withTempDir<T>(prefix: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    return await work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// Running a phase in its own process

/** The flag by which the bench program runs one phase instead of the suite. */
export const PHASE_FLAG = "--phase";

/** Runs `node <this program> --phase <name> <args>` with the same node flags
 * (so --expose-gc carries over), passes stderr (progress) through and returns
 * the JSON the phase printed as its last line of stdout. */
export function runPhaseInChild<T>(phase: string, args: string[]): Promise<T> {
  const program = process.argv[1];
  if (!program) throw new Error("cannot tell which script is running, so cannot start a phase");
  return new Promise<T>((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, program, PHASE_FLAG, phase, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const stdout: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code !== 0) {
        reject(new Error(`phase ${phase} failed (${signal ? `signal ${signal}` : `exit code ${code}`})`));
        return;
      }
      const lines = Buffer.concat(stdout).toString("utf8").trim().split("\n");
      try {
        resolve(JSON.parse(lines[lines.length - 1] ?? "") as T);
      } catch {
        reject(new Error(`phase ${phase} printed no result`));
      }
    });
  });
}

/** What a phase prints for its parent: one line of JSON on stdout. */
export function printPhaseResult(result: unknown): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// ---------------------------------------------------------------------------
// Figures and formatting

const MB = 1_000_000;
const MiB = 1024 * 1024;

export const messagesPerSecond = (work: Throughput) => work.messages / work.seconds;
export const megabytesPerSecond = (work: Throughput) => work.bytes / MB / work.seconds;

/** ours/reference as printed: "1.84x". For rates, > 1 means we are faster;
 * for sizes and times, > 1 means we use more. The table says which. */
export function formatRatio(ours: number, reference: number): string {
  if (!(reference > 0) || !Number.isFinite(ours)) return "n/a";
  const ratio = ours / reference;
  return `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}x`;
}

export function formatNumber(value: number, digits = 0): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const formatMiB = (bytes: number) => `${formatNumber(bytes / MiB, 1)} MiB`;
export const formatSeconds = (seconds: number) => `${formatNumber(seconds, 2)} s`;

/** A plain-text table: first row is the header, first column left-aligned,
 * the others right-aligned (they hold numbers). */
export function renderTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  const [header, ...body] = rows;
  if (!header) return "";
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  return [line(header), rule, ...body.map(line)].join("\n");
}

// ---------------------------------------------------------------------------
// What a bench is

export type BenchOptions = { messages: number };

/** One bench's outcome: a table for people, data for --json. */
export type BenchReport = {
  name: string;
  title: string;
  /** Lines printed under the title, before the table. */
  summary: string[];
  table: string[][];
  /** Lines printed under the table. */
  notes: string[];
  data: unknown;
};

export type Bench = {
  name: string;
  description: string;
  /** Phases the parent runs in child processes, by name (qualified as bench.phase). */
  phases: Record<string, (options: BenchOptions) => Promise<unknown>>;
  run(options: BenchOptions): Promise<BenchReport>;
};

export function printReport(report: BenchReport): void {
  const lines = [report.title, ...report.summary.map((line) => `  ${line}`), "", renderTable(report.table)];
  if (report.notes.length > 0) lines.push("", ...report.notes.map((line) => `  ${line}`));
  process.stdout.write(`${lines.join("\n")}\n\n`);
}
