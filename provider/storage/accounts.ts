// Users (SRP salt and verifier), session tokens and the secrets blob.
import { createHash, randomBytes } from "node:crypto";
import type { SqlDatabase } from "./database";

export type User = { id: number; username: string; srpSalt: string; srpVerifier: string };

type UserRow = { id: number; username: string; srp_salt: string; srp_verifier: string };

export type Session = { token: string; expiresAt: number };

const TOKEN_BYTES = 32;

function tokenHash(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

function toUser(row: UserRow): User {
  return { id: row.id, username: row.username, srpSalt: row.srp_salt, srpVerifier: row.srp_verifier };
}

export class AccountStore {
  private readonly statements;

  constructor(private readonly sql: SqlDatabase) {
    this.statements = {
      insertUser: sql.prepare(
        "INSERT INTO users (username, srp_salt, srp_verifier, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (username) DO NOTHING",
      ),
      userByName: sql.prepare<[string], UserRow>("SELECT id, username, srp_salt, srp_verifier FROM users WHERE username = ?"),
      userById: sql.prepare<[number], UserRow>("SELECT id, username, srp_salt, srp_verifier FROM users WHERE id = ?"),
      insertSession: sql.prepare("INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?, ?, ?)"),
      sessionUser: sql.prepare<[Buffer, number], { user_id: number }>(
        "SELECT user_id FROM sessions WHERE token_hash = ? AND expires_at > ?",
      ),
      purgeSessions: sql.prepare("DELETE FROM sessions WHERE expires_at <= ?"),
      deleteSession: sql.prepare("DELETE FROM sessions WHERE token_hash = ?"),
      deleteUserSessions: sql.prepare("DELETE FROM sessions WHERE user_id = ?"),
      getSecrets: sql.prepare<[number], { secrets_blob: string | null }>("SELECT secrets_blob FROM users WHERE id = ?"),
      putSecrets: sql.prepare("UPDATE users SET secrets_blob = ? WHERE id = ?"),
      changePassphrase: sql.prepare("UPDATE users SET srp_salt = ?, srp_verifier = ?, secrets_blob = ? WHERE id = ?"),
      getMeta: sql.prepare<[string], { value: Buffer }>("SELECT value FROM provider_meta WHERE key = ?"),
      putMeta: sql.prepare("INSERT INTO provider_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"),
    };
  }

  /** False when the username is taken. */
  createUser(username: string, srpSalt: string, srpVerifier: string, now: number): boolean {
    return this.statements.insertUser.run(username, srpSalt, srpVerifier, now).changes === 1;
  }

  userByName(username: string): User | undefined {
    const row = this.statements.userByName.get(username);
    return row && toUser(row);
  }

  userById(id: number): User | undefined {
    const row = this.statements.userById.get(id);
    return row && toUser(row);
  }

  createSession(userId: number, now: number, ttlMs: number): Session {
    this.statements.purgeSessions.run(now);
    const token = randomBytes(TOKEN_BYTES).toString("base64url");
    const expiresAt = now + ttlMs;
    this.statements.insertSession.run(tokenHash(token), userId, expiresAt);
    return { token, expiresAt };
  }

  /** The user a token belongs to, unless it is unknown or expired. */
  userForToken(token: string, now: number): User | undefined {
    const row = this.statements.sessionUser.get(tokenHash(token), now);
    return row && this.userById(row.user_id);
  }

  secretsBlob(userId: number): string | null {
    return this.statements.getSecrets.get(userId)?.secrets_blob ?? null;
  }

  putSecretsBlob(userId: number, blob: string): void {
    this.statements.putSecrets.run(blob, userId);
  }

  /** New SRP credentials and blob; every session of the user ends with the
   * old passphrase (a stolen token included), in the same transaction. */
  changePassphrase(userId: number, srpSalt: string, srpVerifier: string, blob: string): void {
    this.sql.transaction(() => {
      this.statements.changePassphrase.run(srpSalt, srpVerifier, blob, userId);
      this.statements.deleteUserSessions.run(userId);
    })();
  }

  /** Log-out: the token no longer works. */
  endSession(token: string): void {
    this.statements.deleteSession.run(tokenHash(token));
  }

  /** A random value made once per provider and kept (e.g. for fake SRP salts
   * that must stay the same across restarts). */
  providerSecret(name: string, bytes: number): Buffer {
    this.statements.putMeta.run(name, randomBytes(bytes));
    const row = this.statements.getMeta.get(name);
    if (!row) throw new Error(`provider secret ${name} missing after insert`);
    return row.value;
  }
}
