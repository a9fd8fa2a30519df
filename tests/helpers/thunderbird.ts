// A real Thunderbird for end-to-end tests: a throwaway profile holding the
// built add-on, HOME and TMPDIR inside a temp folder (so nothing lands in the
// real home), run headless or on an Xvfb display, and driven over Marionette
// (Thunderbird's built-in remote protocol) for what a test must look at from
// inside: the login manager, open windows, and a graceful quit (killing it
// can lose logins.json, which Thunderbird writes lazily).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { ADDON_ID } from "../../shared/native-messaging";
import { requireTool } from "./tools";

/** Debian's Thunderbird; BITMASK_TEST_THUNDERBIRD runs the tests on another
 * build (another ESR unpacked with `dpkg -x`: the add-on must work on each). */
export const THUNDERBIRD_BINARY = process.env.BITMASK_TEST_THUNDERBIRD ?? "/usr/lib/thunderbird/thunderbird";
const THUNDERBIRD_NEED = { name: THUNDERBIRD_BINARY, install: "apt-get install thunderbird (scripts/ci-deps.sh)" };
const XVFB_NEEDS = [
  { name: "Xvfb", install: "apt-get install xvfb" },
  { name: "import", install: "apt-get install imagemagick" },
  { name: "convert", install: "apt-get install imagemagick" },
  { name: "tesseract", install: "apt-get install tesseract-ocr" },
];
const MARIONETTE_CONNECT_TIMEOUT_MS = 30_000;
const QUIT_TIMEOUT_MS = 20_000;

/** Null when Thunderbird can run here; under CI=true a missing one throws. */
export function requireThunderbird(what: string): string | null {
  return requireTool(THUNDERBIRD_NEED, what);
}

/** Xvfb for a visible (non-headless) Thunderbird, ImageMagick's `import`
 * for screenshots, tesseract to read them. */
export function requireXvfbTools(what: string): string | null {
  return requireTool([THUNDERBIRD_NEED, ...XVFB_NEEDS], what);
}

export function thunderbirdVersion(): string {
  return spawnSync(THUNDERBIRD_BINARY, ["--version"], { encoding: "utf8" }).stdout.trim();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A fresh profile with the add-on sideloaded as `<id>.xpi` (none when `xpi` is null). */
export function createProfile(dir: string, xpi: string | null, marionettePort: number): void {
  mkdirSync(path.join(dir, "extensions"), { recursive: true });
  if (xpi) copyFileSync(xpi, path.join(dir, "extensions", `${ADDON_ID}.xpi`));
  const prefs: Record<string, string | number | boolean> = {
    // Sideloaded add-ons start enabled, and are found on every start.
    "extensions.autoDisableScopes": 0,
    "extensions.startupScanScopes": 15,
    "marionette.port": marionettePort,
    // No first-run noise: default-client check, start page, telemetry, updates.
    "mail.shell.checkDefaultClient": false,
    "mailnews.start_page.enabled": false,
    "datareporting.policy.dataSubmissionEnabled": false,
    "app.update.disabledForTesting": true,
    "browser.shell.checkDefaultBrowser": false,
  };
  const lines = Object.entries(prefs).map(([name, value]) => `user_pref(${JSON.stringify(name)}, ${JSON.stringify(value)});`);
  writeFileSync(path.join(dir, "user.js"), `${lines.join("\n")}\n`);
}

/** Thunderbird's prefs.js as name -> value (only the user_pref lines). */
export function readPrefs(profile: string): Map<string, string | number | boolean> {
  const prefs = new Map<string, string | number | boolean>();
  const text = readFileSync(path.join(profile, "prefs.js"), "utf8");
  for (const match of text.matchAll(/^user_pref\("([^"]+)", (.*)\);$/gm)) prefs.set(match[1]!, JSON.parse(match[2]!) as string | number | boolean);
  return prefs;
}

export type ThunderbirdOptions = {
  profile: string;
  home: string;
  tmp: string;
  marionettePort: number;
  /** An X display (":99") for a visible window; headless when left out. */
  display?: string;
};

/** A minimal Marionette client: length-prefixed JSON commands in chrome context. */
class Marionette {
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();

  private constructor(private readonly socket: net.Socket) {
    // Packets are "<byte length>:<JSON>".
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const colon = this.buffer.indexOf(":");
        if (colon === -1) return;
        const length = Number(this.buffer.subarray(0, colon).toString("latin1"));
        if (this.buffer.length < colon + 1 + length) return;
        const packet = JSON.parse(this.buffer.subarray(colon + 1, colon + 1 + length).toString("utf8")) as unknown;
        this.buffer = this.buffer.subarray(colon + 1 + length);
        if (!Array.isArray(packet)) continue; // the greeting
        const [, id, error, result] = packet as [number, number, { message: string } | null, unknown];
        const waiter = this.waiting.get(id);
        this.waiting.delete(id);
        if (error) waiter?.reject(new Error(`marionette: ${error.message}`));
        else waiter?.resolve(result);
      }
    });
  }

  static async connect(port: number, process: ChildProcess): Promise<Marionette> {
    const deadline = Date.now() + MARIONETTE_CONNECT_TIMEOUT_MS;
    for (;;) {
      if (process.exitCode !== null) throw new Error(`Thunderbird exited with ${process.exitCode} before Marionette answered`);
      const socket = await new Promise<net.Socket | null>((resolve) => {
        const candidate = net.connect(port, "127.0.0.1");
        candidate.once("connect", () => resolve(candidate));
        candidate.once("error", () => resolve(null));
      });
      if (socket) {
        const client = new Marionette(socket);
        await client.command("WebDriver:NewSession", { capabilities: {} });
        await client.command("Marionette:SetContext", { value: "chrome" });
        return client;
      }
      if (Date.now() > deadline) throw new Error(`Marionette did not answer on port ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  command(name: string, params: Record<string, unknown>): Promise<unknown> {
    const id = this.nextId++;
    const body = JSON.stringify([0, id, name, params]);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.socket.write(`${Buffer.byteLength(body)}:${body}`);
    });
  }

  /** Runs an async function body in Thunderbird's parent process; `args`
   * are its `arguments`, and what it returns (a promise is awaited) comes back. */
  async evaluate<T>(body: string, args: unknown[] = []): Promise<T> {
    const script = `const resolve = arguments[arguments.length - 1];
      (async (...args) => { ${body} })(...Array.from(arguments).slice(0, -1)).then(resolve, (e) => resolve({ __error: String(e) }));`;
    const reply = (await this.command("WebDriver:ExecuteAsyncScript", { script, args, scriptTimeout: 30_000 })) as { value: T };
    const value = reply.value as T & { __error?: string };
    if (value && typeof value === "object" && "__error" in value) throw new Error(value.__error);
    return value;
  }

  close(): void {
    this.socket.destroy();
  }
}

export class Thunderbird {
  private constructor(
    private readonly process: ChildProcess,
    readonly marionette: Marionette,
    /** Everything Thunderbird printed, for diagnosing a failure. */
    readonly output: string[],
  ) {}

  static async start(options: ThunderbirdOptions): Promise<Thunderbird> {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: options.home, TMPDIR: options.tmp, MOZ_CRASHREPORTER_DISABLE: "1" };
    // Everything XDG would point at the real home: the native host derives
    // the daemon's data folder from HOME when these are unset.
    for (const name of ["XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS"]) delete env[name];
    if (options.display) env.DISPLAY = options.display;
    else delete env.DISPLAY;
    // Marionette in chrome context (login manager, windows) needs system access.
    const args = ["--profile", options.profile, "--no-remote", "--marionette", "--remote-allow-system-access"];
    if (!options.display) args.unshift("--headless");
    const child = spawn(THUNDERBIRD_BINARY, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const output: string[] = [];
    child.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
    child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
    try {
      return new Thunderbird(child, await Marionette.connect(options.marionettePort, child), output);
    } catch (error) {
      child.kill("SIGKILL");
      throw new Error(`${(error as Error).message}\n${output.join("").slice(-4000)}`);
    }
  }

  /** The stored logins for an origin such as imap://127.0.0.1. */
  logins(origin: string): Promise<{ username: string; password: string }[]> {
    return this.marionette.evaluate(
      `const found = await Services.logins.searchLoginsAsync({ origin: args[0], httpRealm: args[0] });
       return found.map((login) => ({ username: login.username, password: login.password }));`,
      [origin],
    );
  }

  /** Folders of the IMAP account for `address` marked for offline use
   * (their message bodies would be copied into the profile). */
  offlineFolders(address: string): Promise<string[]> {
    return this.marionette.evaluate(
      `const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
       const offline = [];
       for (const account of MailServices.accounts.accounts) {
         const server = account.incomingServer;
         if (server?.type !== "imap" || server.username !== args[0]) continue;
         for (const folder of server.rootFolder.descendants) {
           if (folder.getFlag(Ci.nsMsgFolderFlags.Offline)) offline.push(folder.URI);
         }
       }
       return offline;`,
      [address],
    );
  }

  /** Folder names of the IMAP account for `address`, as Thunderbird knows them. */
  folderNames(address: string): Promise<string[]> {
    return this.marionette.evaluate(
      `const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
       const account = MailServices.accounts.accounts.find((a) => a.incomingServer?.type === "imap" && a.incomingServer.username === args[0]);
       return account ? account.incomingServer.rootFolder.descendants.map((folder) => folder.name) : [];`,
      [address],
    );
  }

  /** Runs `body` against the document of the add-on page (in a tab or a
   * window) whose URL ends with `pathSuffix`, with `doc` and `args` bound;
   * answers undefined while no such page is loaded. Add-on pages run in
   * their own process, so `body` goes there as a frame script. */
  inExtensionPage<T>(pathSuffix: string, body: string, args: unknown[] = []): Promise<T | undefined> {
    const frameScript = `(async (doc, args) => { if (doc.readyState !== "complete") return undefined; ${body} })(content.document, ${JSON.stringify(args)})
      .then((value) => sendAsyncMessage(NAME, { value }), (error) => sendAsyncMessage(NAME, { error: String(error) }));`;
    return this.marionette.evaluate(
      `const [suffix, frameScript] = args;
       let page;
       for (const win of Services.wm.getEnumerator(null)) {
         for (const browser of win.document.querySelectorAll("browser")) {
           const url = browser.currentURI?.spec ?? "";
           if (url.startsWith("moz-extension:") && url.endsWith(suffix)) page = browser;
         }
       }
       if (!page) return undefined;
       const name = "bitmask-test-" + Math.random().toString(36).slice(2);
       const reply = new Promise((resolve) => page.messageManager.addMessageListener(name, (message) => resolve(message.data)));
       page.messageManager.loadFrameScript("data:," + encodeURIComponent("const NAME = " + JSON.stringify(name) + ";" + frameScript), false);
       const { value, error } = await reply;
       if (error) throw new Error(error);
       return value;`,
      [pathSuffix, frameScript],
    );
  }

  /** When Thunderbird's main window finished loading (epoch ms, the clock
   * of Date.now()), or null while it has not. */
  mainWindowLoadedAt(): Promise<number | null> {
    return this.marionette.evaluate(
      `const win = Services.wm.getMostRecentWindow("mail:3pane");
       if (!win || win.document.readyState !== "complete") return null;
       const [navigation] = win.performance.getEntriesByType("navigation");
       if (navigation && navigation.loadEventEnd > 0) return win.performance.timeOrigin + navigation.loadEventEnd;
       return win.performance.timing.loadEventEnd || null;`,
    );
  }

  /** The window types of every open window (a login prompt is a "commonDialog"),
   * plus the number of tab-modal prompts in them. */
  openWindowTypes(): Promise<string[]> {
    return this.marionette.evaluate(
      `const types = [];
       for (const win of Services.wm.getEnumerator(null)) {
         types.push(win.document.documentElement.getAttribute("windowtype") ?? "?");
         for (const dialog of win.document.querySelectorAll("dialog[open], .tab-prompt-dialog, .content-prompt-dialog")) types.push("prompt");
       }
       return types;`,
    );
  }

  /** Quits the way the user does (profile files flushed), then waits for the process. */
  async quit(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.process.exitCode !== null) resolve();
      else this.process.once("exit", () => resolve());
    });
    await this.marionette.command("Marionette:Quit", { flags: ["eAttemptQuit"] }).catch(() => undefined);
    this.marionette.close();
    const timer = setTimeout(() => this.process.kill("SIGKILL"), QUIT_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  /** For clean-up after a failure: kills and waits, so the profile can be removed. */
  async kill(): Promise<void> {
    this.marionette.close();
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.process.once("exit", () => resolve()));
    this.process.kill("SIGKILL");
    await exited;
  }
}

/** An Xvfb server on a free display; stop() ends it. */
export async function startXvfb(): Promise<{ display: string; stop(): void }> {
  const child = spawn("Xvfb", ["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"], { stdio: ["ignore", "pipe", "ignore"] });
  const displayNumber = await new Promise<string>((resolve, reject) => {
    child.stdout!.once("data", (chunk: Buffer) => resolve(chunk.toString("utf8").trim()));
    child.once("exit", (code) => reject(new Error(`Xvfb exited with ${code}`)));
  });
  return { display: `:${displayNumber}`, stop: () => child.kill("SIGTERM") };
}

// ---------------------------------------------------------------------------
// The test probe: a second, test-only add-on (tests/e2e/probe-extension)
// installed beside ours, through which a test reads and sends mail with
// Thunderbird's own WebExtension APIs (what any add-on, and the user, sees).
// The shipped add-on carries no test hook; the probe is never packaged.

export const PROBE_ID = "bitmask-test-probe@bitmask.net";
const PROBE_SOURCE = path.resolve(import.meta.dirname, "../e2e/probe-extension");
/** How long the probe's poll waits for a command before asking again. */
const PROBE_POLL_MS = 15_000;

/**
 * The channel to the probe: an HTTP server on loopback at a random secret
 * path. The probe long-polls GET <url>/next for a command and POSTs its
 * answer to <url>/reply; call() queues a command and waits for the answer.
 */
export class ProbeChannel {
  private readonly queue: { id: number; method: string; params: unknown }[] = [];
  private readonly polls: http.ServerResponse[] = [];
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private nextId = 1;
  /** When the probe last asked for work (it is running). */
  lastPollAt = 0;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<ProbeChannel> {
    const secret = randomBytes(16).toString("hex");
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    const channel = new ProbeChannel(server, `http://127.0.0.1:${port}/${secret}`);
    server.on("request", (request, response) => channel.handle(secret, request, response));
    return channel;
  }

  /** Installs the probe, told where this channel listens, in a profile made by createProfile. */
  install(profile: string): void {
    // Unpacked: Thunderbird loads a folder named after the id from <profile>/extensions.
    const target = path.join(profile, "extensions", PROBE_ID);
    cpSync(PROBE_SOURCE, target, { recursive: true });
    writeFileSync(path.join(target, "config.json"), JSON.stringify({ url: this.url }));
  }

  /** Runs `method` in the probe; rejects with the probe's error, or after timeoutMs. */
  call<T>(method: string, params: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`the probe did not answer ${method} within ${timeoutMs} ms (last poll ${this.lastPollAt ? `${Date.now() - this.lastPollAt} ms ago` : "never"})`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.queue.push({ id, method, params });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.polls.length > 0) {
      const response = this.polls.shift()!;
      if (response.writableEnded || response.destroyed) continue;
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(this.queue.shift()));
    }
  }

  private handle(secret: string, request: http.IncomingMessage, response: http.ServerResponse): void {
    const url = request.url ?? "";
    if (request.method === "GET" && url === `/${secret}/next`) {
      this.lastPollAt = Date.now();
      this.polls.push(response);
      const timer = setTimeout(() => {
        const index = this.polls.indexOf(response);
        if (index !== -1) this.polls.splice(index, 1);
        if (!response.writableEnded) response.writeHead(204).end();
      }, PROBE_POLL_MS);
      response.once("close", () => {
        clearTimeout(timer);
        const index = this.polls.indexOf(response);
        if (index !== -1) this.polls.splice(index, 1);
      });
      this.dispatch();
      return;
    }
    if (request.method === "POST" && url === `/${secret}/reply`) {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        response.writeHead(204).end();
        const reply = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id: number; result?: unknown; error?: string };
        const waiter = this.waiting.get(reply.id);
        this.waiting.delete(reply.id);
        if (reply.error !== undefined) waiter?.reject(new Error(`probe: ${reply.error}`));
        else waiter?.resolve(reply.result);
      });
      return;
    }
    response.writeHead(404).end();
  }

  close(): Promise<void> {
    for (const response of this.polls.splice(0)) response.destroy();
    for (const waiter of this.waiting.values()) waiter.reject(new Error("the probe channel closed"));
    this.waiting.clear();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
