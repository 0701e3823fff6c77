// The lease table is read by index, never by walking it: every statement of the expiration manager
// is planned against the migrated schema, so a sweep, a token revocation or a prefix revocation
// costs what it touches, not what is stored.
import { LEASE_SQL } from '../../src/core/expiration';
import { openDatabase } from '../../src/storage/database';

const db = openDatabase(':memory:');
afterAll(() => db.close());

/** EXPLAIN QUERY PLAN's lines for `sql` (placeholders bound to dummies; they do not change the plan). */
function plan(sql: string): string[] {
  const statement = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
  const named = sql.includes('@lease_id');
  const args = named ? [Object.fromEntries([...sql.matchAll(/@(\w+)/g)].map((m) => [m[1], null]))] : Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 1);
  return (statement.all(...args) as { detail: string }[]).map((r) => r.detail);
}

describe('lease statement plans', () => {
  it.each(Object.entries(LEASE_SQL))('%s never scans the lease table', (_name, sql) => {
    for (const line of plan(sql)) expect(line).not.toMatch(/^SCAN (pending_)?leases\b/);
  });

  it('pending leases are found by due time, id and mount', () => {
    expect(plan(LEASE_SQL.duePendingIssuance)).toEqual(['SEARCH pending_leases USING INDEX pending_leases_by_due (due_at<?)']);
    expect(plan(LEASE_SQL.claimPending)).toEqual(['SEARCH pending_leases USING INDEX sqlite_autoindex_pending_leases_1 (lease_id=?)']);
    expect(plan(LEASE_SQL.pendingOfMount)).toEqual(['SEARCH pending_leases USING INDEX pending_leases_by_mount (mount_uuid=?)']);
  });

  it('the sweep reads due leases in index order, without sorting', () => {
    expect(plan(LEASE_SQL.dueActive)).toEqual(['SEARCH leases USING INDEX leases_active_by_expiry (expire_at<?)']);
    expect(plan(LEASE_SQL.duePending)).toEqual(['SEARCH leases USING INDEX leases_pending_by_attempt (next_attempt_at<?)']);
  });

  it("a token's leases are found by its accessor, a prefix's by the lease-id range, a lease by its id", () => {
    expect(plan(LEASE_SQL.byToken)).toEqual(['SEARCH leases USING INDEX leases_by_token (token_accessor=?)']);
    expect(plan(LEASE_SQL.prefix)).toEqual(['SEARCH leases USING INDEX sqlite_autoindex_leases_1 (lease_id>? AND lease_id<?)']);
    expect(plan(LEASE_SQL.get)).toEqual(['SEARCH leases USING INDEX sqlite_autoindex_leases_1 (lease_id=?)']);
  });

  it('without the hints the planner walks every active lease through the state index (why the hints are there)', () => {
    expect(plan(LEASE_SQL.dueActive.replace(/ INDEXED BY \w+/, ''))).toContain('USE TEMP B-TREE FOR ORDER BY');
    expect(plan(LEASE_SQL.byToken.replace('+state', 'state'))).toEqual(['SEARCH leases USING INDEX leases_by_state (state=?)']);
    expect(plan(LEASE_SQL.prefix.replace('+state', 'state'))).toEqual(['SEARCH leases USING INDEX leases_by_state (state=?)']);
  });
});
