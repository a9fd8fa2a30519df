// `npm run bench`: measures our components against references run on the
// same machine in the same run, and prints the figures with their ratios.
//
// The parent process runs each bench; a bench runs each of its phases in a
// child process (`dist/bench.js --phase <bench>.<phase>`) so that the peak
// RSS of one phase is not the peak of another.
import { Command, InvalidArgumentError, Option } from "commander";
import { type Bench, type BenchOptions, type BenchReport, PHASE_FLAG, printPhaseResult, printReport } from "./report";
import { imapBench } from "./imap-bench";
import { incomingBench } from "./incoming-bench";
import { pgpBench } from "./pgp-bench";
import { pushBench } from "./push-bench";
import { storeBench } from "./store-bench";
import { thunderbirdBench } from "./thunderbird-bench";
import { syncBench } from "./sync-bench";

const BENCHES: readonly Bench[] = [
  storeBench,
  imapBench,
  pgpBench,
  syncBench,
  incomingBench,
  pushBench,
  thunderbirdBench,
];

const DEFAULT_MESSAGES = 10_000;
const QUICK_MESSAGES = 1_000;

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number of at least 1");
  return n;
}

type CommandLine = { messages: number; quick?: boolean; only?: string; json?: boolean; phase?: string };

const program = new Command()
  .name("npm run bench --")
  .description("Benchmarks, each printed as a ratio against a reference measured in the same run.")
  .option("--messages <n>", "messages in the generated corpus", positiveInteger, DEFAULT_MESSAGES)
  .option("--quick", `a quick run: ${QUICK_MESSAGES} messages (unless --messages is given)`)
  .addOption(new Option("--only <name>", "run only this bench").choices(BENCHES.map((bench) => bench.name)))
  .option("--json", "print the results as JSON on stdout instead of tables")
  .addOption(new Option(`${PHASE_FLAG} <bench.phase>`, "internal: run one phase and print its result").hideHelp())
  .addHelpText(
    "after",
    `\nBenches:\n${BENCHES.map((bench) => `  ${bench.name.padEnd(10)} ${bench.description}`).join("\n")}\n` +
      "\nProgress goes to stderr, results to stdout.",
  );

async function runPhase(qualifiedName: string, options: BenchOptions): Promise<void> {
  const [benchName, phaseName] = qualifiedName.split(".");
  const phase = BENCHES.find((bench) => bench.name === benchName)?.phases[phaseName ?? ""];
  if (!phase) throw new Error(`no such phase: ${qualifiedName}`);
  printPhaseResult(await phase(options));
}

async function main(): Promise<void> {
  program.parse();
  const commandLine = program.opts<CommandLine>();
  const messagesGiven = program.getOptionValueSource("messages") !== "default";
  const options: BenchOptions = {
    messages: commandLine.quick && !messagesGiven ? QUICK_MESSAGES : commandLine.messages,
  };

  if (commandLine.phase) {
    await runPhase(commandLine.phase, options);
    return;
  }

  const benches = BENCHES.filter((bench) => !commandLine.only || bench.name === commandLine.only);
  const reports: BenchReport[] = [];
  for (const bench of benches) {
    process.stderr.write(`bench ${bench.name}: ${bench.description} (${options.messages} messages)\n`);
    const report = await bench.run(options);
    reports.push(report);
    if (!commandLine.json) printReport(report);
  }
  if (commandLine.json) {
    const results = Object.fromEntries(reports.map((report) => [report.name, report.data]));
    process.stdout.write(`${JSON.stringify({ options, node: process.version, results }, null, 2)}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
