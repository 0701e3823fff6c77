// Issue 15 item 14, in process: a credential's lease is reserved (pending) before its PostgreSQL role is
// created. While pending it is no lease: lookup, list, renew and count do not see it. An issuance that
// outlives the grace is taken for interrupted: the sweep revokes its role and the late answer is refused.
// The SIGKILL side is test/crash/pending-issuance.test.ts.
import request from 'supertest';
import { CREATE_ROLE_SQL, databaseVault } from './setup';

type Setup = Awaited<ReturnType<typeof databaseVault>>;

const pendingIds = (s: Setup) => (s.db.prepare('SELECT lease_id FROM pending_leases').all() as { lease_id: string }[]).map((r) => r.lease_id);

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('database engine: pending leases', () => {
  let s: Setup;
  afterEach(async () => {
    await s?.close();
  });

  it('a lease is pending while its role is created: invisible to lookup, list, renew and count, then active', async () => {
    s = await databaseVault();
    await s.role('slow', { creation_statements: [CREATE_ROLE_SQL, 'SELECT pg_sleep(1)'] });
    const issuing = request(s.app).get('/v1/database/creds/slow').set(s.root).then((r) => r);
    const [pendingId] = await until('the pending lease', () => (pendingIds(s).length > 0 ? pendingIds(s) : undefined));
    const id = pendingId as string;
    expect(id).toMatch(/^database\/creds\/slow\/[A-Za-z0-9]{24}$/);

    expect((await request(s.app).put('/v1/sys/leases/lookup').set(s.root).send({ lease_id: id })).status).toBe(400);
    expect((await request(s.app).put('/v1/sys/leases/renew').set(s.root).send({ lease_id: id })).status).toBe(400);
    const listed = await request(s.app).get('/v1/sys/leases/lookup/database/creds/slow/?list=true').set(s.root);
    expect(listed.status).toBe(404);
    expect((await request(s.app).get('/v1/sys/leases/count?type=all').set(s.root)).body.data.lease_count).toBe(0);
    // A sweep meanwhile (within the grace) leaves it alone.
    await s.vault.expiration.sweep();
    expect(pendingIds(s)).toEqual([id]);

    const issued = await issuing;
    expect(issued.status).toBe(200);
    // The reserved id is the lease the client gets.
    expect(issued.body.lease_id).toBe(id);
    expect(pendingIds(s)).toEqual([]);
    expect((await request(s.app).put('/v1/sys/leases/lookup').set(s.root).send({ lease_id: id })).body.data.state).toBe('active');
    expect((await request(s.app).get('/v1/sys/leases/count?type=all').set(s.root)).body.data.lease_count).toBe(1);
    expect(await s.scratch.roleExists(issued.body.data.username as string)).toBe(true);
  });

  it('an issuance that outlives the grace is revoked by the sweep, and its late answer is refused', async () => {
    s = await databaseVault({ expiration: { pendingLeaseGraceMs: 300 } });
    // Committed at once, then slow: the role exists while the lease is still pending.
    await s.role('stuck', { creation_statements: ['BEGIN', CREATE_ROLE_SQL, 'COMMIT', 'SELECT pg_sleep(1.5)'] });
    const issuing = request(s.app).get('/v1/database/creds/stuck').set(s.root).then((r) => r);
    const id = (await until('the pending lease', () => pendingIds(s)[0])) as string;
    const username = await until('the committed role', async () => {
      const rows = await s.scratch.sql(async (c) => (await c.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname LIKE 'v-root-stuck-%'")).rows);
      return rows[0]?.rolname;
    });
    await new Promise((r) => setTimeout(r, 400));
    await s.vault.expiration.sweep();
    expect(await s.scratch.roleExists(username)).toBe(false);
    expect(s.vault.expiration.state(id)).toMatchObject({ state: 'revoked' });
    const events = (await request(s.app).put('/v1/sys/leases/events').set(s.root).send({ lease_id: id })).body.data.events.map((e: { event: string; detail: string | null }) => [e.event, e.detail]);
    expect(events).toEqual([
      ['issuance-started', null],
      ['revoke-requested', 'issuance-interrupted'],
      ['revoked', 'issuance-interrupted'],
    ]);

    const late = await issuing;
    expect(late.status).toBe(500);
    // Refused either way: the plugin's closing VALID UNTIL finds the role dropped, or the lease is gone.
    expect(late.body.errors[0]).toMatch(/does not exist|credential was revoked/);
    expect(late.body).not.toHaveProperty('lease_id');
    expect(late.body).not.toHaveProperty('data');
    expect(await s.scratch.roleExists(username)).toBe(false);
    expect((await request(s.app).get('/v1/sys/leases/count?type=all').set(s.root)).body.data.lease_count).toBe(0);
  });

  it('a creation that commits after its pending lease was revoked is not leased, and its revocation is queued again', async () => {
    s = await databaseVault({ expiration: { pendingLeaseGraceMs: 300 } });
    // The role commits only after the sleep: the sweep's revocation finds no role and succeeds; the
    // creation then completes, and its failing revocation statements keep the role alive for the check.
    await s.role('late', { creation_statements: [CREATE_ROLE_SQL, 'SELECT pg_sleep(1.2)'], revocation_statements: ['SELECT 1/0'] });
    const issuing = request(s.app).get('/v1/database/creds/late').set(s.root).then((r) => r);
    const id = (await until('the pending lease', () => pendingIds(s)[0])) as string;
    await new Promise((r) => setTimeout(r, 400));
    await s.vault.expiration.sweep();
    expect(s.vault.expiration.state(id)).toMatchObject({ state: 'revoked' });

    const late = await issuing;
    expect(late.status).toBe(500);
    expect(late.body.errors[0]).toMatch(/failed to store the lease; the credential is being revoked/);
    expect(late.body).not.toHaveProperty('lease_id');
    // The role exists now, and a revocation accounts for it again, with the ordinary retries.
    const username = (await s.scratch.sql(async (c) => (await c.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname LIKE 'v-root-late-%'")).rows))[0]?.rolname;
    expect(username).toBeDefined();
    expect(s.vault.expiration.state(id)).toMatchObject({ state: 'revoking' });
    await s.vault.expiration.sweep();
    expect(s.vault.expiration.state(id)).toMatchObject({ state: 'revoking', attempts: 1, lastError: expect.stringMatching(/division by zero/) });
    const drift = await request(s.app).post('/v1/database/drift/pg').set(s.root);
    // Roles are cluster-wide (other tests' roles show up too): this one is accounted for.
    expect(drift.body.data.unleased.map((u: { username: string }) => u.username)).not.toContain(username);
  });

  it("the plugin's sessions carry a server-side statement timeout well inside the grace", async () => {
    s = await databaseVault();
    // Division by zero unless the creation's session has statement_timeout = 30s.
    await s.role('timed', { creation_statements: [CREATE_ROLE_SQL, "SELECT 1 / (current_setting('statement_timeout') = '30s')::int"] });
    const res = await request(s.app).get('/v1/database/creds/timed').set(s.root);
    expect({ status: res.status, errors: res.body.errors }).toEqual({ status: 200, errors: undefined });
  });

  it('no role is created when the pending lease cannot be recorded', async () => {
    s = await databaseVault();
    await s.role('unrecorded');
    s.db.exec("CREATE TRIGGER refuse_pending BEFORE INSERT ON pending_leases BEGIN SELECT RAISE(ABORT, 'refused'); END");
    const res = await request(s.app).get('/v1/database/creds/unrecorded').set(s.root);
    expect(res.status).toBe(500);
    expect(res.body).not.toHaveProperty('lease_id');
    const roles = await s.scratch.sql(async (c) => (await c.query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'v-root-unrecord-%'")).rows);
    expect(roles).toEqual([]);
    s.db.exec('DROP TRIGGER refuse_pending');
    expect((await request(s.app).get('/v1/database/creds/unrecorded').set(s.root)).status).toBe(200);
  });

  it('a failed creation abandons its pending lease: the next sweep revokes it at once, without waiting for the grace', async () => {
    s = await databaseVault();
    await s.role('broken', { creation_statements: [CREATE_ROLE_SQL, 'SELECT 1/0'] });
    expect((await request(s.app).get('/v1/database/creds/broken').set(s.root)).status).toBe(500);
    const [id] = pendingIds(s);
    expect(id).toBeDefined();
    await s.vault.expiration.sweep();
    expect(pendingIds(s)).toEqual([]);
    expect(s.vault.expiration.state(id as string)).toMatchObject({ state: 'revoked', attempts: 0 });
  });
});
