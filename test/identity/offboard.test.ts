// Offboarding against a real PostgreSQL: an entity holding live database credentials loses them
// (role dropped, open session ended), its next login is refused, a dry run changes nothing, the
// selector rules answer 400, and offboarding by owner covers every entity of that owner.
import request from 'supertest';
import { connect, tryLogin } from '../pg/cluster';
import { databaseVault } from '../engines/database/setup';

type Setup = Awaited<ReturnType<typeof databaseVault>> & { approleAccessor: string };

async function setup(): Promise<Setup> {
  const s = await databaseVault();
  await s.role('app');
  await request(s.app).post('/v1/sys/auth/approle').set(s.root).send({ type: 'approle' });
  await request(s.app).put('/v1/sys/policy/db').set(s.root).send({ policy: 'path "database/creds/*" { capabilities = ["read"] }\npath "auth/token/create" { capabilities = ["update"] }' });
  const approleAccessor = (await request(s.app).get('/v1/sys/auth').set(s.root)).body.data['approle/'].accessor as string;
  return { ...s, approleAccessor };
}

/** Creates an AppRole role, logs in, mints a database credential and opens a session with it. */
async function workload(s: Setup, role: string, owner?: string) {
  await request(s.app).post(`/v1/auth/approle/role/${role}`).set(s.root).send({ token_policies: ['db'], ...(owner ? { owner } : {}) });
  const roleId = (await request(s.app).get(`/v1/auth/approle/role/${role}/role-id`).set(s.root)).body.data.role_id as string;
  const login = async () => {
    const secretId = (await request(s.app).post(`/v1/auth/approle/role/${role}/secret-id`).set(s.root)).body.data.secret_id as string;
    return request(s.app).post('/v1/auth/approle/login').send({ role_id: roleId, secret_id: secretId });
  };
  const auth = (await login()).body.auth;
  const child = await request(s.app).post('/v1/auth/token/create').set('X-Vault-Token', auth.client_token).send({ policies: ['db'] });
  expect(child.status).toBe(200);
  const cred = await request(s.app).get('/v1/database/creds/app').set('X-Vault-Token', auth.client_token);
  expect(cred.status).toBe(200);
  const username = cred.body.data.username as string;
  const session = await connect(s.scratch.login(username, cred.body.data.password));
  return { auth, child: child.body.auth, leaseId: cred.body.lease_id as string, username, password: cred.body.data.password as string, session, login };
}

const offboard = (s: Setup, body: Record<string, unknown>) => request(s.app).post('/v1/sys/governance/offboard').set(s.root).send(body);

describe('sys/governance/offboard', () => {
  let s: Setup | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('ends an entity\'s database sessions, drops its roles, refuses its next login; a dry run changes nothing', async () => {
    s = await setup();
    const w = await workload(s, 'billing');
    const bystander = await workload(s, 'search');

    const dry = await offboard(s, { entity_id: w.auth.entity_id, reason: 'left the company', dry_run: true });
    expect(dry.status).toBe(200);
    expect(dry.body.data).toMatchObject({ entities: 1, entities_disabled: 1, tokens_revoked: 2, leases_revoked: 1, dry_run: true });
    expect(dry.body.data.tokens).toEqual([w.auth.accessor, w.child.accessor].sort());
    expect(dry.body.data.leases).toEqual([w.leaseId]);
    expect(await s.scratch.roleExists(w.username)).toBe(true);
    expect((await w.session.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    expect((await request(s.app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', w.auth.client_token)).status).toBe(200);
    expect((await request(s.app).get(`/v1/identity/entity/id/${w.auth.entity_id}`).set(s.root)).body.data.disabled).toBe(false);

    const done = await offboard(s, { entity_id: w.auth.entity_id, reason: 'left the company' });
    expect(done.status).toBe(200);
    expect(done.body.data).toMatchObject({ entities: 1, entities_disabled: 1, tokens_revoked: 2, leases_revoked: 1, leases_pending: 0 });
    expect(await s.scratch.roleExists(w.username)).toBe(false);
    expect((await tryLogin(s.scratch.login(w.username, w.password))).ok).toBe(false);
    await expect(w.session.query('SELECT 1')).rejects.toThrow();
    await w.session.end().catch(() => undefined);
    expect(s.vault.expiration.state(w.leaseId)?.state).toBe('revoked');
    for (const token of [w.auth.client_token, w.child.client_token]) expect((await request(s.app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', token)).status).toBe(403);
    expect((await w.login()).status).toBe(403);

    // The other workload is untouched.
    expect(await s.scratch.roleExists(bystander.username)).toBe(true);
    expect((await bystander.session.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    await bystander.session.end();
    await s.vault.expiration.revoke(bystander.leaseId, { sync: true });
  });

  it('by owner covers every entity of that owner and every token and lease recorded with it', async () => {
    s = await setup();
    const a = await workload(s, 'a', 'team-x');
    const b = await workload(s, 'b');
    await request(s.app).post(`/v1/identity/entity/id/${b.auth.entity_id}`).set(s.root).send({ metadata: { owner: 'team-x' } });
    const other = await workload(s, 'c', 'team-y');
    const res = await offboard(s, { owner: 'team-x', reason: 'team dissolved' });
    expect(res.body.data).toMatchObject({ entities: 1, entities_disabled: 1, tokens_revoked: 4, leases_revoked: 2, leases_pending: 0 });
    for (const w of [a, b]) {
      expect(await s.scratch.roleExists(w.username)).toBe(false);
      await w.session.end().catch(() => undefined);
    }
    expect((await request(s.app).get(`/v1/identity/entity/id/${b.auth.entity_id}`).set(s.root)).body.data.disabled).toBe(true);
    expect(await s.scratch.roleExists(other.username)).toBe(true);
    await other.session.end();
    await s.vault.expiration.revoke(other.leaseId, { sync: true });
  });

  it('by mount accessor and role name, and refuses bad selectors and a missing reason with nothing changed', async () => {
    s = await setup();
    const w = await workload(s, 'batch');
    for (const body of [{ reason: 'r' }, { entity_id: w.auth.entity_id, owner: 'x', reason: 'r' }, { entity_id: w.auth.entity_id }, { mount_accessor: s.approleAccessor, reason: 'r' }]) {
      expect((await offboard(s, body)).status).toBe(400);
    }
    expect(await s.scratch.roleExists(w.username)).toBe(true);
    const res = await offboard(s, { mount_accessor: s.approleAccessor, role_name: 'batch', reason: 'role retired' });
    expect(res.body.data).toMatchObject({ entities: 1, tokens_revoked: 2, leases_revoked: 1 });
    expect(await s.scratch.roleExists(w.username)).toBe(false);
    await w.session.end().catch(() => undefined);
  });

  it('needs sudo on the path', async () => {
    s = await setup();
    await request(s.app).put('/v1/sys/policy/gov').set(s.root).send({ policy: 'path "sys/governance/*" { capabilities = ["update"] }' });
    const token = (await request(s.app).post('/v1/auth/token/create').set(s.root).send({ policies: ['gov'] })).body.auth.client_token;
    expect((await request(s.app).post('/v1/sys/governance/offboard').set('X-Vault-Token', token).send({ owner: 'x', reason: 'r', dry_run: true })).status).toBe(403);
  });

  it('revokes a disabled entity\'s leases when disabled through identity/, with a warning', async () => {
    s = await setup();
    const w = await workload(s, 'web');
    const res = await request(s.app).post(`/v1/identity/entity/id/${w.auth.entity_id}`).set(s.root).send({ disabled: true });
    expect(res.status).toBe(200);
    expect(res.body.warnings.join(' ')).toContain('revoked the leases');
    expect(await s.scratch.roleExists(w.username)).toBe(false);
    await w.session.end().catch(() => undefined);
  });
});
