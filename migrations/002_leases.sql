-- Leases: the source of truth for every issued secret, queried by index (nothing is loaded
-- into memory at start). Revoked and expired leases stay as tombstones until tidy.
-- `payload` is a barrier record: the engine's revocation data and the justification.
CREATE TABLE leases (
  lease_id TEXT PRIMARY KEY,
  mount_uuid TEXT NOT NULL,
  mount_path TEXT NOT NULL,
  request_path TEXT NOT NULL,
  secret_type TEXT NOT NULL,
  token_accessor TEXT,
  identity TEXT,
  owner TEXT,
  issued_at INTEGER NOT NULL,
  expire_at INTEGER NOT NULL,
  max_expire_at INTEGER NOT NULL,
  last_renewed_at INTEGER,
  renewable INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('active', 'revoking', 'revoked', 'irrevocable')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  last_error TEXT,
  revoked_at INTEGER,
  revocation_reason TEXT,
  payload BLOB NOT NULL
) WITHOUT ROWID;

-- The sweep: active leases by expiry, pending revocations by next attempt.
CREATE INDEX leases_active_by_expiry ON leases (expire_at) WHERE state = 'active';
CREATE INDEX leases_pending_by_attempt ON leases (next_attempt_at) WHERE state IN ('revoking', 'irrevocable');
CREATE INDEX leases_by_token ON leases (token_accessor) WHERE token_accessor IS NOT NULL;
CREATE INDEX leases_by_identity ON leases (identity) WHERE identity IS NOT NULL;
CREATE INDEX leases_by_owner ON leases (owner) WHERE owner IS NOT NULL;
CREATE INDEX leases_by_state ON leases (state, revoked_at);

-- The lifecycle ledger, beside the lease row (which records issue and final revocation): one row per
-- renewal, revocation request and failed attempt. Errors are sanitised before they get here.
CREATE TABLE lease_events (
  id INTEGER PRIMARY KEY,
  lease_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  event TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX lease_events_by_lease ON lease_events (lease_id, at);
