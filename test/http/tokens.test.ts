// Tokens and ACL policies through HTTP: creation rules, expiry at use time, num_uses, renewal caps,
// revocation trees, accessors, capabilities, and the policy endpoints.
import request from 'supertest';
import { ManualClock } from '../../src/util/clock';
import { unsealedVault } from '../helpers/vault';

async function setup() {
  const clock = new ManualClock();
  const v = await unsealedVault({ clock });
  const root = { 'X-Vault-Token': v.rootToken };
  await request(v.app).post('/v1/sys/mounts/secret').set(root).send({ type: 'kv-v2' });
  const create = async (body: Record<string, unknown>, as = root) => {
    const res = await request(v.app).post('/v1/auth/token/create').set(as).send(body);
    expect(res.status).toBe(200);
    return res.body.auth as { client_token: string; accessor: string; policies: string[]; lease_duration: number; renewable: boolean };
  };
  const writePolicy = async (name: string, policy: string) => {
    const res = await request(v.app).put(`/v1/sys/policies/acl/${name}`).set(root).send({ policy });
    expect(res.status).toBe(204);
  };
  return { ...v, clock, root, create, writePolicy };
}

describe('token creation', () => {
  it('creates a child token with the default policy added and the expected lookup-self fields', async () => {
    const { app, create, writePolicy } = await setup();
    await writePolicy('reader', 'path "secret/data/*" { capabilities = ["read"] }');
    const auth = await create({ policies: ['reader'], ttl: '1h', display_name: 'ci job', meta: { team: 'payments' } });
    expect(auth.policies).toEqual(['reader', 'default']);
    expect(auth.lease_duration).toBe(3600);
    expect(auth.client_token).toMatch(/^hvs\./);
    const self = await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', auth.client_token);
    expect(self.status).toBe(200);
    expect(self.body.data).toMatchObject({
      type: 'service',
      ttl: 3600,
      policies: ['reader', 'default'],
      accessor: auth.accessor,
      orphan: false,
      renewable: true,
      num_uses: 0,
      display_name: 'token-ci-job',
      meta: { team: 'payments' },
      id: auth.client_token,
    });
    expect(self.body.data.expire_time).toBe(new Date(Date.UTC(2026, 0, 1) + 3600_000).toISOString().replace('.000Z', 'Z'));
  });

  it('refuses policies outside the parent, batch tokens, and custom ids from non-root', async () => {
    const { app, create, writePolicy } = await setup();
    await writePolicy('creator', 'path "auth/token/create" { capabilities = ["update"] }');
    const parent = await create({ policies: ['creator'] });
    const as = { 'X-Vault-Token': parent.client_token };
    for (const body of [{ policies: ['admin'] }, { policies: ['root'] }, { policies: [' ROOT '] }, { type: 'batch' }, { id: 'hvs.custom' }, { no_parent: true }]) {
      const res = await request(app).post('/v1/auth/token/create').set(as).send(body);
      expect(res.status).toBe(400);
    }
    const ok = await request(app).post('/v1/auth/token/create').set(as).send({ policies: ['creator'] });
    expect(ok.status).toBe(200);
  });

  it('a TTL of 0 is never forever except for root', async () => {
    const { app, create, writePolicy } = await setup();
    await writePolicy('creator', 'path "auth/token/create" { capabilities = ["update"] }');
    const child = await create({ policies: ['creator'], ttl: 0 });
    expect(child.lease_duration).toBe(768 * 3600);
    const rootChild = await create({});
    expect(rootChild.lease_duration).toBe(0);
    expect(rootChild.policies).toEqual(['root']);
    const grandchild = await request(app).post('/v1/auth/token/create').set('X-Vault-Token', child.client_token).send({ ttl: 0 });
    expect(grandchild.body.auth.lease_duration).toBeGreaterThan(0);
  });
});

describe('enforcement at use time', () => {
  it('an expired token is refused even though no background job has run', async () => {
    const { app, clock, create } = await setup();
    const auth = await create({ policies: ['default'], ttl: '10s' });
    const as = { 'X-Vault-Token': auth.client_token };
    expect((await request(app).get('/v1/auth/token/lookup-self').set(as)).status).toBe(200);
    clock.advanceSeconds(10);
    expect((await request(app).get('/v1/auth/token/lookup-self').set(as)).status).toBe(403);
  });

  it('num_uses allows exactly that many requests', async () => {
    const { app, create } = await setup();
    const auth = await create({ policies: ['default'], num_uses: 2 });
    const as = { 'X-Vault-Token': auth.client_token };
    const first = await request(app).get('/v1/auth/token/lookup-self').set(as);
    expect(first.body.data.num_uses).toBe(1);
    expect((await request(app).get('/v1/auth/token/lookup-self').set(as)).status).toBe(200);
    expect((await request(app).get('/v1/auth/token/lookup-self').set(as)).status).toBe(403);
  });

  it('denied and missing paths answer the same way', async () => {
    const { app, create } = await setup();
    const auth = await create({ policies: ['default'] });
    const as = { 'X-Vault-Token': auth.client_token };
    const denied = await request(app).get('/v1/secret/data/exists').set(as);
    const missing = await request(app).get('/v1/nomount/anything').set(as);
    expect(denied.status).toBe(403);
    expect(missing.status).toBe(403);
    expect(denied.body).toEqual(missing.body);
  });
});

describe('renewal', () => {
  it('renews up to explicit_max_ttl and no further', async () => {
    const { app, clock, create } = await setup();
    const auth = await create({ policies: ['default'], ttl: '1h', explicit_max_ttl: '90m' });
    const as = { 'X-Vault-Token': auth.client_token };
    clock.advanceSeconds(1800);
    const renewed = await request(app).post('/v1/auth/token/renew-self').set(as).send({ increment: '1h' });
    expect(renewed.status).toBe(200);
    expect(renewed.body.auth.lease_duration).toBe(3600);
    clock.advanceSeconds(1800);
    const capped = await request(app).post('/v1/auth/token/renew-self').set(as).send({ increment: '1h' });
    expect(capped.body.auth.lease_duration).toBe(1800);
    clock.advanceSeconds(1800);
    expect((await request(app).post('/v1/auth/token/renew-self').set(as)).status).toBe(403);
  });

  it('never renews past the system maximum and refuses non-renewable tokens', async () => {
    const { app, clock, root, create } = await setup();
    const auth = await create({ policies: ['default'], ttl: '700h' });
    clock.advanceSeconds(600 * 3600);
    const renewed = await request(app).post('/v1/auth/token/renew').set(root).send({ token: auth.client_token, increment: '700h' });
    expect(renewed.body.auth.lease_duration).toBe(168 * 3600);
    const fixed = await create({ policies: ['default'], renewable: false });
    const res = await request(app).post('/v1/auth/token/renew-self').set('X-Vault-Token', fixed.client_token);
    expect(res.status).toBe(400);
  });

  it('periodic tokens renew to their period', async () => {
    const { app, clock, create } = await setup();
    const auth = await create({ policies: ['default'], period: '1h' });
    clock.advanceSeconds(3000);
    const renewed = await request(app).post('/v1/auth/token/renew-self').set('X-Vault-Token', auth.client_token);
    expect(renewed.body.auth.lease_duration).toBe(3600);
  });
});

describe('revocation', () => {
  it('revokes children with the parent, but not orphans', async () => {
    const { app, root, create, writePolicy } = await setup();
    await writePolicy('creator', 'path "auth/token/create" { capabilities = ["update"] }');
    const parent = await create({ policies: ['creator'] });
    const child = (await request(app).post('/v1/auth/token/create').set('X-Vault-Token', parent.client_token).send({})).body.auth;
    const grandchild = (await request(app).post('/v1/auth/token/create').set('X-Vault-Token', child.client_token).send({})).body.auth;
    const orphan = await create({ policies: ['default'], no_parent: true });
    expect((await request(app).post('/v1/auth/token/revoke').set(root).send({ token: parent.client_token })).status).toBe(204);
    for (const t of [parent, child, grandchild]) expect((await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', t.client_token)).status).toBe(403);
    expect((await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', orphan.client_token)).status).toBe(200);
  });

  it('revoke-orphan keeps children alive; revoke-accessor and revoke-self revoke', async () => {
    const { app, root, create, writePolicy } = await setup();
    await writePolicy('creator', 'path "auth/token/create" { capabilities = ["update"] }');
    const parent = await create({ policies: ['creator'] });
    const child = (await request(app).post('/v1/auth/token/create').set('X-Vault-Token', parent.client_token).send({})).body.auth;
    expect((await request(app).post('/v1/auth/token/revoke-orphan').set(root).send({ token: parent.client_token })).status).toBe(204);
    const childLookup = await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', child.client_token);
    expect(childLookup.status).toBe(200);
    expect(childLookup.body.data.orphan).toBe(false);

    const byAccessor = await create({ policies: ['default'] });
    const lookup = await request(app).post('/v1/auth/token/lookup-accessor').set(root).send({ accessor: byAccessor.accessor });
    expect(lookup.body.data.id).toBe('');
    expect(JSON.stringify(lookup.body)).not.toContain(byAccessor.client_token);
    expect((await request(app).post('/v1/auth/token/revoke-accessor').set(root).send({ accessor: byAccessor.accessor })).status).toBe(204);
    expect((await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', byAccessor.client_token)).status).toBe(403);

    const self = await create({ policies: ['default'] });
    expect((await request(app).post('/v1/auth/token/revoke-self').set('X-Vault-Token', self.client_token)).status).toBe(204);
    expect((await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', self.client_token)).status).toBe(403);
  });

  it('lists accessors (sudo) and never stores tokens in plaintext', async () => {
    const { app, root, db, create } = await setup();
    const auth = await create({ policies: ['default'] });
    const list = await request(app).get('/v1/auth/token/accessors?list=true').set(root);
    expect(list.body.data.keys).toContain(auth.accessor);
    const denied = await request(app).get('/v1/auth/token/accessors?list=true').set('X-Vault-Token', auth.client_token);
    expect(denied.status).toBe(403);
    const dump = JSON.stringify(db.prepare('SELECT * FROM tokens').all().map((r) => Object.values(r as object).map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : v))));
    expect(dump).not.toContain(auth.client_token);
    expect(dump).not.toContain(auth.client_token.slice(4));
  });
});

describe('token roles', () => {
  it('create/:role applies the role, allowing policies beyond the parent', async () => {
    const { app, root, create, writePolicy } = await setup();
    await writePolicy('deployer', 'path "secret/data/deploy/*" { capabilities = ["read"] }');
    await writePolicy('role-user', 'path "auth/token/create/ci" { capabilities = ["update"] }');
    expect((await request(app).post('/v1/auth/token/roles/ci').set(root).send({ allowed_policies: ['deployer'], orphan: true, token_period: '2h' })).status).toBe(204);
    const role = await request(app).get('/v1/auth/token/roles/ci').set(root);
    expect(role.body.data).toMatchObject({ allowed_policies: ['deployer'], orphan: true, token_period: 7200 });
    const user = await create({ policies: ['role-user'] });
    const res = await request(app).post('/v1/auth/token/create/ci').set('X-Vault-Token', user.client_token).send({});
    expect(res.status).toBe(200);
    expect(res.body.auth).toMatchObject({ policies: ['deployer', 'default'], orphan: true, lease_duration: 7200 });
    const outside = await request(app).post('/v1/auth/token/create/ci').set('X-Vault-Token', user.client_token).send({ policies: ['role-user'] });
    expect(outside.status).toBe(400);
    expect((await request(app).post('/v1/auth/token/roles/bad').set(root).send({ allowed_policies: ['root'] })).status).toBe(400);
  });
});

describe('policies and capabilities over HTTP', () => {
  it('writes, reads, lists and deletes policies on both paths; root and default are protected', async () => {
    const { app, root } = await setup();
    expect((await request(app).put('/v1/sys/policy/legacy').set(root).send({ rules: 'path "a/*" { capabilities = ["read"] }' })).status).toBe(204);
    const legacy = await request(app).get('/v1/sys/policy/legacy').set(root);
    expect(legacy.body).toMatchObject({ name: 'legacy', rules: 'path "a/*" { capabilities = ["read"] }' });
    const modern = await request(app).get('/v1/sys/policies/acl/legacy').set(root);
    expect(modern.body.data).toEqual({ name: 'legacy', policy: 'path "a/*" { capabilities = ["read"] }' });
    const list = await request(app).get('/v1/sys/policies/acl?list=true').set(root);
    expect(list.body.data.keys).toEqual(['default', 'legacy', 'root']);
    expect((await request(app).get('/v1/sys/policy').set(root)).body.policies).toEqual(['default', 'legacy', 'root']);
    for (const name of ['root', ' root', 'ROOT']) {
      expect((await request(app).put(`/v1/sys/policies/acl/${encodeURIComponent(name)}`).set(root).send({ policy: 'path "*" { capabilities = ["sudo"] }' })).status).toBe(400);
    }
    expect((await request(app).delete('/v1/sys/policies/acl/default').set(root)).status).toBe(400);
    expect((await request(app).put('/v1/sys/policies/acl/bad').set(root).send({ policy: 'path "a" { capabilities = ["fly"] }' })).status).toBe(400);
    expect((await request(app).get('/v1/sys/policies/acl/bad').set(root)).status).toBe(404);
    expect((await request(app).delete('/v1/sys/policies/acl/legacy').set(root)).status).toBe(204);
    expect((await request(app).get('/v1/sys/policies/acl/legacy').set(root)).status).toBe(404);
  });

  it('reports capabilities for self, for a token and for an accessor', async () => {
    const { app, root, create, writePolicy } = await setup();
    await writePolicy('reader', 'path "secret/data/*" { capabilities = ["read", "list"] }\npath "secret/data/admin" { capabilities = ["deny"] }');
    const auth = await create({ policies: ['reader'] });
    const self = await request(app).post('/v1/sys/capabilities-self').set('X-Vault-Token', auth.client_token).send({ paths: ['secret/data/app', 'secret/data/admin'] });
    expect(self.body.data).toEqual({ 'secret/data/app': ['list', 'read'], 'secret/data/admin': ['deny'] });
    const byToken = await request(app).post('/v1/sys/capabilities').set(root).send({ token: auth.client_token, path: 'secret/data/app' });
    expect(byToken.body.capabilities).toEqual(['list', 'read']);
    const byAccessor = await request(app).post('/v1/sys/capabilities-accessor').set(root).send({ accessor: auth.accessor, path: 'sys/mounts' });
    expect(byAccessor.body.capabilities).toEqual(['deny']);
    const rootCaps = await request(app).post('/v1/sys/capabilities-self').set(root).send({ path: 'anything' });
    expect(rootCaps.body.capabilities).toEqual(['root']);
  });

  it('the ACL gates KV access centrally; create vs update follows existence', async () => {
    const { app, root, create, writePolicy } = await setup();
    await writePolicy('creator-only', 'path "secret/data/*" { capabilities = ["create", "read"] }');
    const auth = await create({ policies: ['creator-only'] });
    const as = { 'X-Vault-Token': auth.client_token };
    expect((await request(app).post('/v1/secret/data/new').set(as).send({ data: { a: 1 } })).status).toBe(200);
    // The secret now exists, so a second write is an update, which the policy does not grant.
    expect((await request(app).post('/v1/secret/data/new').set(as).send({ data: { a: 2 } })).status).toBe(403);
    expect((await request(app).get('/v1/secret/data/new').set(as)).body.data.data).toEqual({ a: 1 });
    expect((await request(app).delete('/v1/secret/data/new').set(as)).status).toBe(403);
    expect((await request(app).get('/v1/secret/data/new').set(root)).body.data.metadata.version).toBe(1);
  });

  it('sys paths that need sudo refuse tokens without it', async () => {
    const { app, create, writePolicy } = await setup();
    await writePolicy('ops', 'path "sys/*" { capabilities = ["create", "read", "update", "delete", "list"] }');
    const auth = await create({ policies: ['ops'] });
    const as = { 'X-Vault-Token': auth.client_token };
    expect((await request(app).post('/v1/sys/rotate').set(as)).status).toBe(403);
    expect((await request(app).get('/v1/sys/mounts').set(as)).status).toBe(200);
  });
});
