// The sweep reads due leases through their partial indexes: no scan of the lease table and no sort,
// so a sweep's cost grows with the leases it revokes, not with every lease ever stored.
import { SWEEP_QUERIES } from '../../src/core/expiration';
import { openDatabase } from '../../src/storage/database';

describe('sweep query plans', () => {
  const db = openDatabase(':memory:');
  afterAll(() => db.close());
  const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(Date.now(), 200) as { detail: string }[]).map((r) => r.detail);

  it('reads due active leases from leases_active_by_expiry, in index order', () => {
    expect(plan(SWEEP_QUERIES.dueActive)).toEqual(['SEARCH leases USING INDEX leases_active_by_expiry (expire_at<?)']);
  });

  it('reads pending revocations from leases_pending_by_attempt, in index order', () => {
    expect(plan(SWEEP_QUERIES.duePending)).toEqual(['SEARCH leases USING INDEX leases_pending_by_attempt (next_attempt_at<?)']);
  });

  it('without the hint the planner would sort every active lease (why the hint is there)', () => {
    const unhinted = SWEEP_QUERIES.dueActive.replace(/ INDEXED BY \w+/, '');
    expect(plan(unhinted)).toContain('USE TEMP B-TREE FOR ORDER BY');
  });
});
