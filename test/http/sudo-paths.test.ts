// Vault's root-protected (sudo) sys/ paths, table-driven: a broad token without sudo is refused with
// 403 on each, before any side effect; the same capabilities plus sudo pass the ACL. The list follows
// Vault's system backend PathsSpecial.Root (auth/*, audit, audit/*, rotate, seal, leases,
// leases/lookup/*, leases/revoke-prefix/*, leases/revoke-force/*, revoke-prefix/*, revoke-force/*)
// and the token backend's (accessors, revoke-orphan), plus the store snapshot endpoints (as Vault's
// storage/raft/snapshot ones are).
import request from 'supertest';
import { unsealedVault } from '../helpers/vault';

type Method = 'get' | 'put' | 'delete' | 'list';
const cases: Array<{ method: Method; path: string; body?: Record<string, unknown> }> = [
  { method: 'put', path: 'sys/auth/approle2', body: { type: 'approle' } },
  { method: 'get', path: 'sys/auth/approle' },
  { method: 'delete', path: 'sys/auth/approle' },
  { method: 'put', path: 'sys/auth/approle/tune', body: { default_lease_ttl: '87600h', max_lease_ttl: '87600h' } },
  { method: 'get', path: 'sys/auth/approle/tune' },
  { method: 'get', path: 'sys/audit' },
  { method: 'put', path: 'sys/audit/file2', body: { type: 'file', options: { file_path: '/nonexistent/x.log' } } },
  { method: 'delete', path: 'sys/audit/file2' },
  { method: 'put', path: 'sys/rotate' },
  { method: 'put', path: 'sys/seal' },
  { method: 'get', path: 'sys/leases' },
  { method: 'list', path: 'sys/leases/lookup/secret/' },
  { method: 'put', path: 'sys/leases/revoke-prefix/secret/' },
  { method: 'put', path: 'sys/leases/revoke-force/secret/' },
  { method: 'put', path: 'sys/revoke-prefix/secret/' },
  { method: 'put', path: 'sys/revoke-force/secret/' },
  { method: 'get', path: 'sys/storage/snapshot' },
  { method: 'put', path: 'sys/storage/snapshot-restore' },
  { method: 'list', path: 'auth/token/accessors' },
  { method: 'put', path: 'auth/token/revoke-orphan', body: { token: 'hvs.nonexistent' } },
];

const broad = (sudo: boolean) => {
  const caps = `["create", "read", "update", "delete", "list"${sudo ? ', "sudo"' : ''}]`;
  return `path "*" { capabilities = ${caps} }\npath "sys/*" { capabilities = ${caps} }\npath "auth/*" { capabilities = ${caps} }`;
};

async function setup() {
  const v = await unsealedVault();
  const root = { 'X-Vault-Token': v.rootToken };
  await request(v.app).post('/v1/sys/auth/approle').set(root).send({ type: 'approle' });
  for (const [name, sudo] of [['broad', false], ['broad-sudo', true]] as const) {
    expect((await request(v.app).put(`/v1/sys/policies/acl/${name}`).set(root).send({ policy: broad(sudo) })).status).toBe(204);
  }
  const token = async (policy: string) => (await request(v.app).post('/v1/auth/token/create').set(root).send({ policies: [policy] })).body.auth.client_token as string;
  return { ...v, root, plain: await token('broad'), sudo: await token('broad-sudo') };
}

function send(app: Parameters<typeof request>[0], c: (typeof cases)[number], token: string) {
  const url = `/v1/${c.path}`;
  const r = c.method === 'list' ? request(app).get(url).query({ list: 'true' }) : request(app)[c.method](url);
  return c.body ? r.set('X-Vault-Token', token).send(c.body) : r.set('X-Vault-Token', token);
}

describe('sudo-protected sys/ paths', () => {
  it.each(cases)('$method $path refuses a broad token without sudo and admits one with it', async (c) => {
    const { app, root, plain, sudo } = await setup();
    const before = (await request(app).get('/v1/sys/auth/approle/tune').set(root)).body.data;
    const refused = await send(app, c, plain);
    expect(refused.status).toBe(403);
    // Nothing moved: the approle mount and its TTLs are as they were.
    expect((await request(app).get('/v1/sys/auth/approle/tune').set(root)).body.data).toEqual(before);
    const admitted = await send(app, c, sudo);
    expect(admitted.status).not.toBe(403);
  });

  it('sys/mounts/:path/tune is not root-protected in Vault and stays so', async () => {
    const { app, plain } = await setup();
    expect((await request(app).get('/v1/sys/mounts/cubbyhole/tune').set('X-Vault-Token', plain)).status).toBe(200);
  });
});
