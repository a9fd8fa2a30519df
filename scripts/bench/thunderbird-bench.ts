// The Thunderbird bench: how long a user waits, from starting Thunderbird
// with a fresh profile and our add-on, until Thunderbird logs in to the
// daemon's IMAP (the add-on ran, asked the daemon over native messaging,
// created the account through its Experiment API, stored the token, and
// Thunderbird connected).
//
// The reference, measured in the same run on the same machine with the same
// flags (headless, Marionette on, a fresh profile each launch): Thunderbird
// with no add-on at all, from start until its main window has loaded. That
// is the floor: no add-on can have an account logged in before Thunderbird's
// own window is up, so the ratio says how much of the wait is ours. The
// same window figure is taken in our runs too, to show whether the add-on
// slows Thunderbird's own start.
//
// Why not Dovecot with a hand-written profile: Thunderbird can only log in
// at start-up with a password already in the login manager, which is
// encrypted with the profile's own NSS key; storing it takes a first launch,
// after which the profile is no longer fresh (startup cache, databases,
// extension registry), so that reference would be measured on a warm
// profile and ours on a cold one.
//
// Each side is launched several times, alternating, and the median is kept.
// Start is taken just before the process is spawned; the login is the time
// the daemon's IMAP server accepted LOGIN/AUTHENTICATE; the window time is
// the window's own load-end timestamp (read over Marionette afterwards, so
// polling adds nothing). Everything runs in this process: the daemon (as in
// the e2e test, in the temp HOME's data folder where the native host finds
// it), and Thunderbird as a child.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import pino from "pino";
import { fullServices } from "../../native-host/daemon/account-services";
import { startDaemon, type Daemon } from "../../native-host/daemon/daemon";
import type { SessionEvent } from "../../native-host/imap/session";
import { createProfile, freePort, requireThunderbird, Thunderbird, thunderbirdVersion } from "../../tests/helpers/thunderbird";
import { type Bench, type BenchOptions, type BenchReport, formatRatio, formatSeconds, withTempDir } from "./report";

const ADDRESS = "bench@localhost";
/** Launches per side; --quick halves them. Thunderbird's start varies by
 * some 10-20 % between launches, so a median of a few is needed. */
const LAUNCHES = 5;
const QUICK_LAUNCHES = 3;
const DEADLINE_MS = 60_000;

type Launch = {
  /** Spawn to the main window's load end. */
  windowSeconds: number;
  /** Spawn to the first IMAP login; null for the reference (no account). */
  loginSeconds: number | null;
};

export type ThunderbirdBenchData = {
  thunderbird: string;
  launches: number;
  ours: Launch[];
  reference: Launch[];
  median: { oursLoginSeconds: number; oursWindowSeconds: number; referenceWindowSeconds: number };
};

/** The repository root: dist/bench.js and scripts/bench/*.ts both sit below it. */
function repositoryRoot(): string {
  let dir = import.meta.dirname;
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "bitmask-mail-thunderbird") return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("cannot find the repository root (package.json) above the bench");
    dir = parent;
  }
}

async function waitFor<T>(what: string, probe: () => T | null | undefined | Promise<T | null | undefined>): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${DEADLINE_MS} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

class World {
  private logins: number[] = [];
  private launchCount = 0;

  private constructor(
    private readonly dir: string,
    private readonly xpi: string,
    readonly daemon: Daemon,
  ) {
    daemon.events.on("imap", (event: SessionEvent) => {
      if (event.type === "login" && event.username.toLowerCase() === ADDRESS) this.logins.push(Date.now());
    });
  }

  /** The add-on and native host built, the host registered in a temp HOME,
   * and a daemon with one local account in that HOME's data folder. */
  static async create(dir: string): Promise<World> {
    const root = repositoryRoot();
    const home = path.join(dir, "home");
    mkdirSync(path.join(dir, "tmp"), { recursive: true });
    mkdirSync(home, { recursive: true });
    execFileSync(process.execPath, [path.join(root, "scripts/build.mjs"), "native-host"], { cwd: root, stdio: "inherit" });
    execFileSync(process.execPath, [path.join(root, "scripts/register-host.mjs")], { env: { ...process.env, HOME: home }, stdio: "ignore" });
    const packager = (await import(pathToFileURL(path.join(root, "scripts/package-extension.mjs")).href)) as {
      buildExtension(options: { outDir: string; xpiPath: string }): Promise<string>;
    };
    const xpi = await packager.buildExtension({ outDir: path.join(dir, "extension"), xpiPath: path.join(dir, "bitmask-mail.xpi") });
    const daemon = await startDaemon({
      dataDir: path.join(home, ".local", "share", "bitmask-mail"),
      imapPort: 0,
      smtpPort: 0,
      log: pino({ level: "silent" }),
      services: fullServices({ intervalMs: 3_600_000 }),
    });
    await daemon.createAccount(ADDRESS, "a bench passphrase");
    return new World(dir, xpi, daemon);
  }

  /** One launch on a fresh profile, with our add-on or without any. */
  async launch(withAddon: boolean): Promise<Launch> {
    const profile = path.join(this.dir, `profile-${++this.launchCount}`);
    const marionettePort = await freePort();
    createProfile(profile, withAddon ? this.xpi : null, marionettePort);
    this.logins = [];
    const started = Date.now();
    const thunderbird = await Thunderbird.start({ profile, home: path.join(this.dir, "home"), tmp: path.join(this.dir, "tmp"), marionettePort });
    try {
      const windowAt = await waitFor("Thunderbird's main window", () => thunderbird.mainWindowLoadedAt());
      const loginAt = withAddon ? await waitFor("the first IMAP login", () => this.logins[0]) : null;
      return { windowSeconds: (windowAt - started) / 1000, loginSeconds: loginAt === null ? null : (loginAt - started) / 1000 };
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${thunderbird.output.join("").slice(-3000)}`);
    } finally {
      await thunderbird.quit();
    }
  }
}

function report(data: ThunderbirdBenchData): BenchReport {
  const { oursLoginSeconds, oursWindowSeconds, referenceWindowSeconds } = data.median;
  return {
    name: "thunderbird",
    title: `Thunderbird: start to first IMAP login with a fresh profile (${data.thunderbird})`,
    summary: [
      `median of ${data.launches} headless launches per side, alternating, each on a new profile`,
      "reference: the same Thunderbird with no add-on, start to its main window loaded",
    ],
    table: [
      ["", "ours (add-on)", "reference (no add-on)", "ours/reference"],
      ["start -> first IMAP login", formatSeconds(oursLoginSeconds), "-", "-"],
      ["start -> main window loaded", formatSeconds(oursWindowSeconds), formatSeconds(referenceWindowSeconds), formatRatio(oursWindowSeconds, referenceWindowSeconds)],
      ["our login vs. Thunderbird's window", formatSeconds(oursLoginSeconds), formatSeconds(referenceWindowSeconds), formatRatio(oursLoginSeconds, referenceWindowSeconds)],
    ],
    notes: [
      "ours/reference > 1 means a longer wait. The last row is the figure: how long until the account works,",
      "against how long Thunderbird alone takes to open; ours - reference is the add-on's setup",
      `(${formatSeconds(oursLoginSeconds - referenceWindowSeconds)} here). The middle row shows whether the add-on delays Thunderbird's own start.`,
    ],
    data,
  };
}

export const thunderbirdBench: Bench = {
  name: "thunderbird",
  description: "Thunderbird start to first IMAP login with a fresh profile, vs. its start to first window without the add-on",
  phases: {},
  async run(options: BenchOptions): Promise<BenchReport> {
    // Not a test: a missing Thunderbird is an error here, not a skip.
    const missing = requireThunderbird("the Thunderbird bench");
    if (missing) throw new Error(`the Thunderbird bench cannot run: ${missing}`);
    const launches = options.messages < 10_000 ? QUICK_LAUNCHES : LAUNCHES;
    return withTempDir("bitmask-bench-tb-", async (dir) => {
      const world = await World.create(dir);
      try {
        // One launch each, not counted: the first launch of the run pays for
        // cold disk caches of Thunderbird's own files, whichever side it is.
        await world.launch(false);
        await world.launch(true);
        const ours: Launch[] = [];
        const reference: Launch[] = [];
        for (let i = 0; i < launches; i++) {
          reference.push(await world.launch(false));
          ours.push(await world.launch(true));
          process.stderr.write(`  thunderbird: launch ${i + 1}/${launches}: login ${ours.at(-1)!.loginSeconds!.toFixed(2)} s, reference window ${reference.at(-1)!.windowSeconds.toFixed(2)} s\n`);
        }
        return report({
          thunderbird: thunderbirdVersion(),
          launches,
          ours,
          reference,
          median: {
            oursLoginSeconds: median(ours.map((launch) => launch.loginSeconds!)),
            oursWindowSeconds: median(ours.map((launch) => launch.windowSeconds)),
            referenceWindowSeconds: median(reference.map((launch) => launch.windowSeconds)),
          },
        });
      } finally {
        await world.daemon.stop();
      }
    });
  },
};
