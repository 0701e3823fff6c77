// An unmodified Vault client (node-vault, over real HTTP, sending the LIST method) against Leasehold:
// init/unseal, KV v2 end to end, tokens, policies, audit, AppRole, leases and unwrap.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodeVault from 'node-vault';
import { leaseEngine } from '../helpers/lease-engine';
import { listen, newVault } from '../helpers/vault';

type Client = ReturnType<typeof nodeVault>;

describe('node-vault against a real listener', () => {
  let close: () => Promise<void>;
  let vault: Client;
  let url: string;
  let tmp: string;
  let rootToken: string;
  const engine = leaseEngine();

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-nv-'));
    const built = newVault({ registry: { leases: engine.factory } });
    const server = await listen(built.app);
    close = server.close;
    url = server.url;
    vault = nodeVault({ apiVersion: 'v1', endpoint: url });
  });
  afterAll(async () => {
    await close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('initialises and unseals', async () => {
    expect(await vault.initialized()).toEqual({ initialized: false });
    const init = await vault.init({ secret_shares: 3, secret_threshold: 2 });
    rootToken = init.root_token;
    vault.token = rootToken;
    await vault.unseal({ key: init.keys[0] });
    const status = await vault.unseal({ key: init.keys_base64[2] });
    expect(status.sealed).toBe(false);
    expect((await vault.health()).initialized).toBe(true);
  });

  it('mounts KV v2, writes versions, reads them, lists with LIST, soft-deletes, undeletes, destroys and reads metadata', async () => {
    await vault.mount({ mount_point: 'secret', type: 'kv', options: { version: '2' } });
    const mounts = await vault.mounts();
    expect(mounts['secret/'].options.version).toBe('2');

    await vault.write('secret/data/app/db', { data: { password: 'one' } });
    const v2 = await vault.write('secret/data/app/db', { data: { password: 'two' } });
    expect(v2.data.version).toBe(2);
    await vault.write('secret/data/app/api', { data: { key: 'k' } });

    expect((await vault.read('secret/data/app/db')).data.data).toEqual({ password: 'two' });
    expect((await vault.read('secret/data/app/db?version=1')).data.data).toEqual({ password: 'one' });

    const listed = await vault.list('secret/metadata/app');
    expect(listed.data.keys).toEqual(['api', 'db']);
    const top = await vault.list('secret/metadata/');
    expect(top.data.keys).toEqual(['app/']);

    await vault.delete('secret/data/app/db');
    await expect(vault.read('secret/data/app/db')).rejects.toMatchObject({ response: { statusCode: 404 } });
    await vault.write('secret/undelete/app/db', { versions: [2] });
    expect((await vault.read('secret/data/app/db')).data.data).toEqual({ password: 'two' });

    await vault.destroySecretVersions({ mount_point: 'secret', path: 'app/db', versions: [1] });
    const meta = await vault.read('secret/metadata/app/db');
    expect(meta.data.current_version).toBe(2);
    expect(meta.data.versions['1'].destroyed).toBe(true);
    expect(meta.data.versions['2'].destroyed).toBe(false);
  });

  it('manages policies, tokens and audit devices', async () => {
    await vault.addPolicy({ name: 'app-reader', rules: 'path "secret/data/app/*" { capabilities = ["read"] }' });
    expect((await vault.getPolicy({ name: 'app-reader' })).rules).toContain('secret/data/app/*');
    expect((await vault.policies()).policies).toContain('app-reader');

    const logFile = path.join(tmp, 'audit.log');
    await vault.enableAudit({ name: 'file', type: 'file', options: { file_path: logFile } });
    expect(Object.keys(await vault.audits())).toContain('file/');

    const created = await vault.tokenCreate({ policies: ['app-reader'], ttl: '1h' });
    // node-vault switches the client to a token it creates (tokenSource); switch back to root.
    expect(vault.token).toBe(created.auth.client_token);
    vault.token = rootToken;
    const app = nodeVault({ apiVersion: 'v1', endpoint: url, token: created.auth.client_token });
    expect((await app.read('secret/data/app/api')).data.data).toEqual({ key: 'k' });
    await expect(app.read('secret/metadata/app/api')).rejects.toMatchObject({ response: { statusCode: 403 } });
    const self = await app.tokenLookupSelf();
    expect(self.data).toMatchObject({ policies: ['app-reader', 'default'], type: 'service' });
    expect((await app.tokenRenewSelf({ increment: '30m' })).auth.lease_duration).toBe(1800);
    expect((await vault.tokenLookupAccessor({ accessor: created.auth.accessor })).data.display_name).toBe('token');
    expect((await vault.tokenAccessors()).data.keys).toContain(created.auth.accessor);

    const audit = fs.readFileSync(logFile, 'utf8');
    expect(audit).toContain('"type":"request"');
    expect(audit).not.toContain(created.auth.client_token);

    await vault.tokenRevoke({ token: created.auth.client_token });
    await expect(app.tokenLookupSelf()).rejects.toMatchObject({ response: { statusCode: 403 } });
    await vault.disableAudit({ name: 'file' });
    expect(Object.keys(await vault.audits())).not.toContain('file/');
  });

  it('logs in with AppRole', async () => {
    await vault.enableAuth({ mount_point: 'approle', type: 'approle' });
    expect(Object.keys(await vault.auths())).toContain('approle/');
    await vault.addApproleRole({ role_name: 'ci', policies: 'app-reader' });
    const roleId = (await vault.getApproleRoleId({ role_name: 'ci' })).data.role_id;
    const secretId = (await vault.getApproleRoleSecret({ role_name: 'ci' })).data.secret_id;
    const login = await vault.approleLogin({ role_id: roleId, secret_id: secretId });
    vault.token = rootToken;
    expect(login.auth.policies).toContain('app-reader');
    const app = nodeVault({ apiVersion: 'v1', endpoint: url, token: login.auth.client_token });
    expect((await app.read('secret/data/app/api')).data.data).toEqual({ key: 'k' });
  });

  it('renews and revokes leases, and unwraps', async () => {
    await vault.mount({ mount_point: 'dyn', type: 'leases' });
    const issued = await vault.read('dyn/creds/web?ttl=60');
    const renewed = await vault.renew({ lease_id: issued.lease_id, increment: 120 });
    expect(renewed.lease_duration).toBe(120);
    await vault.revoke({ lease_id: issued.lease_id });
    expect(engine.log.revoked).toContain(issued.data.username);

    const wrapped = await vault.write('sys/wrapping/wrap', { answer: '42' }, { headers: { 'X-Vault-Wrap-TTL': '60' } });
    const unwrapped = await vault.unwrap({ token: wrapped.wrap_info.token });
    expect(unwrapped.data).toEqual({ answer: '42' });
  });
});
