-- Credentials bound to one CI run (issue 17 section 3). A JWT role with run_claims stamps the
-- tokens of its logins, their child tokens and every lease they create with an opaque run key (an
-- HMAC of the mount and the run claims' values), so one run's credentials are found by index and
-- revoked together when the CI system reports the run finished.
ALTER TABLE tokens ADD COLUMN run_key TEXT;
ALTER TABLE leases ADD COLUMN run_key TEXT;
CREATE INDEX tokens_by_run ON tokens (run_key) WHERE run_key IS NOT NULL;
CREATE INDEX leases_by_run ON leases (run_key) WHERE run_key IS NOT NULL;

-- One row per run seen at login: the claims themselves are a barrier record in `body` (repository
-- names are not for the plaintext file); only what an index needs is in the clear.
CREATE TABLE governance_runs (
  run_key TEXT PRIMARY KEY,
  mount_accessor TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_login_at INTEGER NOT NULL,
  revoked_at INTEGER,
  body BLOB NOT NULL
);
CREATE INDEX governance_runs_by_created ON governance_runs (created_at);

-- Webhook delivery ids already acted on, per receiver, so a replayed delivery is refused. Rows
-- expire (and the table is capped) so it stays bounded.
CREATE TABLE governance_webhook_deliveries (
  receiver TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (receiver, delivery_id)
) WITHOUT ROWID;
CREATE INDEX governance_webhook_deliveries_by_seen ON governance_webhook_deliveries (seen_at);
