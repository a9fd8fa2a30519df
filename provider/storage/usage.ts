// Each user's stored bytes (sync documents plus incoming mail) against the quota.
import type { SqlDatabase } from "./database";

export class QuotaExceededError extends Error {
  constructor() {
    super("storage quota exceeded");
    this.name = "QuotaExceededError";
  }
}

export class Usage {
  private readonly statements;

  constructor(
    sql: SqlDatabase,
    readonly quotaBytes: number,
  ) {
    this.statements = {
      get: sql.prepare<[number], { used_bytes: number }>("SELECT used_bytes FROM users WHERE id = ?"),
      add: sql.prepare("UPDATE users SET used_bytes = used_bytes + ? WHERE id = ?"),
    };
  }

  used(userId: number): number {
    return this.statements.get.get(userId)?.used_bytes ?? 0;
  }

  /** Whether `bytes` more would take the user over the quota. */
  wouldExceed(userId: number, bytes: number): boolean {
    return bytes > 0 && this.used(userId) + bytes > this.quotaBytes;
  }

  /** Call inside the transaction that stores the bytes: throwing rolls it back.
   * Shrinking is always allowed, even for a user already over the quota. */
  add(userId: number, bytes: number): void {
    if (this.wouldExceed(userId, bytes)) throw new QuotaExceededError();
    this.record(userId, bytes);
  }

  /** Counts bytes without checking the quota: for mail the MX accepted at
   * RCPT time (checked there) and for bounces, which must not be lost. */
  record(userId: number, bytes: number): void {
    this.statements.add.run(bytes, userId);
  }
}
