// A process killed with SIGKILL at random moments while it writes mail must
// leave a store that opens and holds every message whole or not at all, and
// every message it acknowledged.
import { spawn } from "node:child_process";
import path from "node:path";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { toHex } from "../../shared/bytes";
import { Account } from "../../native-host/mail/account";
import { DocumentStore } from "../../native-host/store/document-store";
import { openTempStore } from "../helpers/temp-store";

const CHILD = path.join(import.meta.dirname, "../helpers/crash-child.ts");
const ROUNDS = 20;

function runAndKill(file: string, secret: Uint8Array, start: number, delayMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, file, toHex(secret), String(start)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    let errors = "";
    child.stdout.on("data", (chunk: Buffer) => {
      const before = output;
      output += chunk.toString();
      if (!before.includes("ready\n") && output.includes("ready\n")) setTimeout(() => child.kill("SIGKILL"), delayMs);
    });
    child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
    const guard = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("exit", (_code, signal) => {
      clearTimeout(guard);
      if (signal !== "SIGKILL") reject(new Error(`child ended on its own: ${errors}`));
      else resolve(output.split("\n").filter((line) => line.endsWith("\n") || line.length > 0));
    });
  });
}

describe("crash safety", () => {
  it(`survives SIGKILL at ${ROUNDS} random moments during writes`, async () => {
    const temp = await openTempStore();
    temp.store.close();
    const acknowledged = new Map<string, number>();
    const expunged = new Set<string>();
    let next = 1;
    let totalAdded = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const lines = await runAndKill(temp.file, temp.secret, next, 50 + Math.floor(Math.random() * 400));
      // The last line may be cut off mid-write: only whole lines count.
      for (const line of lines.slice(0, -1)) {
        const [word, n, hash] = line.split(" ");
        if (word === "added") {
          acknowledged.set(hash!, Number(n));
          next = Math.max(next, Number(n) + 1);
          totalAdded++;
        }
      }
      next++;

      const store = await DocumentStore.open(temp.file, temp.secret);
      try {
        expect(store.sql.pragma("integrity_check", { simple: true })).toBe("ok");
        const account = Account.open(store);
        const inbox = account.requireMailbox("INBOX");
        const present = new Set<string>();
        for (const uid of inbox.uids()) {
          const message = inbox.get(uid)!;
          // Whole: the stored parts join to exactly the bytes that were added.
          expect(createHash("sha256").update(message.raw()).digest("hex").toUpperCase()).toBe(message.msgHash);
          present.add(message.msgHash);
        }
        for (const uid of account.requireMailbox("Archive").uids()) account.requireMailbox("Archive").get(uid)!.raw();
        // Acknowledged: every message reported as added is there, unless it was flagged for expunge.
        for (const [hash, n] of acknowledged) {
          if (n % 5 === 0) expunged.add(hash);
          if (!expunged.has(hash)) expect(present.has(hash), `message ${n} lost`).toBe(true);
        }
        // Nothing half-written: every header and content document is referenced by a message.
        const orphans = store.sql
          .prepare(
            `SELECT count(*) AS n FROM docs WHERE deleted = 0 AND type IN ('header', 'content')
             AND id NOT IN (SELECT part_id FROM mail_part_refs)`,
          )
          .get() as { n: number };
        expect(orphans.n).toBe(0);
        const unindexed = store.sql
          .prepare("SELECT count(*) AS n FROM docs WHERE deleted = 0 AND type = 'meta' AND id NOT IN (SELECT meta_id FROM mail_messages)")
          .get() as { n: number };
        expect(unindexed.n).toBe(0);
      } finally {
        store.close();
      }
    }
    expect(totalAdded).toBeGreaterThan(ROUNDS);
  }, 300_000);
});
