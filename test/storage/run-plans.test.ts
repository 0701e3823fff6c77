// The CI run registry finds a run's tokens and leases by the run_key indexes, never by walking the
// token or lease table: revoking one run costs what that run holds.
import { RUN_SQL } from '../../src/core/governance/runs';
import { openDatabase } from '../../src/storage/database';

const db = openDatabase(':memory:');
afterAll(() => db.close());

/** EXPLAIN QUERY PLAN's lines for `sql` (placeholders bound to dummies; they do not change the plan). */
function plan(sql: string): string[] {
  const args = Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 1);
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail);
}

describe('CI run statement plans', () => {
  it.each(Object.entries(RUN_SQL))('%s never scans the token or lease table', (_name, sql) => {
    for (const line of plan(sql)) expect(line).not.toMatch(/^SCAN (tokens|leases)\b/);
  });

  it("a run's tokens and live leases are found by the run_key indexes", () => {
    expect(plan(RUN_SQL.tokens)).toEqual(['SEARCH tokens USING INDEX tokens_by_run (run_key=?)']);
    expect(plan(RUN_SQL.liveLeases)).toEqual(['SEARCH leases USING INDEX leases_by_run (run_key=?)']);
    expect(plan(RUN_SQL.liveLeasesOfToken)).toEqual(['SEARCH leases USING INDEX leases_by_token (token_accessor=?)']);
  });

  it('tidy runs (it is a statement like the others, not only planned: a syntax error would stop the hourly job)', () => {
    expect(db.prepare(RUN_SQL.tidy).run(Date.now()).changes).toBe(0);
  });
});
