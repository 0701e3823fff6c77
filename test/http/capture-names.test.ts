// A named path capture reaches the ACL exactly as the backend will use it: whitespace, invisible
// characters and leading slashes around a mount or audit path cannot slip past a deny.
import request from 'supertest';
import { unsealedVault } from '../helpers/vault';

const spellings = ['%20finance', 'finance%20', '%C2%A0finance', '%EF%BB%BFfinance', '%E2%80%8Bfinance', 'fin%E2%80%8Dance', '%09finance', '%2Ffinance'];

async function setup(policy: string) {
  const v = await unsealedVault();
  const root = { 'X-Vault-Token': v.rootToken };
  expect((await request(v.app).put('/v1/sys/policies/acl/ops').set(root).send({ policy })).status).toBe(204);
  const token = (await request(v.app).post('/v1/auth/token/create').set(root).send({ policies: ['ops'] })).body.auth.client_token as string;
  return { ...v, root, as: { 'X-Vault-Token': token } };
}

describe('named captures are checked as the backend stores them', () => {
  it.each(spellings)('sys/mounts/%s cannot create a denied mount', async (name) => {
    const { app, root, as } = await setup(
      'path "sys/mounts/*" { capabilities = ["create", "update", "read"] }\npath "sys/mounts/finance" { capabilities = ["deny"] }\npath "sys/mounts/finance/*" { capabilities = ["deny"] }',
    );
    const res = await request(app).put(`/v1/sys/mounts/${name}`).set(as).send({ type: 'kv' });
    expect([400, 403]).toContain(res.status);
    expect(Object.keys((await request(app).get('/v1/sys/mounts').set(root)).body.data)).not.toContain('finance/');
    expect((await request(app).put('/v1/sys/mounts/other').set(as).send({ type: 'kv' })).status).toBe(204);
  });

  it.each(spellings)('sys/auth/%s cannot enable a denied auth mount', async (name) => {
    const { app, root, as } = await setup(
      'path "sys/auth/*" { capabilities = ["create", "update", "read", "sudo"] }\npath "sys/auth/finance" { capabilities = ["deny"] }\npath "sys/auth/finance/*" { capabilities = ["deny"] }',
    );
    const res = await request(app).put(`/v1/sys/auth/${name}`).set(as).send({ type: 'approle' });
    expect([400, 403]).toContain(res.status);
    expect(Object.keys((await request(app).get('/v1/sys/auth').set(root)).body.data)).not.toContain('finance/');
  });

  it('a leading slash cannot reach a denied audit device path', async () => {
    const { app, root, as } = await setup('path "sys/audit/*" { capabilities = ["create", "update", "sudo"] }\npath "sys/audit/finance" { capabilities = ["deny"] }');
    const res = await request(app).put('/v1/sys/audit/%2Ffinance').set(as).send({ type: 'file', options: { file_path: 'stdout' } });
    expect([400, 403]).toContain(res.status);
    expect(Object.keys((await request(app).get('/v1/sys/audit').set(root)).body.data ?? {})).not.toContain('finance/');
  });

  it('a mount path with edge whitespace is refused even by root, never trimmed', async () => {
    const { app, root } = await setup('path "x" { capabilities = ["read"] }');
    expect((await request(app).put('/v1/sys/mounts/%C2%A0finance').set(root).send({ type: 'kv' })).status).toBe(400);
    expect((await request(app).put('/v1/sys/mounts/finance').set(root).send({ type: 'kv' })).status).toBe(204);
  });
});
