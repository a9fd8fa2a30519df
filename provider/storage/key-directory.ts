// Published OpenPGP public keys, one per address of this provider.
import type { SqlDatabase } from "./database";

export class KeyDirectoryStore {
  private readonly statements;

  constructor(sql: SqlDatabase) {
    this.statements = {
      get: sql.prepare<[string], { armored: string }>("SELECT armored FROM keys WHERE address = ?"),
      put: sql.prepare(
        `INSERT INTO keys (address, user_id, armored, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (address) DO UPDATE SET armored = excluded.armored, updated_at = excluded.updated_at`,
      ),
    };
  }

  get(address: string): string | undefined {
    return this.statements.get.get(address)?.armored;
  }

  put(address: string, userId: number, armored: string, now: number): void {
    this.statements.put.run(address, userId, armored, now);
  }
}
