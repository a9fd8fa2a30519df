// The provider's one SQLite file. It is not encrypted: the provider only ever
// holds ciphertext (sync documents, incoming mail encrypted to the user's
// key), SRP salts and verifiers, hashes of session tokens, public keys, and
// outgoing mail waiting for relay (as the sender's daemon sent it, normally
// already OpenPGP-encrypted).
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3-multiple-ciphers";

export type SqlDatabase = Database.Database;

export const DATABASE_FILE = "provider.sqlite";

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS provider_meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);

  CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    srp_salt TEXT NOT NULL,
    srp_verifier TEXT NOT NULL,
    -- the last generation given to one of this user's sync documents
    generation INTEGER NOT NULL DEFAULT 0,
    -- bytes of sync documents and incoming mail, checked against the quota
    used_bytes INTEGER NOT NULL DEFAULT 0,
    secrets_blob TEXT,
    created_at INTEGER NOT NULL
  );

  -- Only a hash of each token: a copy of the database does not log anyone in.
  CREATE TABLE IF NOT EXISTS sessions (
    token_hash BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions(expires_at);

  CREATE TABLE IF NOT EXISTS docs (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    rev INTEGER NOT NULL,
    gen INTEGER NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (user_id, id),
    UNIQUE (user_id, gen)
  );

  CREATE TABLE IF NOT EXISTS incoming (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    data BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (user_id, id)
  );
  CREATE INDEX IF NOT EXISTS incoming_by_age ON incoming(user_id, received_at);

  CREATE TABLE IF NOT EXISTS keys (
    address TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    armored TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE IF NOT EXISTS relay_messages (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    mail_from TEXT NOT NULL,
    message BLOB NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS relay_recipients (
    message_id INTEGER NOT NULL REFERENCES relay_messages(id) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    PRIMARY KEY (message_id, recipient)
  );
  CREATE INDEX IF NOT EXISTS relay_by_due_time ON relay_recipients(next_attempt_at);
`;

export function openProviderDatabase(dataDir: string): SqlDatabase {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const sql = new Database(path.join(dataDir, DATABASE_FILE));
  sql.pragma("journal_mode = WAL");
  // An SMTP 250 or an HTTP 200 promises the data is kept: sync every commit.
  sql.pragma("synchronous = FULL");
  sql.pragma("foreign_keys = ON");
  // Deleted rows (delivered relay mail, fetched incoming mail) are zeroed,
  // not left in free pages.
  sql.pragma("secure_delete = ON");
  sql.exec(SCHEMA);
  return sql;
}
