// Issue 15 item 14: a SIGKILL during dynamic-credential issuance left a PostgreSQL role that no lease
// accounted for (the role was created before anything was recorded). The real server runs against a
// real PostgreSQL; the creation statements commit the role and then sleep, so each kill lands
// deterministically between "the role exists" and "its lease is stored". After the restarts, every
// role the connection generated must be one that an active lease accounts for.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createScratch, type Scratch, uniqueSuffix } from '../pg/cluster';
import { call, freePort, startServerProcess, type ServerProcess } from '../helpers/process';
import { CREATE_ROLE_SQL } from '../engines/database/setup';

jest.setTimeout(180_000);

const GRACE_MS = 4000;
const KILLS = 3;

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('SIGKILL during database credential issuance', () => {
  let dir: string;
  let scratch: Scratch;
  let server: ServerProcess | undefined;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-pending-'));
    scratch = await createScratch();
  });
  afterEach(async () => {
    await server?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('leaves no role that no active lease accounts for, once the pending leases are revoked', async () => {
    const port = await freePort();
    const configFile = path.join(dir, 'server.json');
    fs.writeFileSync(configFile, JSON.stringify({ data_dir: path.join(dir, 'data'), pending_lease_grace_ms: GRACE_MS }));
    const start = () => startServerProcess(['--config', configFile], port);
    // Roles are cluster-wide: a prefix of this test's own keeps other tests' roles out of the count.
    const prefix = `pend-${uniqueSuffix()}-`;
    const generatedRoles = () =>
      scratch.sql(async (c) => (await c.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE left(rolname, $2) = $1 ORDER BY rolname', [prefix, prefix.length])).rows.map((r) => r.rolname));

    server = await start();
    const init = await call(server.url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    const key = init.body?.keys[0] as string;
    const rootToken = init.body?.root_token as string;
    await call(server.url, 'PUT', 'sys/unseal', { body: { key } });
    expect((await call(server.url, 'POST', 'sys/mounts/database', { token: rootToken, body: { type: 'database' } })).status).toBe(204);
    const configured = await call(server.url, 'POST', 'database/config/pg', {
      token: rootToken,
      body: {
        plugin_name: 'postgresql-database-plugin',
        connection_url: scratch.connectionUrl,
        username: scratch.vaultUser,
        password: scratch.vaultPassword,
        allowed_roles: '*',
        username_template: `${prefix}{{random 16}}`,
      },
    });
    expect(configured.status).toBe(204);
    // The role is committed at once; the sleep that follows keeps the issuance open for the kill.
    const role = await call(server.url, 'POST', 'database/roles/slow', {
      token: rootToken,
      body: { db_name: 'pg', creation_statements: ['BEGIN', CREATE_ROLE_SQL, 'COMMIT', 'SELECT pg_sleep(1.5)'], default_ttl: '1h', max_ttl: '24h' },
    });
    expect(role.status).toBe(204);

    const acknowledged = new Map<string, string>();
    let killedMidIssuance = 0;
    for (let cycle = 0; cycle < KILLS; cycle++) {
      if (cycle > 0) {
        server = await start();
        await call(server.url, 'PUT', 'sys/unseal', { body: { key } });
      }
      const issued = await call(server.url, 'GET', 'database/creds/slow', { token: rootToken });
      expect(issued.status).toBe(200);
      acknowledged.set(issued.body?.data.username as string, issued.body?.lease_id as string);

      // The next issuance is killed once its role exists in PostgreSQL, before the vault answers.
      let answered = false;
      const inFlight = call(server.url, 'GET', 'database/creds/slow', { token: rootToken }).then(
        () => (answered = true),
        () => undefined,
      );
      await waitFor('the role of the issuance in flight', 20_000, async () => ((await generatedRoles()).some((r) => !acknowledged.has(r)) ? true : undefined));
      await server.kill('SIGKILL');
      await inFlight;
      expect(answered).toBe(false);
      killedMidIssuance++;
    }
    expect(killedMidIssuance).toBe(KILLS);
    // Each kill left a committed role the vault never handed out (what used to stay forever).
    expect((await generatedRoles()).length).toBeGreaterThan(acknowledged.size);

    server = await start();
    await call(server.url, 'PUT', 'sys/unseal', { body: { key } });
    const expected = [...acknowledged.keys()].sort();
    // Past the grace (and a few sweeps), only the acknowledged roles remain.
    await waitFor('the unfinished issuances to be revoked', GRACE_MS + 20_000, async () => {
      const roles = await generatedRoles();
      return roles.length === expected.length && roles.every((r, i) => r === expected[i]) ? roles : undefined;
    }).catch(async (error: Error) => {
      throw new Error(`${error.message}: roles ${JSON.stringify(await generatedRoles())}, acknowledged ${JSON.stringify(expected)}`);
    });

    // Every remaining role is accounted for by an active lease, and those leases are intact.
    for (const [, leaseId] of acknowledged) {
      const lookup = await call(server.url, 'PUT', 'sys/leases/lookup', { token: rootToken, body: { lease_id: leaseId } });
      expect(lookup.status).toBe(200);
      expect(lookup.body?.data.state).toBe('active');
    }
    // The interrupted issuances were revoked, not left pending or irrevocable.
    expect((await call(server.url, 'GET', 'sys/leases/count?type=irrevocable', { token: rootToken })).body?.data.lease_count).toBe(0);
    const pending = await call(server.url, 'GET', 'sys/leases/count?type=active', { token: rootToken });
    expect(pending.body?.data.lease_count).toBe(acknowledged.size);
  });
});
