// Parameter constraints see values exactly as the backend will use them: policy names are trimmed
// and lower-cased in the field schema, so a deny on `broad` also covers `BROAD` and ` Broad `.
import request from 'supertest';
import { unsealedVault } from '../helpers/vault';

async function setup(policy: string) {
  const v = await unsealedVault();
  const root = { 'X-Vault-Token': v.rootToken };
  expect((await request(v.app).put('/v1/sys/policies/acl/p').set(root).send({ policy })).status).toBe(204);
  const token = (await request(v.app).post('/v1/auth/token/create').set(root).send({ policies: ['p'] })).body.auth.client_token as string;
  return { ...v, root, as: { 'X-Vault-Token': token } };
}

const spellings: unknown[] = [['broad'], ['BROAD'], [' Broad '], ['default', '\u00a0broad'], 'default, BROAD'];

describe('denied_parameters on policy lists', () => {
  it.each(spellings)('approle token_policies %j is refused when broad is denied', async (value) => {
    const { app, root, as } = await setup('path "auth/approle/role/*" { capabilities = ["create", "update"]\n denied_parameters = { "token_policies" = ["broad"], "policies" = ["broad"] } }');
    await request(app).post('/v1/sys/auth/approle').set(root).send({ type: 'approle' });
    expect((await request(app).post('/v1/auth/approle/role/app').set(as).send({ token_policies: value })).status).toBe(403);
    expect((await request(app).post('/v1/auth/approle/role/app').set(as).send({ policies: value })).status).toBe(403);
    expect((await request(app).get('/v1/auth/approle/role/app').set(root)).status).toBe(404);
    expect((await request(app).post('/v1/auth/approle/role/app').set(as).send({ token_policies: ['Reader'] })).status).toBe(204);
    expect((await request(app).get('/v1/auth/approle/role/app').set(root)).body.data.token_policies).toEqual(['reader']);
  });

  it.each(spellings)('jwt role token_policies %j is refused when broad is denied', async (value) => {
    const { app, root, as } = await setup('path "auth/jwt/role/*" { capabilities = ["create", "update"]\n denied_parameters = { "token_policies" = ["broad"] } }');
    await request(app).post('/v1/sys/auth/jwt').set(root).send({ type: 'jwt' });
    const res = await request(app).post('/v1/auth/jwt/role/r').set(as).send({ token_policies: value, user_claim: 'sub', role_type: 'jwt', bound_audiences: ['a'] });
    expect(res.status).toBe(403);
  });

  it.each(spellings)('token role allowed_policies %j is refused when broad is denied', async (value) => {
    const { app, as } = await setup('path "auth/token/roles/*" { capabilities = ["create", "update"]\n denied_parameters = { "allowed_policies" = ["broad"] } }');
    expect((await request(app).post('/v1/auth/token/roles/r').set(as).send({ allowed_policies: value })).status).toBe(403);
  });
});
