// Logins link identities as Vault does (AppRole alias = role_id, JWT alias = user_claim value;
// entity created on first login), tokens carry entity_id, identity policies are enforced, and a
// disabled entity's tokens and logins are refused.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type CryptoKey, SignJWT } from 'jose';
import request from 'supertest';
import { type JwksServer, startJwksServer } from '../helpers/jwks';
import { leaseEngine } from '../helpers/lease-engine';
import { unsealedVault } from '../helpers/vault';
import { GITHUB_ISSUER, githubClaims } from '../auth/github-token';

async function approleVault() {
  const v = await unsealedVault();
  const root = { 'X-Vault-Token': v.rootToken };
  expect((await request(v.app).post('/v1/sys/auth/approle').set(root).send({ type: 'approle' })).status).toBe(204);
  expect((await request(v.app).post('/v1/sys/mounts/kv').set(root).send({ type: 'kv' })).status).toBe(204);
  await request(v.app).put('/v1/kv/team/a').set(root).send({ v: '1' });
  await request(v.app).put('/v1/sys/policy/team-read').set(root).send({ policy: 'path "kv/team/*" { capabilities = ["read"] }' });
  await request(v.app).post('/v1/auth/approle/role/app').set(root).send({ token_policies: ['default'], owner: 'team-app' });
  const roleId = (await request(v.app).get('/v1/auth/approle/role/app/role-id').set(root)).body.data.role_id as string;
  const accessor = (await request(v.app).get('/v1/sys/auth').set(root)).body.data['approle/'].accessor as string;
  const login = async () => {
    const secretId = (await request(v.app).post('/v1/auth/approle/role/app/secret-id').set(root)).body.data.secret_id as string;
    return request(v.app).post('/v1/auth/approle/login').send({ role_id: roleId, secret_id: secretId });
  };
  return { ...v, root, roleId, accessor, login };
}

describe('AppRole logins and identities', () => {
  it('creates the entity on first login, with the role_id as alias, and reuses it after', async () => {
    const { app, root, roleId, accessor, login } = await approleVault();
    const first = await login();
    expect(first.status).toBe(200);
    const entityId = first.body.auth.entity_id as string;
    expect(entityId).toMatch(/^[0-9a-f-]{36}$/);
    const lookup = await request(app).post('/v1/identity/lookup/entity').set(root).send({ alias_name: roleId, alias_mount_accessor: accessor });
    expect(lookup.body.data.id).toBe(entityId);
    expect(lookup.body.data.aliases[0]).toMatchObject({ name: roleId, mount_accessor: accessor, mount_type: 'approle' });
    const second = await login();
    expect(second.body.auth.entity_id).toBe(entityId);
    const self = await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', second.body.auth.client_token);
    expect(self.body.data.entity_id).toBe(entityId);
    const byAccessor = await request(app).post('/v1/auth/token/lookup-accessor').set(root).send({ accessor: second.body.auth.accessor });
    expect(byAccessor.body.data.entity_id).toBe(entityId);
    // The role's owner applies where the entity has none.
    expect(self.body.data.owner).toBe('team-app');
  });

  it('enforces entity and group policies as identity_policies, at once after a write', async () => {
    const { app, root, login } = await approleVault();
    const token = (await login()).body.auth.client_token as string;
    const entityId = (await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', token)).body.data.entity_id as string;
    expect((await request(app).get('/v1/kv/team/a').set('X-Vault-Token', token)).status).toBe(403);
    // Group policy: granted through membership.
    const group = await request(app).post('/v1/identity/group').set(root).send({ name: 'readers', policies: ['team-read'], member_entity_ids: [entityId] });
    expect(group.status).toBe(200);
    expect((await request(app).get('/v1/kv/team/a').set('X-Vault-Token', token)).status).toBe(200);
    expect((await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', token)).body.data.identity_policies).toEqual(['team-read']);
    await request(app).post(`/v1/identity/group/id/${group.body.data.id}`).set(root).send({ member_entity_ids: [] });
    expect((await request(app).get('/v1/kv/team/a').set('X-Vault-Token', token)).status).toBe(403);
    // Entity policy.
    await request(app).post(`/v1/identity/entity/id/${entityId}`).set(root).send({ policies: ['team-read'] });
    expect((await request(app).get('/v1/kv/team/a').set('X-Vault-Token', token)).status).toBe(200);
    const next = await login();
    expect(next.body.auth.identity_policies).toEqual(['team-read']);
    expect(next.body.auth.policies).toEqual(['default', 'team-read']);
  });

  it('refuses a disabled entity\'s tokens (403) and its logins', async () => {
    const { app, root, login } = await approleVault();
    const auth = (await login()).body.auth;
    expect((await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', auth.client_token)).status).toBe(200);
    await request(app).post(`/v1/identity/entity/id/${auth.entity_id}`).set(root).send({ disabled: true });
    expect((await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', auth.client_token)).status).toBe(403);
    expect((await login()).status).toBe(403);
    await request(app).post(`/v1/identity/entity/id/${auth.entity_id}`).set(root).send({ disabled: false });
    expect((await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', auth.client_token)).status).toBe(200);
    expect((await login()).status).toBe(200);
  });

  it('writes the entity_id into audit entries', async () => {
    const { app, root, login } = await approleVault();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-identity-audit-'));
    try {
      const file = path.join(dir, 'audit.log');
      expect((await request(app).put('/v1/sys/audit/file').set(root).send({ type: 'file', options: { file_path: file } })).status).toBe(204);
      const auth = (await login()).body.auth;
      await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', auth.client_token);
      const entries = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const lookups = entries.filter((e) => e.request?.path === 'auth/token/lookup-self');
      expect(lookups.length).toBe(2);
      for (const e of lookups) expect(e.auth.entity_id).toBe(auth.entity_id);
      const loginResponse = entries.find((e) => e.type === 'response' && e.request?.path === 'auth/approle/login');
      expect(loginResponse.response.auth.entity_id).toBe(auth.entity_id);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('JWT logins and identities', () => {
  let jwksUrl: string;
  let privateKey: CryptoKey;
  let jwksServer: JwksServer;
  beforeAll(async () => {
    jwksServer = await startJwksServer('k1');
    ({ url: jwksUrl, privateKey } = jwksServer);
  });
  afterAll(() => jwksServer.close());

  it('links the user_claim value as alias and records the role owner and the mapped claims', async () => {
    const v = await unsealedVault({ registry: { leases: leaseEngine().factory } });
    const root = { 'X-Vault-Token': v.rootToken };
    await request(v.app).post('/v1/sys/auth/jwt').set(root).send({ type: 'jwt' });
    await request(v.app).post('/v1/auth/jwt/config').set(root).send({ jwks_url: jwksUrl, bound_issuer: GITHUB_ISSUER });
    const role = await request(v.app)
      .post('/v1/auth/jwt/role/ci')
      .set(root)
      .send({ role_type: 'jwt', user_claim: 'sub', bound_audiences: ['https://github.com/acme'], token_policies: ['deploy'], owner: 'team-ci', claim_mappings: { repository: 'repo' } });
    await request(v.app).post('/v1/sys/mounts/creds').set(root).send({ type: 'leases' });
    await request(v.app).put('/v1/sys/policy/deploy').set(root).send({ policy: 'path "creds/*" { capabilities = ["read"] }' });
    expect(role.status).toBe(204);
    expect((await request(v.app).get('/v1/auth/jwt/role/ci').set(root)).body.data.owner).toBe('team-ci');
    const now = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({ iat: now, nbf: now - 5, exp: now + 300, ...githubClaims() }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(privateKey);
    const login = await request(v.app).post('/v1/auth/jwt/login').send({ role: 'ci', jwt });
    expect(login.status).toBe(200);
    const accessor = (await request(v.app).get('/v1/sys/auth').set(root)).body.data['jwt/'].accessor as string;
    const entity = await request(v.app).post('/v1/identity/lookup/entity').set(root).send({ alias_name: 'repo:acme/app:ref:refs/heads/main', alias_mount_accessor: accessor });
    expect(entity.body.data.id).toBe(login.body.auth.entity_id);
    const self = await request(v.app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', login.body.auth.client_token);
    expect(self.body.data.owner).toBe('team-ci');
    // A lease keeps the request context (client address, the mapped claims) encrypted, with holder and owner indexed.
    const lease = await request(v.app).get('/v1/creds/creds/app').set('X-Vault-Token', login.body.auth.client_token);
    expect(lease.status).toBe(200);
    const row = v.db.prepare('SELECT entity_id, owner, role_name, payload FROM leases WHERE lease_id = ?').get(lease.body.lease_id) as { entity_id: string; owner: string; role_name: string; payload: Buffer };
    expect(row).toMatchObject({ entity_id: login.body.auth.entity_id, owner: 'team-ci', role_name: 'ci' });
    expect(row.payload.toString('latin1')).not.toContain('acme/app');
    const payload = v.vault.barrier.decryptJSON<{ context: Record<string, unknown> }>(`leases/${lease.body.lease_id}`, row.payload);
    expect(payload.context).toEqual({ clientAddress: expect.any(String), claims: expect.objectContaining({ repo: 'acme/app', sub: 'repo:acme/app:ref:refs/heads/main' }) });
  });
});
