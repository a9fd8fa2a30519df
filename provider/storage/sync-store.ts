// Per-user sync documents: opaque ids, revisions, generations and ciphertext.
// Every write takes the user's next generation; only the newest version of a
// document is kept, so "changes since g" is every document with gen > g.
import type { ChangeFeed } from "./change-feed";
import type { SqlDatabase } from "./database";
import type { Usage } from "./usage";

export type DocToStore = { id: string; rev: number; expectedRev: number; data: Buffer };
/** `gen`: the generation a stored document took (its device need not pull it back). */
export type StoreResult = { id: string; status: "stored"; rev: number; gen: number } | { id: string; status: "conflict"; rev: number };

/** A changed document without its data, which is read when it is sent. */
export type ChangeEntry = { id: string; rev: number; gen: number; size: number };
/** `remaining`: documents after this list (0 when `more` is false). */
export type ChangeList = { generation: number; entries: ChangeEntry[]; more: boolean; remaining: number };

export class SyncStore {
  private readonly statements;

  constructor(
    private readonly sql: SqlDatabase,
    private readonly usage: Usage,
    private readonly feed?: ChangeFeed,
  ) {
    this.statements = {
      current: sql.prepare<[number, string], { rev: number; size: number }>(
        "SELECT rev, length(data) AS size FROM docs WHERE user_id = ? AND id = ?",
      ),
      upsert: sql.prepare(
        `INSERT INTO docs (user_id, id, rev, gen, data) VALUES (@userId, @id, @rev, @gen, @data)
         ON CONFLICT (user_id, id) DO UPDATE SET rev = excluded.rev, gen = excluded.gen, data = excluded.data`,
      ),
      generation: sql.prepare<[number], { generation: number }>("SELECT generation FROM users WHERE id = ?"),
      setGeneration: sql.prepare("UPDATE users SET generation = ? WHERE id = ?"),
      changes: sql.prepare<[number, number, number, number], ChangeEntry>(
        `SELECT id, rev, gen, length(data) AS size FROM docs
         WHERE user_id = ? AND gen > ? AND gen <= ? ORDER BY gen LIMIT ?`,
      ),
      count: sql.prepare<[number, number, number], { n: number }>("SELECT count(*) AS n FROM docs WHERE user_id = ? AND gen > ? AND gen <= ?"),
      data: sql.prepare<[number, string, number], { data: Buffer }>("SELECT data FROM docs WHERE user_id = ? AND id = ? AND gen = ?"),
    };
  }

  generation(userId: number): number {
    return this.statements.generation.get(userId)?.generation ?? 0;
  }

  /**
   * Stores each document whose current revision is its expectedRev; the
   * others are conflicts. All or nothing with respect to the quota: when the
   * documents stored would take the user over it, nothing is stored and
   * QuotaExceededError is thrown.
   */
  push(userId: number, docs: readonly DocToStore[]): { generation: number; results: StoreResult[] } {
    const pushed = this.sql.transaction(() => {
      let generation = this.generation(userId);
      let growth = 0;
      const results: StoreResult[] = [];
      for (const doc of docs) {
        const current = this.statements.current.get(userId, doc.id);
        const currentRev = current?.rev ?? 0;
        if (currentRev !== doc.expectedRev) {
          results.push({ id: doc.id, status: "conflict", rev: currentRev });
          continue;
        }
        generation += 1;
        this.statements.upsert.run({ userId, id: doc.id, rev: doc.rev, gen: generation, data: doc.data });
        growth += doc.data.length - (current?.size ?? 0);
        results.push({ id: doc.id, status: "stored", rev: doc.rev, gen: generation });
      }
      this.usage.add(userId, growth);
      this.statements.setGeneration.run(generation, userId);
      return { generation, results };
    })();
    if (pushed.results.some((result) => result.status === "stored")) this.feed?.emit("sync", userId, pushed.generation);
    return pushed;
  }

  /**
   * What changed after generation `since`: at most `limit` entries, and no
   * more after the sizes reach `byteBudget` (but always at least one, so a
   * document larger than the budget still gets through).
   */
  changes(userId: number, since: number, limit: number, byteBudget: number): ChangeList {
    const current = this.generation(userId);
    const rows = this.statements.changes.all(userId, since, current, limit + 1);
    const entries: ChangeEntry[] = [];
    let bytes = 0;
    for (const row of rows.slice(0, limit)) {
      if (entries.length > 0 && bytes + row.size > byteBudget) break;
      entries.push(row);
      bytes += row.size;
    }
    const more = entries.length < rows.length;
    const last = entries[entries.length - 1];
    const generation = more && last ? last.gen : current;
    const remaining = more ? this.statements.count.get(userId, generation, current)!.n : 0;
    return { generation, entries, more, remaining };
  }

  /** A listed document's data, or undefined when it changed since it was listed
   * (its new version has a later generation and goes out in a later pull). */
  data(userId: number, entry: ChangeEntry): Buffer | undefined {
    return this.statements.data.get(userId, entry.id, entry.gen)?.data;
  }
}
