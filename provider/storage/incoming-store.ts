// The incoming queue: mail accepted by the MX, encrypted to the user's key,
// waiting for the user's daemon to fetch and delete it.
import { randomBytes } from "node:crypto";
import type { ChangeFeed } from "./change-feed";
import type { SqlDatabase } from "./database";
import type { Usage } from "./usage";

export type IncomingEntry = { id: string; data: Buffer; receivedAt: number };

export class IncomingStore {
  private readonly statements;

  constructor(
    private readonly sql: SqlDatabase,
    private readonly usage: Usage,
    private readonly feed?: ChangeFeed,
  ) {
    this.statements = {
      insert: sql.prepare("INSERT INTO incoming (user_id, id, data, received_at) VALUES (?, ?, ?, ?)"),
      list: sql.prepare<[number, number], { id: string; data: Buffer; received_at: number }>(
        "SELECT id, data, received_at FROM incoming WHERE user_id = ? ORDER BY received_at, rowid LIMIT ?",
      ),
      size: sql.prepare<[number, string], { size: number }>("SELECT length(data) AS size FROM incoming WHERE user_id = ? AND id = ?"),
      delete: sql.prepare("DELETE FROM incoming WHERE user_id = ? AND id = ?"),
      // Answered from incoming_by_age (user_id first), not a scan.
      waiting: sql.prepare<[number], { one: number }>("SELECT 1 AS one FROM incoming WHERE user_id = ? LIMIT 1"),
    };
  }

  /** Stores mail for one or more users in one transaction (with whatever
   * `alsoInTransaction` writes): all or none. The quota is not checked here
   * but when the mail is offered (MX RCPT). */
  add(deliveries: readonly { userId: number; data: Buffer }[], receivedAt: number, alsoInTransaction: () => void = () => {}): string[] {
    const ids = this.sql.transaction(() => {
      const made = deliveries.map(({ userId, data }) => {
        const id = randomBytes(16).toString("base64url");
        this.usage.record(userId, data.length);
        this.statements.insert.run(userId, id, data, receivedAt);
        return id;
      });
      alsoInTransaction();
      return made;
    })();
    for (const userId of new Set(deliveries.map((delivery) => delivery.userId))) this.feed?.emit("incoming", userId);
    return ids;
  }

  /** Whether any mail waits for the user. */
  waiting(userId: number): boolean {
    return this.statements.waiting.get(userId) !== undefined;
  }

  /** Oldest first; `more` when there are further entries. */
  list(userId: number, limit: number): { entries: IncomingEntry[]; more: boolean } {
    const rows = this.statements.list.all(userId, limit + 1);
    return {
      entries: rows.slice(0, limit).map((row) => ({ id: row.id, data: row.data, receivedAt: row.received_at })),
      more: rows.length > limit,
    };
  }

  /** Idempotent: deleting what is not there is fine. One transaction for all. */
  delete(userId: number, ids: readonly string[]): void {
    this.sql.transaction(() => {
      for (const id of ids) {
        const size = this.statements.size.get(userId, id)?.size;
        if (size === undefined) continue;
        this.statements.delete.run(userId, id);
        this.usage.add(userId, -size);
      }
    })();
  }
}
