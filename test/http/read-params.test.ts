// Parameter constraints apply to reads as in current Vault: query parameters on GET meet
// allowed_parameters and denied_parameters like body parameters on writes.
import request from 'supertest';
import { unsealedVault } from '../helpers/vault';

async function setup(policy: string) {
  const v = await unsealedVault();
  const root = { 'X-Vault-Token': v.rootToken };
  await request(v.app).post('/v1/sys/mounts/kv').set(root).send({ type: 'kv', options: { version: '2' } });
  await request(v.app).put('/v1/kv/data/app').set(root).send({ data: { v: 1 } });
  await request(v.app).put('/v1/kv/data/app').set(root).send({ data: { v: 2 } });
  expect((await request(v.app).put('/v1/sys/policies/acl/p').set(root).send({ policy })).status).toBe(204);
  const token = (await request(v.app).post('/v1/auth/token/create').set(root).send({ policies: ['p'] })).body.auth.client_token as string;
  return { ...v, root, as: { 'X-Vault-Token': token } };
}

describe('parameter constraints on reads', () => {
  it('allowed_parameters limits the query parameters of a GET', async () => {
    const { app, as } = await setup('path "kv/data/*" { capabilities = ["read"]\n allowed_parameters = { "version" = ["2"] } }');
    expect((await request(app).get('/v1/kv/data/app').set(as)).status).toBe(200);
    expect((await request(app).get('/v1/kv/data/app?version=2').set(as)).body.data.data).toEqual({ v: 2 });
    expect((await request(app).get('/v1/kv/data/app?version=1').set(as)).status).toBe(403);
  });

  it('denied_parameters refuses a GET carrying the parameter', async () => {
    const { app, as } = await setup('path "kv/data/*" { capabilities = ["read"]\n denied_parameters = { "version" = [] } }');
    expect((await request(app).get('/v1/kv/data/app').set(as)).body.data.data).toEqual({ v: 2 });
    expect((await request(app).get('/v1/kv/data/app?version=1').set(as)).status).toBe(403);
  });
});
