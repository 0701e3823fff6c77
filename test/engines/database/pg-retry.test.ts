// Issue 15 item 11, the unit side: which PostgreSQL errors are retried, and that the plugin's revocation
// gets past a statement that lost a catalog race once ("tuple concurrently updated", SQLSTATE XX000).
// The real-PostgreSQL side is concurrent-revoke.test.ts.
import { PostgresPlugin } from '../../../src/engines/database/plugins/postgres';
import { isTransientPgError, retryTransient } from '../../../src/engines/database/plugins/postgres/retry';

/** An error shaped as `pg` reports a server error. */
function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, severity: 'ERROR' });
}

const CONCURRENT = () => pgError('XX000', 'tuple concurrently updated');

describe('transient PostgreSQL errors', () => {
  it.each([
    ['XX000', 'tuple concurrently updated', true],
    ['XX000', 'tuple concurrently deleted', true],
    ['40001', 'could not serialize access due to concurrent update', true],
    ['40P01', 'deadlock detected', true],
    ['XX000', 'cache lookup failed for relation 1234', false],
    ['42P01', 'relation "nope" does not exist', false],
    ['2BP01', 'role "x" cannot be dropped because some objects depend on it', false],
  ])('SQLSTATE %s "%s" is transient: %p', (code, message, expected) => {
    expect(isTransientPgError(pgError(code, message))).toBe(expected);
  });

  it('an error without a SQLSTATE is never transient, whatever it says', () => {
    for (const error of [new Error('tuple concurrently updated'), 'tuple concurrently updated', null, undefined, { code: 40001 }]) expect(isTransientPgError(error)).toBe(false);
  });

  it('retries a transient failure after a short jittered wait, and stops at once on any other', async () => {
    const waits: number[] = [];
    const sleep = async (ms: number) => void waits.push(ms);
    let calls = 0;
    const flaky = async () => {
      if (++calls === 1) throw CONCURRENT();
      return 'ok';
    };
    await expect(retryTransient(flaky, { attempts: 5, baseDelayMs: 10, maxDelayMs: 100, sleep, random: () => 0.5 })).resolves.toBe('ok');
    expect(calls).toBe(2);
    expect(waits).toEqual([8]);

    calls = 0;
    const broken = async () => {
      calls++;
      throw pgError('42601', 'syntax error');
    };
    await expect(retryTransient(broken, { attempts: 5, baseDelayMs: 10, maxDelayMs: 100, sleep })).rejects.toThrow('syntax error');
    expect(calls).toBe(1);
  });

  it('gives up after the configured attempts with the last error, waits capped', async () => {
    const waits: number[] = [];
    let calls = 0;
    const always = async () => {
      calls++;
      throw CONCURRENT();
    };
    await expect(retryTransient(always, { attempts: 4, baseDelayMs: 50, maxDelayMs: 120, sleep: async (ms) => void waits.push(ms), random: () => 1 })).rejects.toThrow('tuple concurrently updated');
    expect(calls).toBe(4);
    expect(waits).toEqual([50, 100, 120]);
  });
});

/** A pooled client that answers the plugin's revocation queries and fails `failOnce` statements once each. */
function fakePool(failOnce: RegExp) {
  const executed: string[] = [];
  const failed = new Set<string>();
  const client = {
    on: () => client,
    removeListener: () => client,
    release: jest.fn(),
    query: async (sql: string) => {
      executed.push(sql);
      if (failOnce.test(sql) && !failed.has(sql)) {
        failed.add(sql);
        throw CONCURRENT();
      }
      if (sql.startsWith('SELECT oid FROM pg_roles')) return { rows: [{ oid: 4242 }], rowCount: 1 };
      if (sql.startsWith('SELECT nspname')) return { rows: [{ nspname: 'public' }], rowCount: 1 };
      if (sql.startsWith('SELECT current_database()')) return { rows: [{ db: 'app' }], rowCount: 1 };
      return { rows: [], rowCount: 0 };
    },
  };
  return { pool: { connect: async () => client, end: async () => undefined }, executed, client };
}

/** A PostgreSQL plugin wired to a fake pool (initialize would open a real one). */
function pluginWith(pool: unknown): PostgresPlugin {
  const plugin = new PostgresPlugin();
  Object.assign(plugin as unknown as Record<string, unknown>, { pool, config: { password_authentication: 'password' } });
  return plugin;
}

describe('the PostgreSQL plugin retries statements that lost a catalog race', () => {
  it('the default revocation: a DROP ROLE failing once with XX000 is run again and the revocation succeeds', async () => {
    const fake = fakePool(/^DROP ROLE/);
    await expect(pluginWith(fake.pool).deleteUser({ username: 'v-app-1', statements: { commands: [] } })).resolves.toEqual({});
    expect(fake.executed.filter((s) => s.startsWith('DROP ROLE'))).toEqual(['DROP ROLE IF EXISTS "v-app-1"', 'DROP ROLE IF EXISTS "v-app-1"']);
  });

  it('the default revocation: a REVOKE failing once is retried, not skipped', async () => {
    const fake = fakePool(/^REVOKE ALL PRIVILEGES ON ALL TABLES/);
    await pluginWith(fake.pool).deleteUser({ username: 'v-app-1', statements: { commands: [] } });
    expect(fake.executed.filter((s) => s.startsWith('REVOKE ALL PRIVILEGES ON ALL TABLES'))).toHaveLength(2);
  });

  it('custom revocation statements: the transaction failing once with XX000 is rolled back and run again', async () => {
    const fake = fakePool(/^REVOKE SELECT ON shared FROM/);
    await expect(
      pluginWith(fake.pool).deleteUser({ username: 'v-app-1', statements: { commands: ['REVOKE SELECT ON shared FROM "{{name}}"; DROP ROLE "{{name}}"'] } }),
    ).resolves.toEqual({});
    const tries = fake.executed.filter((s) => s.startsWith('REVOKE SELECT ON shared'));
    expect(tries).toHaveLength(2);
    expect(fake.executed[fake.executed.indexOf(tries[0] as string) + 1]).toBe('ROLLBACK');
  });

  it('a non-transient failure is not retried', async () => {
    const fake = fakePool(/^$/);
    fake.client.query = async (sql: string) => {
      fake.executed.push(sql);
      if (sql.startsWith('SELECT oid FROM pg_roles')) return { rows: [{ oid: 1 }], rowCount: 1 };
      if (sql.startsWith('DROP ROLE')) throw pgError('2BP01', 'role "v-app-1" cannot be dropped because some objects depend on it');
      return { rows: [], rowCount: 0 };
    };
    await expect(pluginWith(fake.pool).deleteUser({ username: 'v-app-1', statements: { commands: [] } })).rejects.toThrow(/could not drop the role/);
    expect(fake.executed.filter((s) => s.startsWith('DROP ROLE'))).toHaveLength(1);
  });
});
