// A hybrid logical clock (Kulkarni et al.) per device: timestamps that
// follow wall time, never go backwards on this device, move past any
// timestamp seen from another device, and break ties by device id. Sync
// merges concurrent edits (flags, mailbox renames) by comparing them.
import { randomBytes } from "node:crypto";
import type { SqlDatabase } from "./document-store";

/** "0001732384000123-000007-ab12cd34": wall milliseconds, counter, device. Fixed
 * widths make string order equal time order. */
export type HlcTimestamp = string;

const SCHEMA = `CREATE TABLE IF NOT EXISTS clock_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)`;

export class HybridClock {
  private wall: number;
  private counter: number;
  readonly deviceId: string;

  constructor(
    private readonly sql: SqlDatabase,
    private readonly now: () => number = Date.now,
  ) {
    sql.exec(SCHEMA);
    const read = (key: string) => (sql.prepare("SELECT value FROM clock_state WHERE key = ?").get(key) as { value: string } | undefined)?.value;
    let device = read("device");
    if (!device) {
      device = randomBytes(4).toString("hex");
      sql.prepare("INSERT INTO clock_state (key, value) VALUES ('device', ?)").run(device);
    }
    this.deviceId = device;
    const last = read("last");
    const parsed = last ? parse(last) : { wall: 0, counter: 0 };
    this.wall = parsed.wall;
    this.counter = parsed.counter;
  }

  /** A new timestamp for a local change. */
  tick(): HlcTimestamp {
    const now = this.now();
    if (now > this.wall) {
      this.wall = now;
      this.counter = 0;
    } else {
      this.counter++;
    }
    return this.persist();
  }

  /** Takes in a timestamp seen from another device, so later local ones sort after it. */
  observe(remote: HlcTimestamp): void {
    const other = parse(remote);
    const now = this.now();
    const wall = Math.max(now, this.wall, other.wall);
    if (wall === this.wall && wall === other.wall) this.counter = Math.max(this.counter, other.counter) + 1;
    else if (wall === this.wall) this.counter++;
    else if (wall === other.wall) this.counter = other.counter + 1;
    else this.counter = 0;
    this.wall = wall;
    this.persist();
  }

  private persist(): HlcTimestamp {
    const stamp = `${String(this.wall).padStart(16, "0")}-${String(this.counter).padStart(6, "0")}-${this.deviceId}`;
    this.sql.prepare("INSERT OR REPLACE INTO clock_state (key, value) VALUES ('last', ?)").run(stamp);
    return stamp;
  }
}

function parse(stamp: HlcTimestamp): { wall: number; counter: number } {
  const match = /^(\d{16})-(\d{6})-[0-9a-f]+$/.exec(stamp);
  if (!match) throw new Error(`not a hybrid clock timestamp: ${stamp}`);
  return { wall: Number(match[1]), counter: Number(match[2]) };
}
