// The incoming queue: mail accepted by the MX, encrypted to the user's key,
// waiting for the user's daemon to fetch and delete it.
import { randomBytes } from "node:crypto";
import type { SqlDatabase } from "./database";
import type { Usage } from "./usage";

export type IncomingEntry = { id: string; data: Buffer; receivedAt: number };

export class IncomingStore {
  private readonly statements;

  constructor(
    private readonly sql: SqlDatabase,
    private readonly usage: Usage,
  ) {
    this.statements = {
      insert: sql.prepare("INSERT INTO incoming (user_id, id, data, received_at) VALUES (?, ?, ?, ?)"),
      list: sql.prepare<[number, number], { id: string; data: Buffer; received_at: number }>(
        "SELECT id, data, received_at FROM incoming WHERE user_id = ? ORDER BY received_at, rowid LIMIT ?",
      ),
      size: sql.prepare<[number, string], { size: number }>("SELECT length(data) AS size FROM incoming WHERE user_id = ? AND id = ?"),
      delete: sql.prepare("DELETE FROM incoming WHERE user_id = ? AND id = ?"),
    };
  }

  /** Stores mail for one or more users in one transaction (with whatever
   * `alsoInTransaction` writes): all or none. The quota is not checked here
   * but when the mail is offered (MX RCPT). */
  add(deliveries: readonly { userId: number; data: Buffer }[], receivedAt: number, alsoInTransaction: () => void = () => {}): string[] {
    return this.sql.transaction(() => {
      const ids = deliveries.map(({ userId, data }) => {
        const id = randomBytes(16).toString("base64url");
        this.usage.record(userId, data.length);
        this.statements.insert.run(userId, id, data, receivedAt);
        return id;
      });
      alsoInTransaction();
      return ids;
    })();
  }

  /** Oldest first; `more` when there are further entries. */
  list(userId: number, limit: number): { entries: IncomingEntry[]; more: boolean } {
    const rows = this.statements.list.all(userId, limit + 1);
    return {
      entries: rows.slice(0, limit).map((row) => ({ id: row.id, data: row.data, receivedAt: row.received_at })),
      more: rows.length > limit,
    };
  }

  /** Idempotent: deleting what is not there is fine. */
  delete(userId: number, id: string): void {
    this.sql.transaction(() => {
      const size = this.statements.size.get(userId, id)?.size;
      if (size === undefined) return;
      this.statements.delete.run(userId, id);
      this.usage.add(userId, -size);
    })();
  }
}
