// Edges of the access model found in review: non-canonical names cannot slip past a deny, token
// roles cannot mint unbounded tokens, wrapping-TTL constraints hold, parameter constraints see
// what the backend sees, logins are audited, and leases never outlive their token or auth method.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { ManualClock } from '../../src/util/clock';
import { leaseEngine } from '../helpers/lease-engine';
import { unsealedVault, type VaultOptions } from '../helpers/vault';

async function setup(options: VaultOptions = {}) {
  const engine = leaseEngine();
  const v = await unsealedVault({ ...options, registry: { leases: engine.factory } });
  const root = { 'X-Vault-Token': v.rootToken };
  const policy = async (name: string, text: string) => expect((await request(v.app).put(`/v1/sys/policies/acl/${name}`).set(root).send({ policy: text })).status).toBe(204);
  const tokenWith = async (policies: string[], extra: Record<string, unknown> = {}) =>
    (await request(v.app).post('/v1/auth/token/create').set(root).send({ policies, ...extra })).body.auth.client_token as string;
  return { ...v, root, policy, tokenWith, log: engine.log };
}

describe('non-canonical names are checked as the backend will act on them', () => {
  it('a deny on a policy name also covers its upper-case and padded spellings', async () => {
    const { app, policy, tokenWith, root } = await setup();
    await policy('admin', 'path "*" { capabilities = ["sudo", "read"] }');
    await policy('policy-admin', 'path "sys/policies/acl/*" { capabilities = ["create", "update", "read"] }\npath "sys/policies/acl/admin" { capabilities = ["deny"] }');
    const as = { 'X-Vault-Token': await tokenWith(['policy-admin']) };
    for (const name of ['admin', 'ADMIN', 'Admin', '%20admin']) {
      const res = await request(app).put(`/v1/sys/policies/acl/${name}`).set(as).send({ policy: 'path "*" { capabilities = ["create"] }' });
      expect(res.status).toBe(403);
    }
    expect((await request(app).get('/v1/sys/policies/acl/admin').set(root)).body.data.policy).toBe('path "*" { capabilities = ["sudo", "read"] }');
    expect((await request(app).put('/v1/sys/policies/acl/other').set(as).send({ policy: 'path "x" { capabilities = ["read"] }' })).status).toBe(204);
  });

  it('a deny on an AppRole role also covers its upper-case spelling', async () => {
    const { app, policy, tokenWith, root } = await setup();
    await request(app).post('/v1/sys/auth/approle').set(root).send({ type: 'approle' });
    await request(app).post('/v1/auth/approle/role/admin').set(root).send({ token_policies: ['admin'] });
    await policy('ops', 'path "auth/approle/role/+/secret-id" { capabilities = ["update"] }\npath "auth/approle/role/admin/secret-id" { capabilities = ["deny"] }');
    const as = { 'X-Vault-Token': await tokenWith(['ops']) };
    expect((await request(app).post('/v1/auth/approle/role/admin/secret-id').set(as).send({})).status).toBe(403);
    expect((await request(app).post('/v1/auth/approle/role/ADMIN/secret-id').set(as).send({})).status).toBe(403);
  });
});

describe('token roles cannot mint tokens beyond their limits', () => {
  it('a periodic token through a role still needs sudo, and the role period caps the request', async () => {
    const { app, root, policy, tokenWith } = await setup();
    await request(app).post('/v1/auth/token/roles/ci').set(root).send({ orphan: true, token_max_ttl: '1h', token_period: '30m' });
    await policy('role-user', 'path "auth/token/create/ci" { capabilities = ["update"] }');
    const as = { 'X-Vault-Token': await tokenWith(['role-user']) };
    expect((await request(app).post('/v1/auth/token/create/ci').set(as).send({ period: '8760h' })).status).toBe(400);
    const fromRole = await request(app).post('/v1/auth/token/create/ci').set(as).send({});
    expect(fromRole.body.auth.lease_duration).toBe(1800);
    const rootAsks = await request(app).post('/v1/auth/token/create/ci').set(root).send({ period: '8760h' });
    expect(rootAsks.body.auth.lease_duration).toBe(1800);
  });

  it("a role's token_max_ttl caps renewal and its renewable=false cannot be overridden", async () => {
    const clock = new ManualClock();
    const { app, root } = await setup({ clock });
    await request(app).post('/v1/auth/token/roles/short').set(root).send({ token_max_ttl: '1h', token_ttl: '30m' });
    const token = (await request(app).post('/v1/auth/token/create/short').set(root).send({})).body.auth.client_token;
    clock.advanceSeconds(1200);
    const renewed = await request(app).post('/v1/auth/token/renew-self').set('X-Vault-Token', token).send({ increment: '700h' });
    expect(renewed.body.auth.lease_duration).toBe(2400);

    await request(app).post('/v1/auth/token/roles/fixed').set(root).send({ renewable: false });
    const fixed = await request(app).post('/v1/auth/token/create/fixed').set(root).send({ renewable: true });
    expect(fixed.body.auth.renewable).toBe(false);
  });
});

describe('policy constraints', () => {
  it('min_wrapping_ttl forces wrapping and max_wrapping_ttl bounds it', async () => {
    const { app, root, policy, tokenWith } = await setup();
    await request(app).post('/v1/sys/mounts/secret').set(root).send({ type: 'kv-v2' });
    await request(app).post('/v1/secret/data/wrapped-only').set(root).send({ data: { v: 'secret' } });
    await policy('wrapped', 'path "secret/data/*" {\n capabilities = ["read"]\n min_wrapping_ttl = "1m"\n max_wrapping_ttl = "5m"\n}');
    const as = { 'X-Vault-Token': await tokenWith(['wrapped']) };
    expect((await request(app).get('/v1/secret/data/wrapped-only').set(as)).status).toBe(403);
    expect((await request(app).get('/v1/secret/data/wrapped-only').set(as).set('X-Vault-Wrap-TTL', '30s')).status).toBe(403);
    expect((await request(app).get('/v1/secret/data/wrapped-only').set(as).set('X-Vault-Wrap-TTL', '700h')).status).toBe(403);
    const ok = await request(app).get('/v1/secret/data/wrapped-only').set(as).set('X-Vault-Wrap-TTL', '2m');
    expect(ok.status).toBe(200);
    expect(ok.body.wrap_info.ttl).toBe(120);
    expect((await request(app).put('/v1/sys/policies/acl/bad').set(root).send({ policy: 'path "a" { capabilities = ["read"]\n control_group = {} }' })).status).toBe(400);
  });

  it('denied_parameters sees list parameters as the backend parses them', async () => {
    const { app, root, policy, tokenWith } = await setup();
    await request(app).post('/v1/sys/auth/approle').set(root).send({ type: 'approle' });
    await policy('role-writer', 'path "auth/approle/role/*" {\n capabilities = ["create", "update"]\n denied_parameters = { "token_policies" = ["admin"] }\n}');
    const as = { 'X-Vault-Token': await tokenWith(['role-writer']) };
    expect((await request(app).post('/v1/auth/approle/role/app').set(as).send({ token_policies: ['admin'] })).status).toBe(403);
    expect((await request(app).post('/v1/auth/approle/role/app').set(as).send({ token_policies: 'default,admin' })).status).toBe(403);
    expect((await request(app).post('/v1/auth/approle/role/app').set(as).send({ token_policies: 'default,reader' })).status).toBe(204);
  });

  it('sys/auth enable and disable need sudo', async () => {
    const { app, root, policy, tokenWith } = await setup();
    await request(app).post('/v1/sys/auth/approle').set(root).send({ type: 'approle' });
    await policy('auth-ops', 'path "sys/auth/*" { capabilities = ["create", "update", "delete", "read"] }');
    const as = { 'X-Vault-Token': await tokenWith(['auth-ops']) };
    expect((await request(app).delete('/v1/sys/auth/approle').set(as)).status).toBe(403);
    expect((await request(app).post('/v1/sys/auth/jwt').set(as).send({ type: 'jwt' })).status).toBe(403);
    expect((await request(app).get('/v1/sys/auth').set(root)).body.data['approle/']).toBeDefined();
  });
});

describe('the audit trail covers logins and refusals', () => {
  it('an AppRole login and a request with a bad token are audited, the secrets hashed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-audit-'));
    try {
      const { app, root } = await setup();
      const file = path.join(dir, 'audit.log');
      await request(app).put('/v1/sys/audit/file').set(root).send({ type: 'file', options: { file_path: file } });
      await request(app).post('/v1/sys/auth/approle').set(root).send({ type: 'approle' });
      await request(app).post('/v1/auth/approle/role/ci').set(root).send({ token_policies: ['default'] });
      const roleId = (await request(app).get('/v1/auth/approle/role/ci/role-id').set(root)).body.data.role_id;
      const secretId = (await request(app).post('/v1/auth/approle/role/ci/secret-id').set(root).send({})).body.data.secret_id;
      const login = await request(app).post('/v1/auth/approle/login').send({ role_id: roleId, secret_id: secretId });
      expect(login.status).toBe(200);
      expect((await request(app).get('/v1/sys/mounts').set('X-Vault-Token', 'hvs.bogus-token')).status).toBe(403);

      const text = fs.readFileSync(file, 'utf8');
      const lines = text.trim().split('\n').map((l) => JSON.parse(l));
      const loginLines = lines.filter((l) => l.request.path === 'auth/approle/login');
      expect(loginLines.map((l) => l.type)).toEqual(['request', 'response']);
      expect(loginLines[1].response.auth.client_token).toMatch(/^hmac-sha256:/);
      expect(lines.some((l) => l.type === 'request' && l.request.path === 'sys/mounts' && l.error === 'permission denied')).toBe(true);
      for (const secret of [secretId, login.body.auth.client_token, 'hvs.bogus-token']) expect(text).not.toContain(secret);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('leases never outlive their token or their auth method', () => {
  it("a single-use token's lease is revoked with the token right after its last use", async () => {
    const { app, root, policy, tokenWith, vault, log } = await setup();
    await request(app).post('/v1/sys/mounts/dyn').set(root).send({ type: 'leases' });
    await policy('creds', 'path "dyn/creds/*" { capabilities = ["read"] }');
    const token = await tokenWith(['creds'], { num_uses: 1 });
    const issued = await request(app).get('/v1/dyn/creds/once').set('X-Vault-Token', token);
    expect(issued.status).toBe(200);
    expect(vault.expiration.state(issued.body.lease_id)?.state).toBe('revoking');
    await vault.expiration.sweep();
    expect(log.revoked).toEqual([issued.body.data.username]);
  });

  it('a lease registered for a token revoked meanwhile is born revoking', async () => {
    const { root, app, vault } = await setup();
    await request(app).post('/v1/sys/mounts/dyn').set(root).send({ type: 'leases' });
    const uuid = vault.mounts.get('dyn/')?.entry.uuid as string;
    const lease = await vault.expiration.register({
      mountUuid: uuid,
      requestPath: 'creds/late',
      secret: { type: 'cred', internalData: { username: 'late' }, ttlSeconds: 60, maxTtlSeconds: 60, renewable: true },
      requester: { tokenAccessor: 'accessor-of-a-revoked-token' },
    });
    expect(vault.expiration.state(lease.leaseId)?.state).toBe('revoking');
  });

  it('disabling an auth method revokes every token it issued', async () => {
    const { app, root } = await setup();
    await request(app).post('/v1/sys/auth/approle').set(root).send({ type: 'approle' });
    await request(app).post('/v1/auth/approle/role/ci').set(root).send({ token_policies: ['default'] });
    const roleId = (await request(app).get('/v1/auth/approle/role/ci/role-id').set(root)).body.data.role_id;
    const secretId = (await request(app).post('/v1/auth/approle/role/ci/secret-id').set(root).send({})).body.data.secret_id;
    const token = (await request(app).post('/v1/auth/approle/login').send({ role_id: roleId, secret_id: secretId })).body.auth.client_token;
    const other = (await request(app).post('/v1/auth/token/create').set(root).send({ policies: ['default'] })).body.auth.client_token;
    expect((await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', token)).status).toBe(200);
    expect((await request(app).delete('/v1/sys/auth/approle').set(root)).status).toBe(204);
    expect((await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', token)).status).toBe(403);
    expect((await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', other)).status).toBe(200);
  });
});

describe('Vault status codes', () => {
  it('a spent wrapping token as the client token is a 400; queued revocations and tidy are 202; a missing mount read is a 400', async () => {
    const { app, root, vault } = await setup();
    const wrapped = await request(app).post('/v1/sys/wrapping/wrap').set(root).set('X-Vault-Wrap-TTL', '60').send({ a: 1 });
    const wrapToken = wrapped.body.wrap_info.token as string;
    expect((await request(app).post('/v1/sys/wrapping/unwrap').set('X-Vault-Token', wrapToken)).status).toBe(200);
    const again = await request(app).post('/v1/sys/wrapping/unwrap').set('X-Vault-Token', wrapToken);
    expect(again.status).toBe(400);
    expect(again.body.errors).toEqual(['wrapping token is not valid or does not exist']);

    await request(app).post('/v1/sys/mounts/dyn').set(root).send({ type: 'leases' });
    const lease = (await request(app).get('/v1/dyn/creds/x').set(root)).body.lease_id;
    expect((await request(app).put('/v1/sys/leases/revoke').set(root).send({ lease_id: lease, sync: false })).status).toBe(202);
    expect(vault.expiration.state(lease)?.state).toBe('revoking');
    expect((await request(app).post('/v1/sys/leases/tidy').set(root)).status).toBe(202);
    const missing = await request(app).get('/v1/sys/mounts/nowhere').set(root);
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual(['No secret engine mount at nowhere/']);
  });
});
