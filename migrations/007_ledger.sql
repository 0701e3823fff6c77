-- The governance ledger: an append-only chain of lifecycle events (tokens, leases, releases of static
-- secrets). Each row's `hash` is an HMAC, under a key derived from the barrier's keyring, over the
-- previous row's hash and this row's canonical form (seq included), so editing, deleting or
-- reordering a row breaks the chain at that row. No secret value is ever stored here.
CREATE TABLE ledger_events (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  event TEXT NOT NULL,
  entity_id TEXT,
  owner TEXT,
  actor TEXT,
  request_id TEXT,
  mount TEXT,
  path TEXT,
  lease_id TEXT,
  accessor TEXT,
  reason TEXT,
  detail TEXT,
  hash TEXT NOT NULL
);
CREATE INDEX ledger_by_at ON ledger_events (at);
CREATE INDEX ledger_by_entity ON ledger_events (entity_id, seq) WHERE entity_id IS NOT NULL;
CREATE INDEX ledger_by_owner ON ledger_events (owner, seq) WHERE owner IS NOT NULL;
CREATE INDEX ledger_by_lease ON ledger_events (lease_id, seq) WHERE lease_id IS NOT NULL;
CREATE INDEX ledger_by_mount ON ledger_events (mount, seq) WHERE mount IS NOT NULL;
CREATE INDEX ledger_by_event ON ledger_events (event, seq);

-- Where the chain restarts after tidy: the seq and hash of the last deleted event, with its own HMAC.
CREATE TABLE ledger_anchor (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  mac TEXT NOT NULL
);
