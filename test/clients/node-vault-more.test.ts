// node-vault's calls beyond the basic tour, unmodified, over real HTTP: token self-service and
// roles, AppRole secret-id accessors, policy and mount removal, revoke-prefix, key rotation, leader
// and status. Each call is the client's own request; the assertions read what it returns.
import nodeVault from 'node-vault';
import { leaseEngine } from '../helpers/lease-engine';
import { listen, unsealedVault } from '../helpers/vault';

describe('node-vault: more of its API', () => {
  const engine = leaseEngine();
  let close: () => Promise<void>;
  let vault: ReturnType<typeof nodeVault>;
  let rootToken: string;

  beforeAll(async () => {
    const built = await unsealedVault({ registry: { leases: engine.factory } });
    const server = await listen(built.app);
    close = server.close;
    rootToken = built.rootToken;
    vault = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: rootToken });
  });
  afterAll(async () => close());

  /** node-vault adopts the token of every token-create and renew answer (`tokenSource`): go back to root after one. */
  async function keepRoot<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } finally {
      vault.token = rootToken;
    }
  }

  it('status, leader and key rotation', async () => {
    expect(await vault.status()).toMatchObject({ sealed: false, t: 1, n: 1 });
    expect(await vault.leader()).toMatchObject({ ha_enabled: false });
    await vault.rotate();
    const status = await vault.request({ path: '/sys/key-status', method: 'GET' });
    expect(status.data?.term ?? status.term).toBe(2);
  });

  it('token self-service, orphans, roles, lookup and revocation by accessor', async () => {
    const child = await keepRoot(vault.tokenCreate({ policies: ['default'], ttl: '1h' }));
    // node-vault clients share their request headers, so the self-service calls swap this client's token.
    vault.token = child.auth.client_token;
    expect((await vault.tokenLookupSelf()).data.policies).toEqual(['default']);
    expect((await keepRoot(vault.tokenRenewSelf({ increment: '2h' }))).auth.lease_duration).toBeGreaterThan(3600);
    vault.token = rootToken;
    expect((await vault.tokenLookup({ token: child.auth.client_token })).data.accessor).toBe(child.auth.accessor);
    expect((await keepRoot(vault.tokenRenew({ token: child.auth.client_token }))).auth.client_token).toBe(child.auth.client_token);

    const orphan = await keepRoot(vault.tokenCreateOrphan({ policies: ['default'] }));
    expect((await vault.tokenLookup({ token: orphan.auth.client_token })).data.orphan).toBe(true);

    await vault.addTokenRole({ role_name: 'ci', allowed_policies: 'default', orphan: true });
    expect((await vault.tokenRoles()).data.keys).toContain('ci');
    expect((await vault.getTokenRole({ role_name: 'ci' })).data.allowed_policies).toEqual(['default']);
    const fromRole = await keepRoot(vault.tokenCreateRole({ role_name: 'ci' }));
    expect((await vault.tokenLookup({ token: fromRole.auth.client_token })).data.path).toBe('auth/token/create/ci');
    await vault.removeTokenRole({ role_name: 'ci' });
    expect((await vault.tokenRoles().catch((e: { response: { statusCode: number } }) => e.response.statusCode))).toBe(404);

    await vault.tokenRevokeAccessor({ accessor: orphan.auth.accessor });
    await expect(vault.tokenLookup({ token: orphan.auth.client_token })).rejects.toThrow('bad token');
    vault.token = child.auth.client_token;
    await vault.tokenRevokeSelf();
    vault.token = rootToken;
    await expect(vault.tokenLookup({ token: child.auth.client_token })).rejects.toThrow('bad token');
  });

  it('AppRole roles and secret-id accessors: list, look up, destroy', async () => {
    await vault.enableAuth({ mount_point: 'approle', type: 'approle' });
    await vault.addApproleRole({ role_name: 'app', policies: 'default' });
    expect((await vault.approleRoles()).data.keys).toEqual(['app']);
    expect((await vault.getApproleRole({ role_name: 'app' })).data.token_policies).toEqual(['default']);
    const secret = await vault.getApproleRoleSecret({ role_name: 'app' });
    const accessors = (await vault.approleSecretAccessors({ role_name: 'app' })).data.keys;
    expect(accessors).toEqual([secret.data.secret_id_accessor]);
    expect((await vault.approleSecretLookup({ role_name: 'app', secret_id: secret.data.secret_id })).data.secret_id_accessor).toBe(secret.data.secret_id_accessor);
    expect((await vault.approleSecretAccessorLookup({ role_name: 'app', secret_id_accessor: secret.data.secret_id_accessor })).data.secret_id_num_uses).toBe(0);
    await vault.approleSecretAccessorDestroy({ role_name: 'app', secret_id_accessor: secret.data.secret_id_accessor });
    const roleId = (await vault.getApproleRoleId({ role_name: 'app' })).data.role_id;
    await expect(vault.approleLogin({ role_id: roleId, secret_id: secret.data.secret_id })).rejects.toMatchObject({ response: { statusCode: 400 } });
    await vault.deleteApproleRole({ role_name: 'app' });
    await vault.disableAuth({ mount_point: 'approle' });
    expect(Object.keys(await vault.auths())).not.toContain('approle/');
  });

  it('removes policies and mounts, and revokes leases by prefix', async () => {
    await vault.addPolicy({ name: 'gone', rules: 'path "x/*" { capabilities = ["read"] }' });
    await vault.removePolicy({ name: 'gone' });
    expect((await vault.policies()).policies).not.toContain('gone');

    await vault.mount({ mount_point: 'dyn', type: 'leases' });
    const before = engine.log.revoked.length;
    await vault.read('dyn/creds/a');
    await vault.read('dyn/creds/b');
    await vault.revokePrefix({ path_prefix: 'dyn/' });
    expect(engine.log.revoked.length - before).toBe(2);
    await vault.unmount({ mount_point: 'dyn' });
    expect(Object.keys(await vault.mounts())).not.toContain('dyn/');
  });
});
