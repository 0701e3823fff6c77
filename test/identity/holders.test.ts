// Holder and owner on every token and lease: two AppRole roles with different owners issue
// tokens and leases that record two different holders, the roles' owners, the issuing mount
// accessor and role, in indexed columns, and show them in the lookups.
import request from 'supertest';
import { unsealedVault } from '../helpers/vault';
import { approleCredsVault } from './approle-creds-vault';

describe('holders and owners of tokens and leases', () => {
  it('records two holders and the roles\' owners for two AppRole roles; the entity owner wins', async () => {
    const { root, ...v } = await approleCredsVault();
    const accessor = (await request(v.app).get('/v1/sys/auth').set(root)).body.data['approle/'].accessor as string;
    const loginAs = async (role: string, owner: string) => {
      expect((await request(v.app).post(`/v1/auth/approle/role/${role}`).set(root).send({ token_policies: ['creds'], owner })).status).toBe(204);
      expect((await request(v.app).get(`/v1/auth/approle/role/${role}`).set(root)).body.data.owner).toBe(owner);
      const roleId = (await request(v.app).get(`/v1/auth/approle/role/${role}/role-id`).set(root)).body.data.role_id;
      const secretId = (await request(v.app).post(`/v1/auth/approle/role/${role}/secret-id`).set(root)).body.data.secret_id;
      const login = await request(v.app).post('/v1/auth/approle/login').send({ role_id: roleId, secret_id: secretId });
      expect(login.status).toBe(200);
      const lease = await request(v.app).get('/v1/creds/creds/app').set('X-Vault-Token', login.body.auth.client_token);
      expect(lease.status).toBe(200);
      return { auth: login.body.auth, leaseId: lease.body.lease_id as string };
    };
    const billing = await loginAs('billing', 'team-billing');
    const search = await loginAs('search', 'team-search');
    expect(billing.auth.entity_id).not.toBe(search.auth.entity_id);

    for (const [who, owner, role] of [[billing, 'team-billing', 'billing'], [search, 'team-search', 'search']] as const) {
      const lookup = await request(v.app).put('/v1/sys/leases/lookup').set(root).send({ lease_id: who.leaseId });
      expect(lookup.body.data).toMatchObject({ id: who.leaseId, entity_id: who.auth.entity_id, owner, role });
      const token = await request(v.app).post('/v1/auth/token/lookup-accessor').set(root).send({ accessor: who.auth.accessor });
      expect(token.body.data).toMatchObject({ entity_id: who.auth.entity_id, owner });
      // Indexed plaintext columns, queried as offboarding will.
      expect(v.db.prepare('SELECT entity_id, owner, mount_accessor, role_name FROM leases WHERE lease_id = ?').get(who.leaseId)).toEqual({ entity_id: who.auth.entity_id, owner, mount_accessor: accessor, role_name: role });
      expect(v.db.prepare('SELECT entity_id, owner, mount_accessor, role_name FROM tokens WHERE accessor = ?').get(who.auth.accessor)).toEqual({ entity_id: who.auth.entity_id, owner, mount_accessor: accessor, role_name: role });
    }
    // The request context is in the encrypted payload, not in plaintext.
    const payload = v.db.prepare('SELECT payload FROM leases WHERE lease_id = ?').get(billing.leaseId) as { payload: Buffer };
    expect(payload.payload.toString('latin1')).not.toContain('127.0.0.1');

    // The entity's metadata.owner wins over the role's.
    await request(v.app).post(`/v1/identity/entity/id/${billing.auth.entity_id}`).set(root).send({ metadata: { owner: 'alice' } });
    const again = await loginAs('billing', 'team-billing');
    expect(again.auth.entity_id).toBe(billing.auth.entity_id);
    expect((await request(v.app).put('/v1/sys/leases/lookup').set(root).send({ lease_id: again.leaseId })).body.data.owner).toBe('alice');
  });

  it('records a token role\'s owner on tokens it creates, and leaves rows without a holder null', async () => {
    const v = await unsealedVault();
    const root = { 'X-Vault-Token': v.rootToken };
    expect((await request(v.app).post('/v1/auth/token/roles/ops').set(root).send({ allowed_policies: ['default'], owner: 'team-ops' })).status).toBe(204);
    expect((await request(v.app).get('/v1/auth/token/roles/ops').set(root)).body.data.owner).toBe('team-ops');
    const created = await request(v.app).post('/v1/auth/token/create/ops').set(root).send({ owner: 'someone-else' });
    expect(created.status).toBe(200);
    const row = v.db.prepare('SELECT entity_id, owner, mount_accessor, role_name FROM tokens WHERE accessor = ?').get(created.body.auth.accessor);
    const tokenAccessor = (await request(v.app).get('/v1/sys/auth').set(root)).body.data['token/'].accessor;
    expect(tokenAccessor).toMatch(/^auth_token_[0-9a-f]{8}$/);
    expect(row).toEqual({ entity_id: null, owner: 'team-ops', mount_accessor: tokenAccessor, role_name: 'ops' });
  });
});
