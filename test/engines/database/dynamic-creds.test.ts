// Dynamic PostgreSQL credentials through the HTTP API against a real server: login, revocation (role gone,
// open sessions ended), renewal moving VALID UNTIL, expiry by the real scheduler, and a hostile schema name.
import request from 'supertest';
import { connect, tryLogin } from '../../pg/cluster';
import { databaseVault } from './setup';

type Setup = Awaited<ReturnType<typeof databaseVault>>;

async function issue(s: Setup, role: string) {
  const res = await request(s.app).get(`/v1/database/creds/${role}`).set(s.root);
  if (res.status !== 200) throw new Error(`creds failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { leaseId: res.body.lease_id as string, username: res.body.data.username as string, password: res.body.data.password as string, body: res.body };
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('database engine: dynamic credentials on PostgreSQL', () => {
  let s: Setup;
  afterEach(async () => {
    await s?.close();
  });

  it('issues a leased credential that logs in; revoking it drops the role and ends its open sessions', async () => {
    s = await databaseVault();
    await s.role('app');
    const cred = await issue(s, 'app');
    expect(cred.body).toMatchObject({ renewable: true, lease_duration: 3600 });
    expect(cred.leaseId).toMatch(/^database\/creds\/app\/[A-Za-z0-9]{24}$/);
    expect(cred.username).toMatch(/^v-root-app-[A-Za-z0-9]{20}-\d{10}$/);
    expect(cred.username.length).toBeLessThanOrEqual(63);
    expect(cred.password).toMatch(/^[A-Za-z0-9-]{20,}$/);

    const session = await connect(s.scratch.login(cred.username, cred.password));
    expect((await session.query('SELECT current_user AS u')).rows[0].u).toBe(cred.username);

    expect((await request(s.app).put('/v1/sys/leases/revoke').set(s.root).send({ lease_id: cred.leaseId })).status).toBe(204);
    expect(await s.scratch.roleExists(cred.username)).toBe(false);
    expect((await tryLogin(s.scratch.login(cred.username, cred.password))).ok).toBe(false);
    // The session opened before the revocation no longer works (Vault would leave it running).
    await expect(session.query('SELECT 1')).rejects.toThrow();
    await session.end().catch(() => undefined);
    expect(s.vault.expiration.state(cred.leaseId)?.state).toBe('revoked');
  });

  it('renewal moves VALID UNTIL to the new lease expiry', async () => {
    s = await databaseVault();
    await s.role('renewable', { default_ttl: '60s', max_ttl: '1h' });
    const cred = await issue(s, 'renewable');
    const before = await s.scratch.validUntil(cred.username);
    expect(before).not.toBeNull();
    expect(Math.abs((before as Date).getTime() - (Date.now() + 60_000))).toBeLessThan(5_000);

    const renewed = await request(s.app).put('/v1/sys/leases/renew').set(s.root).send({ lease_id: cred.leaseId, increment: 1800 });
    expect(renewed.status).toBe(200);
    expect(renewed.body.lease_duration).toBe(1800);
    const after = await s.scratch.validUntil(cred.username);
    expect(Math.abs((after as Date).getTime() - (Date.now() + 1_800_000))).toBeLessThan(5_000);
    expect((await tryLogin(s.scratch.login(cred.username, cred.password))).ok).toBe(true);
  });

  it('sets VALID UNTIL even when the creation statements do not', async () => {
    s = await databaseVault();
    await s.role('bare', { creation_statements: `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}';`, default_ttl: '10m' });
    const cred = await issue(s, 'bare');
    const validUntil = await s.scratch.validUntil(cred.username);
    expect(Math.abs((validUntil as Date).getTime() - (Date.now() + 600_000))).toBeLessThan(5_000);
    await s.vault.expiration.revokePrefix('database/', { sync: true });
  });

  it('a 3-second credential is revoked by the real scheduler without any API call', async () => {
    s = await databaseVault({ scheduler: true });
    try {
      await s.role('short', { default_ttl: '3s', max_ttl: '3s' });
      const cred = await issue(s, 'short');
      expect(cred.body.lease_duration).toBe(3);
      expect((await tryLogin(s.scratch.login(cred.username, cred.password))).ok).toBe(true);
      await waitFor('the role to be dropped', async () => !(await s.scratch.roleExists(cred.username)), 9_000);
      expect(s.vault.expiration.state(cred.leaseId)?.state).toBe('revoked');
    } finally {
      // Sealing stops the scheduler.
      await s.vault.seal.seal();
    }
  }, 20_000);

  it('a hostile schema name created by the dynamic user neither stops revocation nor harms other roles', async () => {
    s = await databaseVault();
    await s.scratch.ensureRole('admin');
    await s.role('schemer', {
      creation_statements: [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT CREATE ON DATABASE "${s.scratch.database}" TO "{{name}}";`],
    });
    const cred = await issue(s, 'schemer');
    const session = await connect(s.scratch.login(cred.username, cred.password));
    const hostile = 'x"; DROP ROLE admin; --';
    await session.query(`CREATE SCHEMA "${hostile.replace(/"/g, '""')}"`);
    await session.query(`CREATE TABLE "${hostile.replace(/"/g, '""')}".t (id int)`);
    await session.end();

    expect((await request(s.app).put('/v1/sys/leases/revoke').set(s.root).send({ lease_id: cred.leaseId })).status).toBe(204);
    expect(await s.scratch.roleExists(cred.username)).toBe(false);
    expect(await s.scratch.roleExists('admin')).toBe(true);
    // The schema survives, now owned by the vault's login (REASSIGN OWNED), not dropped with the role.
    const owner = await s.scratch.sql((c) => c.query('SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = $1', [hostile]));
    expect(owner.rows[0]?.owner).toBe(s.scratch.vaultUser);
  });

  it('revocation is idempotent: a role already dropped by hand still revokes cleanly', async () => {
    s = await databaseVault();
    await s.role('gone');
    const cred = await issue(s, 'gone');
    await s.scratch.sql((c) => c.query(`DROP ROLE "${cred.username}"`));
    expect((await request(s.app).put('/v1/sys/leases/revoke').set(s.root).send({ lease_id: cred.leaseId })).status).toBe(204);
    expect(s.vault.expiration.state(cred.leaseId)?.state).toBe('revoked');
  });

  it('honours custom revocation statements and still ends open sessions', async () => {
    s = await databaseVault();
    await s.role('custom', { revocation_statements: ['REVOKE ALL ON SCHEMA public FROM "{{name}}"; DROP ROLE IF EXISTS "{{name}}";'] });
    const cred = await issue(s, 'custom');
    const session = await connect(s.scratch.login(cred.username, cred.password));
    expect((await request(s.app).put('/v1/sys/leases/revoke').set(s.root).send({ lease_id: cred.leaseId })).status).toBe(204);
    expect(await s.scratch.roleExists(cred.username)).toBe(false);
    await expect(session.query('SELECT 1')).rejects.toThrow();
    await session.end().catch(() => undefined);
    // A user dropped by hand: the custom statements (no IF EXISTS here) are not run, and revocation succeeds.
    await s.role('strict', { revocation_statements: ['DROP ROLE "{{name}}"'] });
    const gone = await issue(s, 'strict');
    await s.scratch.sql((c) => c.query(`DROP ROLE "${gone.username}"`));
    expect((await request(s.app).put('/v1/sys/leases/revoke').set(s.root).send({ lease_id: gone.leaseId })).status).toBe(204);
  });

  it('refuses roles the connection does not allow and unknown roles', async () => {
    s = await databaseVault({ config: { allowed_roles: ['app-*'] } });
    await s.role('app-web');
    await s.role('other');
    expect((await request(s.app).get('/v1/database/creds/app-web').set(s.root)).status).toBe(200);
    const refused = await request(s.app).get('/v1/database/creds/other').set(s.root);
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toBe('"other" is not an allowed role');
    expect((await request(s.app).get('/v1/database/creds/missing').set(s.root)).body.errors[0]).toBe('unknown role: missing');
    await s.vault.expiration.revokePrefix('database/', { sync: true });
  });
});
