// Real Postfix instances for the provider tests (REAL-PEERS.md, Part A): one
// network namespace per test file (its name carries the process id), each
// mail host on its own 127.0.0.x address there with its own configuration
// folder, queue and log, port 25 and MX lookups real, and dnsmasq answering
// the test domains' MX/A/TXT records on 127.0.0.53 (the namespace's
// resolv.conf).
//
// The providers and daemons run in this test process, outside the
// namespace: Postfix reaches them over Unix sockets (LMTP, the recipient
// lookup), which cross namespaces, and they hand mail to Postfix on its
// submission socket. Their own DNS questions (SPF, DKIM, DMARC) go to a
// second dnsmasq with the same records on a free loopback port here.
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { Resolver } from "node:dns/promises";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { UnlockedAccount } from "../../native-host/daemon/daemon";
import type { DkimKey } from "../../provider/postfix/dkim-key";
import { mainCfLines, postfixSettings, SUBMIT_SERVICE } from "../../provider/postfix/postfix-config";
import { signUpAccount, startTestDaemon, startTlsProvider, syncNow, type TestDaemon, type TlsProvider } from "./daemon";
import { describeRun, expectSuccess, runTool, type ToolNeed, type ToolRun } from "./tools";

/** What these tests run; scripts/ci-deps.sh installs them. */
export const POSTFIX_TOOLS: ToolNeed[] = [
  { name: "postfix", install: "apt-get install postfix" },
  { name: "dnsmasq", install: "apt-get install dnsmasq-base" },
  { name: "dig", install: "apt-get install dnsutils" },
  { name: "ip", install: "apt-get install iproute2" },
  { name: "dkimverify", install: "apt-get install python3-dkim" },
  { name: "swaks", install: "apt-get install swaks" },
];

const COMMAND_TIMEOUT_MS = 30_000;
const WAIT_STEP_MS = 100;

export type DnsRecords = {
  /** [domain, MX host name] */
  mx?: [string, string][];
  /** [name, IPv4]; the PTR comes along. */
  a?: [string, string][];
  /** [name, text]; texts over 255 characters are split into strings. */
  txt?: [string, string][];
};

export type MailHost = {
  domain: string;
  /** The MX name (mx.<domain>) and the address Postfix listens on. */
  hostname: string;
  ip: string;
  etc: string;
  spool: string;
  maillog: string;
  /** The master.cf Unix service's socket, when one was added. */
  socket(service: string): string;
};

export type PostfixHostOptions = {
  domain: string;
  ip: string;
  /** main.cf settings added to (or replacing) the base ones. */
  main?: Record<string, string>;
  master?: string[];
};

export class PostfixLab {
  /** The host-side dnsmasq, "127.0.0.1:port", for the providers. */
  dnsServer = "";
  private readonly children: ChildProcess[] = [];
  private readonly hosts: MailHost[] = [];

  private constructor(
    readonly ns: string,
    readonly root: string,
  ) {}

  /** A namespace with lo up and its resolv.conf, and a scratch folder. */
  static async create(tag: string): Promise<PostfixLab> {
    const ns = `bm${tag}${process.pid}`;
    // Short: Unix socket paths must stay under 108 bytes. Postfix's users
    // must be able to reach the provider's sockets in it.
    const root = `/tmp/${ns}`;
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    chmodSync(root, 0o755);
    const lab = new PostfixLab(ns, root);
    expectSuccess(await runTool("ip", ["netns", "add", ns], { timeoutMs: COMMAND_TIMEOUT_MS }), "ip netns add");
    expectSuccess(await lab.exec("ip", ["link", "set", "lo", "up"]), "lo up");
    mkdirSync(`/etc/netns/${ns}`, { recursive: true });
    writeFileSync(`/etc/netns/${ns}/resolv.conf`, "nameserver 127.0.0.53\n");
    return lab;
  }

  /** Runs a command inside the namespace to completion. */
  exec(command: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<ToolRun> {
    return runTool("ip", ["netns", "exec", this.ns, command, ...args], { timeoutMs: options.timeoutMs ?? COMMAND_TIMEOUT_MS, input: options.input });
  }

  /** dnsmasq in the namespace (127.0.0.53:53) and here (127.0.0.1:free port), same records. */
  async startDns(records: DnsRecords): Promise<void> {
    const recordArgs = [
      "--local=/test/",
      ...(records.mx ?? []).map(([domain, host]) => `--mx-host=${domain},${host},10`),
      ...(records.a ?? []).map(([name, ip]) => `--host-record=${name},${ip}`),
      ...(records.txt ?? []).map(([name, text]) => `--txt-record=${name},${(text.match(/.{1,255}/g) ?? []).join(",")}`),
    ];
    const base = ["--no-daemon", "--no-resolv", "--no-hosts", "--bind-interfaces", "--pid-file", "--log-facility=-", "--log-queries"];
    expectSuccess(await this.exec("ip", ["addr", "add", "127.0.0.53/8", "dev", "lo"]), "resolver address");
    this.spawnChild("ip", ["netns", "exec", this.ns, "dnsmasq", ...base, "--listen-address=127.0.0.53", "--port=53", ...recordArgs], "dnsmasq (namespace)");
    const probe = records.a?.[0]?.[0] ?? "localhost";
    await waitFor(async () => (await this.exec("dig", ["+short", "+time=1", "+tries=1", "A", probe])).stdout.trim() !== "", 10_000, "dnsmasq in the namespace");
    // The port is free when asked; another process could take it before
    // dnsmasq binds it, so a few tries.
    for (let attempt = 1; ; attempt++) {
      const port = await freeUdpPort();
      const child = this.spawnChild("dnsmasq", [...base, "--listen-address=127.0.0.1", `--port=${port}`, ...recordArgs], "dnsmasq (host)");
      const resolver = new Resolver({ timeout: 500, tries: 1 });
      resolver.setServers([`127.0.0.1:${port}`]);
      try {
        await waitFor(async () => child.exitCode === null && (await resolver.resolve4(probe).then((a) => a.length > 0, () => false)), 5000, "dnsmasq on the host");
        this.dnsServer = `127.0.0.1:${port}`;
        return;
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  }

  /** A Postfix instance on `ip`:25 for `domain`, named mx.<domain>. */
  async startPostfix(options: PostfixHostOptions): Promise<MailHost> {
    const { domain, ip } = options;
    const dir = path.join(this.root, domain);
    const host: MailHost = {
      domain,
      hostname: `mx.${domain}`,
      ip,
      etc: path.join(dir, "etc"),
      spool: path.join(dir, "spool"),
      maillog: path.join(dir, "maillog"),
      socket: (service) => path.join(dir, "spool", "public", service),
    };
    mkdirSync(host.etc, { recursive: true });
    mkdirSync(host.spool, { recursive: true });
    expectSuccess(await runTool("install", ["-d", "-o", "postfix", "-g", "postfix", path.join(dir, "data")], { timeoutMs: COMMAND_TIMEOUT_MS }), "data_directory");
    expectSuccess(await this.exec("ip", ["addr", "add", `${ip}/8`, "dev", "lo"]), `address ${ip}`);
    const main = {
      compatibility_level: "3.6",
      queue_directory: host.spool,
      data_directory: path.join(dir, "data"),
      // Each its own name and address, or Postfix takes the other for itself.
      myhostname: host.hostname,
      mydomain: domain,
      myorigin: "$mydomain",
      mydestination: "$myhostname, localhost",
      inet_interfaces: ip,
      inet_protocols: "ipv4",
      smtp_bind_address: ip,
      mynetworks: "127.0.0.1/32",
      maillog_file: host.maillog,
      maillog_file_prefixes: this.root,
      alias_maps: "",
      alias_database: "",
      smtpd_banner: "$myhostname ESMTP",
      biff: "no",
      ...options.main,
    };
    writeFileSync(path.join(host.etc, "main.cf"), `${mainCfLines(main).join("\n")}\n`);
    copyFileSync("/etc/postfix/master.cf", path.join(host.etc, "master.cf"));
    // Out of the chroot: resolv.conf is then the namespace's.
    expectSuccess(await runTool("postconf", ["-c", host.etc, "-F", "*/*/chroot = n"], { timeoutMs: COMMAND_TIMEOUT_MS }), "postconf");
    if (options.master) writeFileSync(path.join(host.etc, "master.cf"), `${readFileSync(path.join(host.etc, "master.cf"), "utf8")}${options.master.join("\n")}\n`);
    this.hosts.push(host);
    const started = await this.exec("postfix", ["-c", host.etc, "start"]);
    if (started.code !== 0) throw new Error(`postfix start for ${domain} failed: ${describeRun(started)}\n${this.maillog(host)}`);
    return host;
  }

  maillog(host: MailHost): string {
    return existsSync(host.maillog) ? readFileSync(host.maillog, "utf8") : "";
  }

  /** Waits until the host's log has a line matching `pattern`; returns it. */
  async logLine(host: MailHost, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    let line: string | undefined;
    try {
      await waitFor(async () => (line = this.maillog(host).split("\n").find((l) => pattern.test(l))) !== undefined, timeoutMs, `${pattern} in ${host.domain}'s maillog`);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- maillog ---\n${this.maillog(host).slice(-4000)}`);
    }
    return line!;
  }

  /** Stops everything it started and removes the namespace and files, also
   * after a failed start. */
  async stop(): Promise<void> {
    if (process.env.POSTFIX_TEST_LOG) for (const host of this.hosts) console.warn(`--- ${host.domain} maillog ---\n${this.maillog(host)}`);
    for (const host of this.hosts) {
      const master = masterPid(host);
      await this.exec("postfix", ["-c", host.etc, "stop"]).catch(() => undefined);
      if (master !== null) await waitFor(async () => !alive(master), 10_000, "Postfix's master to exit").catch(() => process.kill(master, "SIGKILL"));
    }
    for (const child of this.children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill("SIGTERM");
      await waitFor(async () => child.exitCode !== null || child.signalCode !== null, 5000, "a helper to exit").catch(() => child.kill("SIGKILL"));
    }
    const left = (await runTool("ip", ["netns", "pids", this.ns], { timeoutMs: COMMAND_TIMEOUT_MS })).stdout.split(/\s+/).filter(Boolean);
    for (const pid of left) process.kill(Number(pid), "SIGKILL");
    await runTool("ip", ["netns", "del", this.ns], { timeoutMs: COMMAND_TIMEOUT_MS });
    rmSync(`/etc/netns/${this.ns}`, { recursive: true, force: true });
    rmSync(this.root, { recursive: true, force: true });
    if (left.length > 0) throw new Error(`processes left in ${this.ns}: ${left.join(" ")}`);
  }

  private spawnChild(command: string, args: string[], what: string): ChildProcess {
    const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-4000)));
    child.once("exit", (code, signal) => {
      if (code !== 0 && signal === null && process.env.POSTFIX_TEST_LOG) console.warn(`${what} exited ${code}: ${stderr}`);
    });
    this.children.push(child);
    return child;
  }
}

function masterPid(host: MailHost): number | null {
  const file = path.join(host.spool, "pid", "master.pid");
  const pid = existsSync(file) ? Number(readFileSync(file, "utf8").trim()) : NaN;
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve, reject) => socket.bind(0, "127.0.0.1", resolve).once("error", reject));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
  }
}

/** The postfix group's id: the provider's sockets are given to it. */
export async function postfixGroupId(): Promise<number> {
  const entry = expectSuccess(await runTool("getent", ["group", "postfix"], { timeoutMs: COMMAND_TIMEOUT_MS }), "getent group postfix").stdout;
  return Number(entry.split(":")[2]);
}

export const DKIM_SELECTOR = "bitmask1";

/** A mail domain's DNS: MX, its A, SPF for its address, and, when given, its
 * DKIM key and DMARC policy. */
export function domainRecords(domain: string, ip: string, extra: { dkim?: DkimKey; dmarc?: string } = {}): Required<DnsRecords> {
  return {
    mx: [[domain, `mx.${domain}`]],
    a: [[`mx.${domain}`, ip]],
    txt: [
      [domain, `v=spf1 ip4:${ip} -all`],
      ...(extra.dkim ? ([[`${DKIM_SELECTOR}._domainkey.${domain}`, extra.dkim.dnsText]] as [string, string][]) : []),
      ...(extra.dmarc ? ([[`_dmarc.${domain}`, extra.dmarc]] as [string, string][]) : []),
    ],
  };
}

/** Records of several domains together. */
export function mergeRecords(all: readonly Required<DnsRecords>[]): DnsRecords {
  return { mx: all.flatMap((r) => r.mx), a: all.flatMap((r) => r.a), txt: all.flatMap((r) => r.txt) };
}

export type BitmaskHost = { postfix: MailHost; provider: TlsProvider; device: TestDaemon; account: UnlockedAccount };

/** Postfix for `domain` in front of a provider (configured as
 * `bitmask-provider setup` would), and a daemon with `user`@`domain`,
 * its key published. Call after startDns. */
export async function startBitmaskHost(
  lab: PostfixLab,
  options: { domain: string; ip: string; dkim: DkimKey; user: string; /** main.cf queue timers, shortened. */ timers?: Record<string, string> },
): Promise<BitmaskHost> {
  const { domain, ip, dkim, user } = options;
  const sockets = { lmtpSocket: `${lab.root}/${domain}-lmtp`, lookupSocket: `${lab.root}/${domain}-lookup` };
  const settings = postfixSettings({ domain, ...sockets });
  const postfix = await lab.startPostfix({ domain, ip, main: { ...settings.main, ...options.timers }, master: settings.master });
  const provider = await startTlsProvider({
    domain,
    postfix: {
      ...sockets,
      socketGroupId: await postfixGroupId(),
      relay: { socket: postfix.socket(SUBMIT_SERVICE) },
      dkim: { selector: DKIM_SELECTOR, privateKey: dkim.privateKey },
      dnsServers: [lab.dnsServer],
    },
  });
  const device = await startTestDaemon();
  const account = await signUpAccount(device.daemon, provider, `${user}@${domain}`, `passphrase of ${user}@${domain}`);
  await syncNow(account); // makes and publishes the key
  return { postfix, provider, device, account };
}

/** Stops what startBitmaskHost started (the lab stops Postfix). */
export async function stopBitmaskHost(host: BitmaskHost | undefined): Promise<void> {
  await host?.device.stop();
  await host?.provider.stop();
}
