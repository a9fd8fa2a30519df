// Outgoing mail for other domains, kept until every recipient is delivered
// or bounced. One message row, one row per recipient with its retry state.
import type { SqlDatabase } from "./database";

export type RelayMessage = { id: number; userId: number; mailFrom: string; message: Buffer };
export type DueRecipient = { messageId: number; recipient: string; attempts: number };

export class RelayQueue {
  private readonly statements;

  constructor(private readonly sql: SqlDatabase) {
    this.statements = {
      insertMessage: sql.prepare("INSERT INTO relay_messages (user_id, mail_from, message, created_at) VALUES (?, ?, ?, ?)"),
      insertRecipient: sql.prepare("INSERT OR IGNORE INTO relay_recipients (message_id, recipient, next_attempt_at) VALUES (?, ?, ?)"),
      due: sql.prepare<[number], DueRecipient>(
        `SELECT message_id AS messageId, recipient, attempts FROM relay_recipients
         WHERE next_attempt_at <= ? ORDER BY next_attempt_at, message_id`,
      ),
      nextDue: sql.prepare<[], { at: number | null }>("SELECT min(next_attempt_at) AS at FROM relay_recipients"),
      message: sql.prepare<[number], { id: number; user_id: number; mail_from: string; message: Buffer }>(
        "SELECT id, user_id, mail_from, message FROM relay_messages WHERE id = ?",
      ),
      retry: sql.prepare("UPDATE relay_recipients SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE message_id = ? AND recipient = ?"),
      removeRecipient: sql.prepare("DELETE FROM relay_recipients WHERE message_id = ? AND recipient = ?"),
      removeMessageIfDone: sql.prepare(
        "DELETE FROM relay_messages WHERE id = ? AND NOT EXISTS (SELECT 1 FROM relay_recipients WHERE message_id = ?)",
      ),
    };
  }

  enqueue(userId: number, mailFrom: string, recipients: readonly string[], message: Buffer, now: number): number {
    return this.sql.transaction(() => {
      const id = Number(this.statements.insertMessage.run(userId, mailFrom, message, now).lastInsertRowid);
      for (const recipient of recipients) this.statements.insertRecipient.run(id, recipient, now);
      return id;
    })();
  }

  due(now: number): DueRecipient[] {
    return this.statements.due.all(now);
  }

  /** When the next recipient is due, or null when the queue is empty. */
  nextDueAt(): number | null {
    return this.statements.nextDue.get()?.at ?? null;
  }

  message(id: number): RelayMessage | undefined {
    const row = this.statements.message.get(id);
    return row && { id: row.id, userId: row.user_id, mailFrom: row.mail_from, message: row.message };
  }

  scheduleRetry(messageId: number, recipient: string, attempts: number, nextAttemptAt: number, error: string): void {
    this.statements.retry.run(attempts, nextAttemptAt, error, messageId, recipient);
  }

  /** Delivered or bounced: forget the recipient, and the message with its last one. */
  finish(messageId: number, recipient: string): void {
    const removed = this.sql.transaction(() => {
      this.statements.removeRecipient.run(messageId, recipient);
      return this.statements.removeMessageIfDone.run(messageId, messageId).changes > 0;
    })();
    // A message relayed signed only was readable here; secure_delete zeroes
    // its pages in the database, but older copies stay in WAL frames until
    // a checkpoint: truncate the WAL now rather than at some later commit.
    if (removed) this.sql.pragma("wal_checkpoint(TRUNCATE)");
  }
}
