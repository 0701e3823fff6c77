// AppRole through HTTP on a real vault: enable, role, role-id, secret-id, login, and the token's reach and CIDR bounds.
import request from 'supertest';
import { ManualClock } from '../../src/util/clock';
import { unsealedVault } from '../helpers/vault';

async function setup() {
  const clock = new ManualClock();
  const v = await unsealedVault({ clock });
  const root = { 'X-Vault-Token': v.rootToken };
  const enable = await request(v.app).post('/v1/sys/auth/approle').set(root).send({ type: 'approle' });
  expect(enable.status).toBe(204);
  expect((await request(v.app).post('/v1/sys/mounts/secret').set(root).send({ type: 'kv-v2' })).status).toBe(204);
  const policy = 'path "secret/data/app/*" { capabilities = ["read"] }';
  expect((await request(v.app).put('/v1/sys/policies/acl/app-reader').set(root).send({ policy })).status).toBe(204);
  const write = await request(v.app).post('/v1/secret/data/app/db').set(root).send({ data: { password: 'hunter2' } });
  expect(write.status).toBe(200);
  expect((await request(v.app).post('/v1/secret/data/other/db').set(root).send({ data: { password: 'x' } })).status).toBe(200);

  const createRole = async (name: string, body: Record<string, unknown>) => {
    const res = await request(v.app).post(`/v1/auth/approle/role/${name}`).set(root).send(body);
    expect(res.status).toBe(204);
  };
  const credentials = async (name: string, secretBody: Record<string, unknown> = {}) => {
    const roleId = await request(v.app).get(`/v1/auth/approle/role/${name}/role-id`).set(root);
    expect(roleId.status).toBe(200);
    const secretId = await request(v.app).post(`/v1/auth/approle/role/${name}/secret-id`).set(root).send(secretBody);
    expect(secretId.status).toBe(200);
    return { role_id: roleId.body.data.role_id as string, secret_id: secretId.body.data.secret_id as string, secret: secretId.body };
  };
  return { ...v, clock, root, createRole, credentials };
}

describe('AppRole over HTTP', () => {
  it('logs in and gets a token with the role\'s policies that reads what the policy allows', async () => {
    const { app, root, createRole, credentials } = await setup();
    await createRole('web', { token_policies: ['app-reader'], token_ttl: '1h', token_max_ttl: '4h' });

    const read = await request(app).get('/v1/auth/approle/role/web').set(root);
    expect(read.status).toBe(200);
    expect(read.body.data).toMatchObject({ token_policies: ['app-reader'], policies: ['app-reader'], token_ttl: 3600, token_max_ttl: 14400, bind_secret_id: true });
    const list = await request(app).get('/v1/auth/approle/role?list=true').set(root);
    expect(list.body.data.keys).toEqual(['web']);

    const { role_id, secret_id, secret } = await credentials('web', { metadata: '{"team":"payments"}' });
    expect(secret.data).toMatchObject({ secret_id_ttl: 0, secret_id_num_uses: 0 });
    expect(secret.data.secret_id_accessor).toEqual(expect.any(String));

    const login = await request(app).post('/v1/auth/approle/login').send({ role_id, secret_id });
    expect(login.status).toBe(200);
    expect(login.headers['content-type']).toBe('application/json');
    const auth = login.body.auth;
    expect(auth.client_token).toEqual(expect.any(String));
    expect(auth.policies).toEqual(['app-reader', 'default']);
    expect(auth.metadata).toEqual({ team: 'payments', role_name: 'web' });
    expect(auth.lease_duration).toBe(3600);
    expect(auth.renewable).toBe(true);
    expect(JSON.stringify(login.body)).not.toContain(secret_id);

    const as = { 'X-Vault-Token': auth.client_token };
    const allowed = await request(app).get('/v1/secret/data/app/db').set(as);
    expect(allowed.status).toBe(200);
    expect(allowed.body.data.data).toEqual({ password: 'hunter2' });
    expect((await request(app).get('/v1/secret/data/other/db').set(as)).status).toBe(403);
    // The token can manage nothing in the auth method itself.
    expect((await request(app).get('/v1/auth/approle/role/web').set(as)).status).toBe(403);

    const self = await request(app).get('/v1/auth/token/lookup-self').set(as);
    expect(self.status).toBe(200);
    expect(self.body.data).toMatchObject({ display_name: 'approle', meta: { team: 'payments', role_name: 'web' }, path: 'auth/approle/login' });
  });

  it('answers failed logins with 400 "invalid role or secret ID", whichever part was wrong', async () => {
    const { app, createRole, credentials } = await setup();
    await createRole('web', { token_policies: 'app-reader' });
    const { role_id, secret_id } = await credentials('web');
    for (const body of [
      { role_id: 'nope', secret_id },
      { role_id, secret_id: 'nope' },
      { role_id, secret_id: '' },
    ]) {
      const res = await request(app).post('/v1/auth/approle/login').send(body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ errors: ['invalid role or secret ID'] });
    }
  });

  it('a one-use secret ID logs in once', async () => {
    const { app, createRole, credentials } = await setup();
    await createRole('once', { token_policies: 'app-reader', secret_id_num_uses: 1 });
    const { role_id, secret_id } = await credentials('once');
    expect((await request(app).post('/v1/auth/approle/login').send({ role_id, secret_id })).status).toBe(200);
    expect((await request(app).post('/v1/auth/approle/login').send({ role_id, secret_id })).status).toBe(400);
  });

  it('refuses a login from 127.0.0.1 to a role bound to 10.0.0.0/8, with the same message', async () => {
    const { app, createRole, credentials } = await setup();
    await createRole('internal', { token_policies: 'app-reader', secret_id_bound_cidrs: '10.0.0.0/8' });
    await createRole('local', { token_policies: 'app-reader', secret_id_bound_cidrs: ['127.0.0.0/8', '::1/128'] });
    const internal = await credentials('internal');
    const refused = await request(app).post('/v1/auth/approle/login').send({ role_id: internal.role_id, secret_id: internal.secret_id });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ errors: ['invalid role or secret ID'] });
    const local = await credentials('local');
    expect((await request(app).post('/v1/auth/approle/login').send({ role_id: local.role_id, secret_id: local.secret_id })).status).toBe(200);
  });

  it('binds the token to token_bound_cidrs', async () => {
    const { app, createRole, credentials } = await setup();
    await createRole('far', { token_policies: 'app-reader', token_bound_cidrs: '10.0.0.0/8' });
    const { role_id, secret_id } = await credentials('far');
    const login = await request(app).post('/v1/auth/approle/login').send({ role_id, secret_id });
    expect(login.status).toBe(200);
    // Issued, but unusable from 127.0.0.1.
    expect((await request(app).get('/v1/secret/data/app/db').set('X-Vault-Token', login.body.auth.client_token)).status).toBe(403);
  });

  it('refuses batch tokens with a clear 400', async () => {
    const { app, root } = await setup();
    const res = await request(app).post('/v1/auth/approle/role/b').set(root).send({ token_type: 'batch' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toContain('batch');
  });
});
