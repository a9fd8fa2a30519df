// bitmaskctl: talks to the running bitmaskd over its control socket.
// Every command has --help; --json prints the daemon's answer as JSON;
// exit codes are in exit-codes.ts.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Argument, Command, CommanderError, Option } from "commander";
import type {
  AccountStatus,
  ControlMethod,
  ControlParams,
  ControlResult,
  DaemonStatus,
  KeyListing,
  MessageSummary,
  MessageView,
} from "../../shared/control-api";
import { ControlClient, ControlRequestError, DaemonNotRunningError } from "../control/client";
import { controlSocketPath } from "../control/socket-path";
import { defaultDataDir } from "../daemon/account-folder";
import { NEW_PASSPHRASE_ENV, NoPassphraseError, readPassphrase } from "./passphrase";
import { EXIT, exitCodeFor } from "./exit-codes";
import { ProgressBar } from "./progress-bar";
import { DAEMON_STOP_WAIT_MS } from "../limits";

type GlobalOptions = { dataDir: string; json: boolean };

const program = new Command()
  .name("bitmaskctl")
  .description("Control the Bitmask Mail daemon (bitmaskd)")
  .addOption(new Option("--data-dir <dir>", "the daemon's data folder (its control socket is there)").default(defaultDataDir()))
  .option("--json", "print the daemon's answer as JSON", false)
  .exitOverride()
  .showHelpAfterError("(add --help for usage)");

function globals(): GlobalOptions {
  return program.opts<GlobalOptions>();
}

/** Connects, runs one exchange, prints its result (as JSON with --json,
 * else with `human`), and closes. */
async function withDaemon<T>(exchange: (client: ControlClient) => Promise<T>, human: (result: T) => string): Promise<void> {
  const client = await ControlClient.connect(controlSocketPath(globals().dataDir));
  try {
    const result = await exchange(client);
    const text = globals().json ? JSON.stringify(result, null, 2) : human(result);
    if (text) console.log(text);
  } finally {
    client.close();
  }
}

function call<M extends ControlMethod>(method: M, params: ControlParams<M>, human: (result: ControlResult<M>) => string) {
  return withDaemon((client) => client.request(method, params), human);
}

function describeAccount(account: AccountStatus): string {
  const sync = account.sync.progress
    ? `${account.sync.state} (${account.sync.progress.done}/${account.sync.progress.total ?? "?"})`
    : account.sync.state;
  const lines = [
    `${account.address}`,
    `  IMAP     ${account.imap.host}:${account.imap.port}`,
    `  SMTP     ${account.smtp ? `${account.smtp.host}:${account.smtp.port}` : "not running"}`,
    `  sync     ${sync}${account.sync.lastSyncedAt ? `, last ${new Date(account.sync.lastSyncedAt).toISOString()}` : ""}`,
    `  key      ${account.keyFingerprint ?? "none yet"}`,
    `  unread   ${account.unread}`,
    `  errors   ${account.errors.length}`,
  ];
  return lines.join("\n");
}

function describeDaemon(status: DaemonStatus): string {
  const lines = [`bitmaskd running (pid ${status.pid})${status.offline ? ", offline" : ""}`];
  for (const account of status.accounts) lines.push(describeAccount(account));
  if (status.accounts.length === 0) lines.push("no unlocked account");
  if (status.locked.length > 0) lines.push(`locked: ${status.locked.join(", ")} (bitmaskctl account login ADDRESS)`);
  return lines.join("\n");
}

function describeKey(key: KeyListing): string {
  const expires = key.expires ? new Date(key.expires).toISOString().slice(0, 10) : "never";
  return `${key.own ? "*" : " "} ${key.fingerprint}  ${key.address}  ${key.validation}  expires ${expires}`;
}

program
  .command("status")
  .description("is the daemon running, and the state of each account")
  .action(() => call("status", {}, describeDaemon));

program
  .command("stop")
  .description("stop the daemon cleanly and wait until it is gone (the add-on starts it again when Thunderbird needs it)")
  .action(() =>
    withDaemon(
      async (client) => {
        const { pid } = await client.request("stop", {});
        await processGone(pid);
        return { pid, stopped: true };
      },
      ({ pid }) => `bitmaskd (pid ${pid}) stopped`,
    ),
  );

const mail = program.command("mail").description("mail: token, status, errors, always encrypt; read (ls, show, search) and send");
mail
  .command("get_token")
  .description("print the mail token (the IMAP and SMTP password)")
  .argument("[address]", "the account (needed when several are unlocked)")
  .action((address?: string) => call("mail.get_token", { address }, (result) => result.token));
mail
  .command("rotate_token")
  .description("replace the mail token; the add-on updates Thunderbird by itself")
  .argument("[address]", "the account")
  .action((address?: string) => call("mail.rotate_token", { address }, (result) => result.token));
mail
  .command("status")
  .description("one account's sync state, unread count, key and errors")
  .argument("[address]", "the account")
  .action((address?: string) => call("mail.status", { address }, describeAccount));
mail
  .command("errors")
  .description("problems the user should see (undecryptable mail, failed syncs)")
  .argument("[address]", "the account")
  .action((address?: string) =>
    call("mail.errors", { address }, (errors) =>
      errors.length === 0
        ? "no errors"
        : errors.map((error) => `${new Date(error.at).toISOString()}  ${error.source}: ${error.message}`).join("\n"),
    ),
  );

mail
  .command("always_encrypt")
  .description("show, or turn on or off, refusing to send to a recipient without a key (instead of sending signed only)")
  .addArgument(new Argument("[state]", "on or off; left out: show").choices(["on", "off"]))
  .option("--address <address>", "the account")
  .action((state: "on" | "off" | undefined, options: { address?: string }) =>
    call("mail.always_encrypt", { address: options.address, ...(state ? { on: state === "on" } : {}) }, (result) =>
      `always encrypt: ${result.alwaysEncrypt ? "on" : "off"}`,
    ),
  );

const SIGNATURE_MARK = { valid: "S", invalid: "X", unverified: "?", none: " " } as const;

function describeSummary(message: MessageSummary): string {
  const marks =
    (message.flags.includes("\\Seen") ? " " : "N") +
    (message.flags.includes("\\Flagged") ? "!" : " ") +
    (message.security.encrypted ? "E" : " ") +
    SIGNATURE_MARK[message.security.signature ?? "none"];
  const date = new Date(message.date).toISOString().slice(0, 16).replace("T", " ");
  return `${String(message.uid).padStart(6)} ${marks} ${date}  ${message.from.slice(0, 30).padEnd(30)}  ${message.subject}`;
}

function describeMessage(message: MessageView): string {
  const security = [
    message.security.encrypted ? "encrypted" : "not encrypted",
    message.security.signature ? `signature ${message.security.signature}${message.security.signer ? ` (${message.security.signer})` : ""}` : "not signed",
  ];
  const lines = [
    `From:     ${message.from}`,
    `To:       ${message.to}`,
    ...(message.cc ? [`Cc:       ${message.cc}`] : []),
    `Date:     ${new Date(message.date).toISOString()}`,
    `Subject:  ${message.subject}`,
    `Flags:    ${message.flags.join(" ") || "-"}`,
    `Security: ${security.join(", ")}${message.security.error ? `; ${message.security.error}` : ""}`,
    "",
    message.text ?? (message.html === null ? "(no text)" : "(HTML only: open it in the web reader, `bitmaskctl web open`)"),
    ...message.attachments.map((part) => `[part ${part.part}] ${part.filename ?? "(no name)"}  ${part.contentType}  ${part.size} bytes`),
  ];
  return lines.join("\n");
}

mail
  .command("ls")
  .description("the mailboxes with their counts; with a mailbox, its messages, newest first (N: unread, E: encrypted, S/X/?: signature valid/invalid/unverified)")
  .argument("[mailbox]", "list this mailbox's messages")
  .option("--page <n>", "the page, from 0", (value) => Number(value), 0)
  .option("--page-size <n>", "messages per page", (value) => Number(value), 50)
  .option("--address <address>", "the account")
  .action((mailbox: string | undefined, options: { page: number; pageSize: number; address?: string }) => {
    if (mailbox === undefined) {
      return call("mail.mailboxes", { address: options.address }, (result) =>
        result.mailboxes.map((box) => `${box.name.padEnd(24)} ${String(box.messages).padStart(6)} messages ${String(box.unseen).padStart(6)} unread`).join("\n"),
      );
    }
    return call("mail.list", { address: options.address, mailbox, page: options.page, pageSize: options.pageSize }, (page) => {
      const pages = Math.max(1, Math.ceil(page.total / page.pageSize));
      return [...page.messages.map(describeSummary), `${page.mailbox}: ${page.total} messages, page ${page.page + 1} of ${pages}`].join("\n");
    });
  });
mail
  .command("show")
  .description("one message: its header, security state, text and attachments; with --part, that part's bytes to standard output")
  .argument("<mailbox>", "the mailbox")
  .argument("<uid>", "the message's UID", (value) => Number(value))
  .option("--part <part>", "write this part (e.g. 2 or 1.2) to standard output, decoded")
  .option("--address <address>", "the account")
  .action((mailbox: string, uid: number, options: { part?: string; address?: string }) => {
    if (options.part === undefined) return call("mail.get", { address: options.address, mailbox, uid }, describeMessage);
    const part = options.part;
    return withDaemon(
      (client) => client.request("mail.part", { address: options.address, mailbox, uid, part }),
      (result) => {
        process.stdout.write(Buffer.from(result.base64, "base64"));
        return "";
      },
    );
  });
mail
  .command("search")
  .description("messages of a mailbox whose header or text contains the words, newest first")
  .argument("<mailbox>", "the mailbox")
  .argument("<words...>", "what to look for")
  .option("--address <address>", "the account")
  .action((mailbox: string, words: string[], options: { address?: string }) =>
    call("mail.search", { address: options.address, mailbox, query: words.join(" ") }, (result) =>
      [...result.messages.map(describeSummary), `${result.total} found`].join("\n"),
    ),
  );
mail
  .command("send")
  .description("send a message (text from standard input), signed and encrypted as the SMTP gateway does")
  .requiredOption("--to <address...>", "recipients")
  .option("--cc <address...>", "copy recipients", [])
  .requiredOption("--subject <subject>", "the subject")
  .option("--address <address>", "the account")
  .action(async (options: { to: string[]; cc: string[]; subject: string; address?: string }) => {
    const text = readFileSync(0, "utf8");
    await call("mail.send", { address: options.address, message: { to: options.to, cc: options.cc, subject: options.subject, text } }, (outcome) =>
      `${outcome.reply} (${outcome.encrypted} encrypted, ${outcome.signedOnly} signed only)`,
    );
  });

const keys = program.command("keys").description("OpenPGP keys: list, export, import");
keys
  .command("list")
  .description("the keys the account knows (* marks its own)")
  .option("--address <address>", "the account")
  .action((options: { address?: string }) =>
    call("keys.list", { address: options.address }, (list) => list.map(describeKey).join("\n") || "no keys"),
  );
keys
  .command("export")
  .description("print an armored public key (the account's own by default)")
  .argument("[key-address]", "whose key")
  .option("--address <address>", "the account")
  .action((keyAddress: string | undefined, options: { address?: string }) =>
    call("keys.export", { address: options.address, keyAddress }, (result) => result.armored.trimEnd()),
  );
keys
  .command("import")
  .description("import an armored public key from a file, or from standard input with -")
  .argument("<file>", "the key file, or - for standard input")
  .option("--address <address>", "the account")
  .action((file: string, options: { address?: string }) => {
    const armored = readFileSync(file === "-" ? 0 : file, "utf8");
    return call("keys.import", { address: options.address, armored }, (key) => `imported\n${describeKey(key)}`);
  });

program
  .command("sync")
  .description("sync with the provider now, with a progress bar")
  .argument("[address]", "the account")
  .action((address?: string) => {
    const bar = new ProgressBar(process.stderr);
    return withDaemon(
      async (client) => {
        // Subscribe first, so no progress event comes before the listener.
        await client.request("subscribe", {});
        client.onEvent((event) => {
          if (event.event === "sync-progress" && (!address || event.address === address.toLowerCase())) bar.update(event.done, event.total);
        });
        try {
          return await client.request("sync", { address });
        } finally {
          bar.finish();
        }
      },
      (status) => `sync ${status.state}${status.lastSyncedAt ? `, last ${new Date(status.lastSyncedAt).toISOString()}` : ""}`,
    );
  });

program
  .command("offline")
  .description("stop (on) or resume (off) talking to the provider; local mail keeps working")
  .addArgument(new Argument("<state>", "on or off").choices(["on", "off"]))
  .action((state: "on" | "off") =>
    call("offline", { offline: state === "on" }, (result) => (result.offline ? "offline" : "online")),
  );

program
  .command("web")
  .description("the web reader")
  .command("open")
  .description("print a one-time log-in link to the web reader (it works once, for a few minutes); with --browser, open it")
  .argument("[address]", "the account")
  .option("--browser", "open the link in the desktop's browser (xdg-open)", false)
  .action((address: string | undefined, options: { browser: boolean }) =>
    call("web.open_link", { address }, (link) => {
      if (options.browser) spawn("xdg-open", [link.url], { stdio: "ignore", detached: true }).on("error", () => undefined).unref();
      return link.url;
    }),
  );

const account = program.command("account").description("create an account, log in, change the passphrase");
account
  .command("create")
  .description("create an account (with --provider, also sign up there)")
  .argument("<address>", "the mail address")
  .option("--provider <url>", "the provider's API address, e.g. https://api.bitmask.example")
  .option("--provider-ca <file>", "the provider's CA certificate (PEM), when the system does not trust it")
  .addOption(new Option("--key-type <type>", "the account's own OpenPGP key").choices(["curve25519", "rsa4096"]).default("curve25519"))
  .action(async (address: string, options: ProviderOptions & { keyType: "curve25519" | "rsa4096" }) => {
    const passphrase = await newPassphrase(`New passphrase for ${address}: `);
    await call("account.create", { address, passphrase, ...providerParams(options), keyType: options.keyType }, describeAccount);
  });
account
  .command("login")
  .description("unlock an account with its passphrase (with --provider, fetch it to this device first)")
  .argument("<address>", "the mail address")
  .option("--provider <url>", "the provider's API address, for an account not yet on this device")
  .option("--provider-ca <file>", "the provider's CA certificate (PEM), when the system does not trust it")
  .action(async (address: string, options: ProviderOptions) => {
    const passphrase = await readPassphrase(`Passphrase for ${address}: `);
    await call("account.login", { address, passphrase, ...providerParams(options) }, describeAccount);
  });
account
  .command("passphrase")
  .description(`change the passphrase (non-interactive: BITMASK_PASSPHRASE and ${NEW_PASSPHRASE_ENV})`)
  .argument("<address>", "the mail address")
  .action(async (address: string) => {
    const passphrase = await readPassphrase(`Current passphrase for ${address}: `);
    const replacement = await newPassphrase(`New passphrase for ${address}: `, NEW_PASSPHRASE_ENV);
    await call("account.passphrase", { address, passphrase, newPassphrase: replacement }, () => "passphrase changed");
  });

type ProviderOptions = { provider?: string; providerCa?: string };

function providerParams(options: ProviderOptions): { provider?: string; providerCa?: string } {
  if (options.providerCa && !options.provider) throw new UsageError("--provider-ca goes with --provider");
  return {
    ...(options.provider ? { provider: options.provider } : {}),
    ...(options.providerCa ? { providerCa: readFileSync(options.providerCa, "utf8") } : {}),
  };
}

/** A new passphrase, typed twice on a terminal (a typo would lock the user out). */
async function newPassphrase(prompt: string, envName?: string): Promise<string> {
  const first = await readPassphrase(prompt, envName);
  if (envName ? process.env[envName] : process.env.BITMASK_PASSPHRASE) return first;
  const second = await readPassphrase("Again: ", envName);
  if (first !== second) throw new UsageError("the two passphrases differ");
  return first;
}

/** Waits, bounded, for the daemon's process to end. The control socket is
 * 0600, so the daemon runs as this user and signal 0 can probe it. */
async function processGone(pid: number): Promise<void> {
  const deadline = Date.now() + DAEMON_STOP_WAIT_MS;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(100);
  }
  throw new Error(`bitmaskd (pid ${pid}) was asked to stop but still runs after ${DAEMON_STOP_WAIT_MS / 1000} s`);
}

class UsageError extends Error {}

try {
  await program.parseAsync();
} catch (error) {
  process.exitCode = exitFor(error);
}

function exitFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and version are not failures; commander already printed the usage error.
    return error.code === "commander.helpDisplayed" || error.code === "commander.help" || error.code === "commander.version"
      ? EXIT.ok
      : EXIT.usage;
  }
  const message = (error as Error).message;
  if (globals().json && error instanceof ControlRequestError) {
    console.log(JSON.stringify({ error: { code: error.code, message } }));
  } else console.error(`bitmaskctl: ${message}`);
  if (error instanceof ControlRequestError) return exitCodeFor(error.code);
  if (error instanceof DaemonNotRunningError) return EXIT.daemonNotRunning;
  if (error instanceof NoPassphraseError) return EXIT.wrongPassphrase;
  if (error instanceof UsageError) return EXIT.usage;
  return EXIT.failed;
}
