// AppRole tokens over their life: a wrapped secret-id unwraps once and logs in; role limits and
// token_no_default_policy shape the token; renewal stops when the role is deleted.
import request from 'supertest';
import { ManualClock } from '../../src/util/clock';
import { unsealedVault } from '../helpers/vault';

async function setup() {
  const clock = new ManualClock();
  const v = await unsealedVault({ clock });
  const root = { 'X-Vault-Token': v.rootToken };
  expect((await request(v.app).post('/v1/sys/auth/approle').set(root).send({ type: 'approle' })).status).toBe(204);
  await request(v.app).put('/v1/sys/policies/acl/deploy').set(root).send({ policy: 'path "secret/data/deploy/*" { capabilities = ["read"] }' });
  return { ...v, clock, root };
}

describe('AppRole token lifecycle', () => {
  it('a wrapped secret-id unwraps once and logs in', async () => {
    const { app, root } = await setup();
    await request(app).post('/v1/auth/approle/role/ci').set(root).send({ token_policies: ['deploy'], secret_id_num_uses: 1 });
    const roleId = (await request(app).get('/v1/auth/approle/role/ci/role-id').set(root)).body.data.role_id;
    const wrapped = await request(app).post('/v1/auth/approle/role/ci/secret-id').set(root).set('X-Vault-Wrap-TTL', '120s').send({});
    expect(wrapped.body.data).toBeNull();
    expect(wrapped.body.wrap_info.creation_path).toBe('auth/approle/role/ci/secret-id');
    const wrapToken = wrapped.body.wrap_info.token as string;

    const unwrapped = await request(app).post('/v1/sys/wrapping/unwrap').set('X-Vault-Token', wrapToken);
    const secretId = unwrapped.body.data.secret_id as string;
    expect(secretId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await request(app).post('/v1/sys/wrapping/unwrap').set('X-Vault-Token', wrapToken)).status).toBe(400);

    const login = await request(app).post('/v1/auth/approle/login').send({ role_id: roleId, secret_id: secretId });
    expect(login.status).toBe(200);
    expect(login.body.auth.policies).toEqual(['deploy', 'default']);
    expect(login.body.auth.metadata).toEqual({ role_name: 'ci' });
    // One use only.
    expect((await request(app).post('/v1/auth/approle/login').send({ role_id: roleId, secret_id: secretId })).status).toBe(400);
  });

  it('honours token_no_default_policy and token_explicit_max_ttl, and stops renewal once the role is deleted', async () => {
    const { app, root, clock } = await setup();
    await request(app).post('/v1/auth/approle/role/svc').set(root).send({ token_policies: ['deploy'], token_no_default_policy: true, token_ttl: '1h', token_explicit_max_ttl: '90m' });
    const roleId = (await request(app).get('/v1/auth/approle/role/svc/role-id').set(root)).body.data.role_id;
    const secretId = (await request(app).post('/v1/auth/approle/role/svc/secret-id').set(root).send({})).body.data.secret_id;
    const login = await request(app).post('/v1/auth/approle/login').send({ role_id: roleId, secret_id: secretId });
    expect(login.body.auth.policies).toEqual(['deploy']);
    expect(login.body.auth.lease_duration).toBe(3600);
    const token = login.body.auth.client_token as string;

    clock.advanceSeconds(3000);
    const renewed = await request(app).post('/v1/auth/token/renew').set(root).send({ token, increment: '1h' });
    expect(renewed.status).toBe(200);
    expect(renewed.body.auth.lease_duration).toBe(2400);

    await request(app).delete('/v1/auth/approle/role/svc').set(root);
    const refused = await request(app).post('/v1/auth/token/renew').set(root).send({ token });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toContain('role no longer exists');
  });
});

describe('custom credentials', () => {
  it('a custom role_id and secret_id registered with surrounding spaces still log in (stored as login reads them)', async () => {
    const { app, root } = await setup();
    await request(app).post('/v1/auth/approle/role/spaced').set(root).send({ token_policies: ['deploy'], role_id: '  my-role-id  ' });
    expect((await request(app).get('/v1/auth/approle/role/spaced/role-id').set(root)).body.data.role_id).toBe('my-role-id');
    await request(app).post('/v1/auth/approle/role/spaced/custom-secret-id').set(root).send({ secret_id: ' my-secret-id ' });
    const login = await request(app).post('/v1/auth/approle/login').send({ role_id: 'my-role-id', secret_id: 'my-secret-id' });
    expect(login.status).toBe(200);
  });
});
