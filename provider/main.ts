// bitmask-provider: the provider in one command (HTTP API, MX, submission
// relay, one SQLite file). Prints one JSON line on stdout once listening:
// {"event":"listening","domain","url","httpPort","mxPort","submissionPort"}.
// Logs (JSON, pino) go to stderr and never contain mail content.
// `bitmask-provider setup --domain D --postfix DIR` writes a Postfix
// deployment's configuration instead (provider/postfix/setup.ts).
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import pino from "pino";
import { portNumber } from "../shared/port-option";
import type { PostfixLink, Route } from "./options";
import { readPostfixSetup, SetupError, writePostfixSetup } from "./postfix/setup";
import { startProvider } from "./provider";
import { parseRoute } from "./relay/routes";

/** Exit codes: 0 stopped cleanly (SIGINT/SIGTERM), 1 unexpected failure,
 * 2 bad arguments, 3 a port is taken. */
const EXIT_BAD_ARGUMENTS = 2;
const EXIT_PORT_IN_USE = 3;

type Options = {
  domain: string;
  dataDir: string;
  host: string;
  httpPort: number;
  mxPort: number;
  submissionPort: number;
  route: [string, Route][];
  tlsCert?: string;
  tlsKey?: string;
  postfix?: string;
  dnsServer: string[];
  quotaMb: number;
  maxMessageMb: number;
  verbose: boolean;
};

function positive(value: string): number {
  const number = Number(value);
  if (!(number > 0)) throw new InvalidArgumentError(`not a positive number: ${value}`);
  return number;
}

function addRoute(spec: string, routes: [string, Route][]): [string, Route][] {
  try {
    return [...routes, parseRoute(spec)];
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

if (process.argv[2] === "setup") {
  const setup = new Command()
    .name("bitmask-provider setup")
    .description("write the Postfix (and DKIM) configuration for a deployment, and print the DNS records to publish")
    .requiredOption("--domain <domain>", "the provider's mail domain")
    .requiredOption("--postfix <dir>", "the folder to write the configuration to")
    .option("--mx-host <name>", "the host name of the MX record (default mx.<domain>)")
    .option("--queue-dir <dir>", "Postfix's queue directory", "/var/spool/postfix")
    .option("--selector <name>", "the DKIM selector", "bitmask1")
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_BAD_ARGUMENTS));
  setup.parse(process.argv.slice(3), { from: "user" });
  const given = setup.opts<{ domain: string; postfix: string; mxHost?: string; queueDir: string; selector: string }>();
  try {
    const written = writePostfixSetup({ domain: given.domain.toLowerCase(), dir: given.postfix, mxHost: given.mxHost, queueDir: given.queueDir, selector: given.selector });
    process.stdout.write(`${written.instructions}\n`);
    process.exit(0);
  } catch (error) {
    process.stderr.write(`bitmask-provider setup: ${(error as Error).message}\n`);
    process.exit(error instanceof SetupError ? EXIT_BAD_ARGUMENTS : 1);
  }
}

const program = new Command()
  .name("bitmask-provider")
  .description("Bitmask Mail provider: accounts (SRP), sync store, key directory, MX and submission relay")
  .requiredOption("--domain <domain>", "the provider's mail domain (users are name@domain)")
  .requiredOption("--data-dir <dir>", "where the database is kept")
  .option("--host <address>", "address every service binds to", "127.0.0.1")
  .addOption(new Option("--http-port <port>", "HTTP API port (0: any free port)").default(8443).argParser(portNumber))
  .addOption(new Option("--mx-port <port>", "MX SMTP port (0: any free port)").default(25).argParser(portNumber))
  .addOption(new Option("--submission-port <port>", "submission SMTP port (0: any free port)").default(587).argParser(portNumber))
  .addOption(
    new Option("--route <domain=host:port>", "send mail for a domain to that MX (repeatable)")
      .argParser(addRoute)
      .default([]),
  )
  .option("--postfix <dir>", "exchange mail with other domains through Postfix, as set up by `bitmask-provider setup`")
  .addOption(new Option("--dns-server <ip[:port]>", "DNS server for SPF, DKIM and DMARC checks (repeatable; default: the system's)").argParser((value: string, list: string[]) => [...list, value]).default([]))
  .option("--tls-cert <file>", "PEM certificate: HTTPS, and STARTTLS on SMTP")
  .option("--tls-key <file>", "PEM private key for --tls-cert")
  .addOption(new Option("--quota-mb <n>", "storage quota per user in MiB").default(1024).argParser(positive))
  .addOption(new Option("--max-message-mb <n>", "largest accepted message in MiB").default(25).argParser(positive))
  .option("-v, --verbose", "log every request and delivery (never content)", false)
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_BAD_ARGUMENTS));

program.parse();
const options = program.opts<Options>();
const log = pino({ name: "bitmask-provider", level: options.verbose ? "info" : "warn" }, pino.destination(2));

if (Boolean(options.tlsCert) !== Boolean(options.tlsKey)) {
  log.fatal("--tls-cert and --tls-key go together");
  process.exit(EXIT_BAD_ARGUMENTS);
}

let postfix: PostfixLink | undefined;
try {
  postfix = options.postfix ? { ...readPostfixSetup(options.postfix), dnsServers: options.dnsServer } : undefined;
} catch (error) {
  log.fatal({ err: (error as Error).message }, "bad --postfix folder");
  process.exit(EXIT_BAD_ARGUMENTS);
}

try {
  const provider = await startProvider({
    domain: options.domain,
    dataDir: options.dataDir,
    host: options.host,
    httpPort: options.httpPort,
    mxPort: options.mxPort,
    submissionPort: options.submissionPort,
    routes: Object.fromEntries(options.route),
    postfix,
    tls: options.tlsCert && options.tlsKey ? { cert: readFileSync(options.tlsCert, "utf8"), key: readFileSync(options.tlsKey, "utf8") } : undefined,
    limits: { quotaBytes: Math.round(options.quotaMb * 1024 * 1024), maxMessageBytes: Math.round(options.maxMessageMb * 1024 * 1024) },
    logger: log,
  });
  const { domain, url, httpPort, mxPort, submissionPort } = provider;
  process.stdout.write(`${JSON.stringify({ event: "listening", domain, url, httpPort, mxPort, submissionPort })}\n`);
  const stop = () => {
    provider.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: String(error) }, "unclean stop");
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  log.fatal({ err: error instanceof Error ? error.message : String(error) }, "provider failed to start");
  process.exit(code === "EADDRINUSE" ? EXIT_PORT_IN_USE : 1);
}
