import { openDatabase } from '../src/storage/database';
const db = openDatabase(':memory:');
for (const q of ["SELECT * FROM leases WHERE lease_id = ?", "SELECT * FROM leases WHERE lease_id >= ? AND lease_id < ? AND state IN ('active', 'revoking', 'irrevocable')",
 "UPDATE leases SET state = 'revoking', next_attempt_at = ?, revocation_reason = 'token-revoked' WHERE token_accessor = ? AND state = 'active'",
 "DELETE FROM leases WHERE state = 'revoked' AND revoked_at < ?", "SELECT lease_id, payload FROM leases WHERE mount_uuid = ? AND state != 'revoked'"])
  console.log(q.slice(0, 50), db.prepare('EXPLAIN QUERY PLAN ' + q).all(...[1,2,3].slice(0, (q.match(/\?/g) ?? []).length)).map((r: any) => r.detail));
