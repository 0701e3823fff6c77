// More of the token backend through HTTP: create-orphan, no_default_policy, the owner field, tidy,
// and exactly what a token holding only the `default` policy can and cannot do.
import request from 'supertest';
import { ManualClock } from '../../src/util/clock';
import { leaseEngine } from '../helpers/lease-engine';
import { unsealedVault } from '../helpers/vault';

async function setup() {
  const clock = new ManualClock();
  const engine = leaseEngine();
  const v = await unsealedVault({ clock, registry: { leases: engine.factory } });
  const root = { 'X-Vault-Token': v.rootToken };
  const create = async (body: Record<string, unknown>, as: Record<string, string> = root, path = 'auth/token/create') => {
    const res = await request(v.app).post(`/v1/${path}`).set(as).send(body);
    expect(res.status).toBe(200);
    return res.body.auth as { client_token: string; accessor: string; policies: string[]; orphan: boolean; lease_duration: number };
  };
  const writePolicy = async (name: string, policy: string) => {
    expect((await request(v.app).put(`/v1/sys/policies/acl/${name}`).set(root).send({ policy })).status).toBe(204);
  };
  const lookupSelf = (token: string) => request(v.app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', token);
  const lookup = (token: string) => request(v.app).post('/v1/auth/token/lookup').set(root).send({ token });
  return { ...v, clock, root, create, writePolicy, lookupSelf, lookup, log: engine.log };
}

describe('auth/token/create-orphan', () => {
  it('creates an orphan (no sudo needed) that survives the revocation of its creator, unlike a child', async () => {
    const { app, root, create, writePolicy, lookupSelf } = await setup();
    await writePolicy('maker', 'path "auth/token/create" { capabilities = ["update"] }\npath "auth/token/create-orphan" { capabilities = ["update"] }');
    const parent = await create({ policies: ['maker'] });
    const as = { 'X-Vault-Token': parent.client_token };
    // no_parent on plain create needs sudo; create-orphan does not.
    expect((await request(app).post('/v1/auth/token/create').set(as).send({ no_parent: true })).status).toBe(400);
    const orphan = await create({ policies: ['default'] }, as, 'auth/token/create-orphan');
    expect(orphan.orphan).toBe(true);
    const child = await create({ policies: ['default'] }, as);
    expect(child.orphan).toBe(false);
    const orphanSelf = await lookupSelf(orphan.client_token);
    expect(orphanSelf.status).toBe(200);
    expect(orphanSelf.body.data.orphan).toBe(true);

    expect((await request(app).post('/v1/auth/token/revoke').set(root).send({ token: parent.client_token })).status).toBe(204);
    expect((await lookupSelf(parent.client_token)).status).toBe(403);
    expect((await lookupSelf(child.client_token)).status).toBe(403);
    expect((await lookupSelf(orphan.client_token)).status).toBe(200);
  });
});

describe('no_default_policy', () => {
  it('leaves the default policy off the token, and with it everything default grants', async () => {
    const { app, create, writePolicy, lookup } = await setup();
    await writePolicy('reader', 'path "secret/data/*" { capabilities = ["read"] }');
    const without = await create({ policies: ['reader'], no_default_policy: true });
    expect(without.policies).toEqual(['reader']);
    expect((await lookup(without.client_token)).body.data.policies).toEqual(['reader']);
    const as = { 'X-Vault-Token': without.client_token };
    // default grants lookup-self and cubbyhole; this token has neither.
    expect((await request(app).get('/v1/auth/token/lookup-self').set(as)).status).toBe(403);
    expect((await request(app).post('/v1/cubbyhole/x').set(as).send({ v: 1 })).status).toBe(403);

    const withDefault = await create({ policies: ['reader'] });
    expect(withDefault.policies).toEqual(['reader', 'default']);
    expect((await request(app).post('/v1/cubbyhole/x').set('X-Vault-Token', withDefault.client_token).send({ v: 1 })).status).toBe(204);
  });
});

describe('owner', () => {
  it('is recorded, shown by lookup-self, lookup and lookup-accessor, and inherited by children', async () => {
    const { app, root, create, writePolicy, lookupSelf, lookup } = await setup();
    await writePolicy('maker', 'path "auth/token/create" { capabilities = ["update"] }');
    const owned = await create({ policies: ['maker'], owner: 'team-payments' });
    expect((await lookupSelf(owned.client_token)).body.data.owner).toBe('team-payments');
    expect((await lookup(owned.client_token)).body.data.owner).toBe('team-payments');
    const byAccessor = await request(app).post('/v1/auth/token/lookup-accessor').set(root).send({ accessor: owned.accessor });
    expect(byAccessor.body.data.owner).toBe('team-payments');

    const child = await create({}, { 'X-Vault-Token': owned.client_token });
    expect((await lookupSelf(child.client_token)).body.data.owner).toBe('team-payments');

    const unowned = await create({ policies: ['default'] });
    expect((await lookupSelf(unowned.client_token)).body.data.owner).toBeUndefined();
  });
});

describe('auth/token/tidy', () => {
  it('removes expired tokens (and their children) from the table and keeps live ones', async () => {
    const { app, vault, clock, root, create, writePolicy, lookupSelf } = await setup();
    await writePolicy('maker', 'path "auth/token/create" { capabilities = ["update"] }');
    const before = vault.tokens.listAccessors().length;
    const short1 = await create({ policies: ['maker'], ttl: '10s' });
    const short2 = await create({ policies: ['default'], ttl: '10s' });
    const childOfShort = await create({ policies: ['default'], ttl: '5s' }, { 'X-Vault-Token': short1.client_token });
    const live = await create({ policies: ['default'], ttl: '1h' });
    expect(vault.tokens.listAccessors().length).toBe(before + 4);

    clock.advanceSeconds(11);
    // Expired tokens are refused at once, but still occupy the table until tidied.
    expect((await lookupSelf(short1.client_token)).status).toBe(403);
    expect(vault.tokens.listAccessors()).toEqual(expect.arrayContaining([short1.accessor, short2.accessor, childOfShort.accessor]));

    const tidy = await request(app).post('/v1/auth/token/tidy').set(root);
    expect(tidy.status).toBe(200);
    expect(tidy.body.warnings).toEqual(["Tidy operation successfully started. Any information from the operation will be printed to Vault's server logs."]);
    const after = vault.tokens.listAccessors();
    expect(after.length).toBe(before + 1);
    expect(after).toContain(live.accessor);
    for (const gone of [short1, short2, childOfShort]) expect(after).not.toContain(gone.accessor);
    expect((await lookupSelf(live.client_token)).status).toBe(200);
  });
});

describe('a token with only the default policy', () => {
  it('can look itself up, renew and revoke itself', async () => {
    const { app, clock, create, lookupSelf } = await setup();
    const auth = await create({ policies: ['default'], ttl: '1h' });
    expect(auth.policies).toEqual(['default']);
    const as = { 'X-Vault-Token': auth.client_token };
    expect((await lookupSelf(auth.client_token)).body.data.policies).toEqual(['default']);
    clock.advanceSeconds(1800);
    const renewed = await request(app).post('/v1/auth/token/renew-self').set(as).send({});
    expect(renewed.status).toBe(200);
    expect(renewed.body.auth.lease_duration).toBe(3600);
    expect((await lookupSelf(auth.client_token)).body.data.ttl).toBe(3600);
    expect((await request(app).post('/v1/auth/token/revoke-self').set(as)).status).toBe(204);
    expect((await lookupSelf(auth.client_token)).status).toBe(403);
  });

  it('can use its own cubbyhole, which no other token sees', async () => {
    const { app, root, create } = await setup();
    const as = { 'X-Vault-Token': (await create({ policies: ['default'] })).client_token };
    expect((await request(app).post('/v1/cubbyhole/x').set(as).send({ secret: 'mine' })).status).toBe(204);
    const read = await request(app).get('/v1/cubbyhole/x').set(as);
    expect(read.status).toBe(200);
    expect(read.body.data).toEqual({ secret: 'mine' });
    expect((await request(app).get('/v1/cubbyhole/?list=true').set(as)).body.data.keys).toEqual(['x']);
    expect((await request(app).get('/v1/cubbyhole/x').set(root)).status).toBe(404);
  });

  it('can wrap a value and unwrap it', async () => {
    const { app, create } = await setup();
    const as = { 'X-Vault-Token': (await create({ policies: ['default'] })).client_token };
    const wrapped = await request(app).post('/v1/sys/wrapping/wrap').set(as).set('X-Vault-Wrap-TTL', '60').send({ answer: '42' });
    expect(wrapped.status).toBe(200);
    expect(wrapped.body.data).toBeNull();
    expect(wrapped.body.wrap_info.ttl).toBe(60);
    const wrapToken = wrapped.body.wrap_info.token as string;
    const lookedUp = await request(app).post('/v1/sys/wrapping/lookup').set(as).send({ token: wrapToken });
    expect(lookedUp.status).toBe(200);
    const unwrapped = await request(app).post('/v1/sys/wrapping/unwrap').set(as).send({ token: wrapToken });
    expect(unwrapped.status).toBe(200);
    expect(unwrapped.body.data).toEqual({ answer: '42' });
    // Single use.
    expect((await request(app).post('/v1/sys/wrapping/unwrap').set(as).send({ token: wrapToken })).status).toBe(400);
  });

  it('renews a lease through sys/leases/renew but cannot revoke it, read sys/mounts or create tokens', async () => {
    const { app, vault, clock, root, create, writePolicy, log } = await setup();
    expect((await request(app).post('/v1/sys/mounts/dyn').set(root).send({ type: 'leases' })).status).toBe(204);
    // The only extra grant is the read that issues the lease; renewal rights come from `default`.
    await writePolicy('creds', 'path "dyn/creds/*" { capabilities = ["read"] }');
    const auth = await create({ policies: ['creds'], ttl: '2h' });
    expect(auth.policies).toEqual(['creds', 'default']);
    const as = { 'X-Vault-Token': auth.client_token };
    const issued = await request(app).get('/v1/dyn/creds/app').set(as);
    expect(issued.status).toBe(200);
    const leaseId = issued.body.lease_id as string;
    expect(leaseId).toMatch(/^dyn\/creds\/app\//);

    clock.advanceSeconds(30);
    const renewed = await request(app).put('/v1/sys/leases/renew').set(as).send({ lease_id: leaseId, increment: 120 });
    expect(renewed.status).toBe(200);
    expect(renewed.body).toMatchObject({ lease_id: leaseId, lease_duration: 120, renewable: true });
    expect(log.renewed).toEqual([{ username: issued.body.data.username, ttlSeconds: 120 }]);
    expect((await request(app).put('/v1/sys/leases/lookup').set(as).send({ lease_id: leaseId })).body.data.ttl).toBe(120);

    expect((await request(app).put('/v1/sys/leases/revoke').set(as).send({ lease_id: leaseId })).status).toBe(403);
    expect((await request(app).put(`/v1/sys/leases/revoke/${leaseId}`).set(as)).status).toBe(403);
    expect(log.revoked).toEqual([]);
    expect(vault.expiration.state(leaseId)?.state).toBe('active');

    expect((await request(app).get('/v1/sys/mounts').set(as)).status).toBe(403);
    const accessorsBefore = vault.tokens.listAccessors().length;
    expect((await request(app).post('/v1/auth/token/create').set(as).send({ policies: ['default'] })).status).toBe(403);
    expect((await request(app).post('/v1/auth/token/create-orphan').set(as).send({ policies: ['default'] })).status).toBe(403);
    expect(vault.tokens.listAccessors().length).toBe(accessorsBefore);
  });
});
