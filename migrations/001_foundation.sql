-- Seal configuration and the keyring, encrypted under the root key. One row.
CREATE TABLE seal_config (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  secret_shares INTEGER NOT NULL,
  secret_threshold INTEGER NOT NULL,
  keyring BLOB NOT NULL,
  initialized_at INTEGER NOT NULL
);

-- Barrier-encrypted key/value storage: engines' views and core configuration (mount table).
-- `value` is a barrier record bound to `path`.
CREATE TABLE entries (
  path TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;

-- Tokens, stored only as HMAC(token key, token). `entry` is a barrier record holding the
-- policies, metadata and identity; the plaintext columns are what must be indexed.
CREATE TABLE tokens (
  token_hash BLOB PRIMARY KEY,
  accessor TEXT NOT NULL UNIQUE,
  parent_accessor TEXT,
  created_at INTEGER NOT NULL,
  expire_at INTEGER,
  uses_remaining INTEGER,
  entry BLOB NOT NULL
);
CREATE INDEX tokens_by_parent ON tokens (parent_accessor);
CREATE INDEX tokens_by_expiry ON tokens (expire_at) WHERE expire_at IS NOT NULL;
