-- Pending leases: the durable intent to issue a credential, written before the engine creates it
-- (issue 15 item 14). A crash between "the database role exists" and "its lease is stored" used to
-- leave a role no lease accounted for. Now the engine reserves a lease id here first (with what
-- revocation needs, e.g. the username, encrypted like every lease payload), then creates the
-- credential, and the core moves the row into `leases` when it stores the lease. A row still here
-- after `due_at` (a grace longer than any creation statement, or at once after a restart) belongs
-- to an issuance that never finished: the sweep turns it into a revoking lease, which the engine
-- revokes like any other (deleting a user that was never created succeeds).
-- A separate table rather than a new state of `leases`: a pending lease is not a lease yet (lookup,
-- list, renew and count never see it), and `leases` keeps its CHECK constraint and columns.
CREATE TABLE pending_leases (
  lease_id TEXT NOT NULL UNIQUE,
  mount_uuid TEXT NOT NULL,
  mount_path TEXT NOT NULL,
  request_path TEXT NOT NULL,
  secret_type TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  payload BLOB NOT NULL
);
CREATE INDEX pending_leases_by_due ON pending_leases (due_at);
CREATE INDEX pending_leases_by_mount ON pending_leases (mount_uuid);
