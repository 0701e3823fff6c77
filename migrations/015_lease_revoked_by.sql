-- Who asked for a lease's revocation (the ledger's `actor`): the requesting token's entity id, else its
-- accessor, or `scheduler`. Kept on the row because the backend call may happen later, in the sweep
-- (sync=false, or the leases of a revoked token), when the request is long gone. Null for older rows
-- and for leases revoked at their expiry (the scheduler's).
ALTER TABLE leases ADD COLUMN revoked_by TEXT;
