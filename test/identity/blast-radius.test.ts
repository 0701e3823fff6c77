// Blast radius: exactly the KV keys and mintable database and auth roles a policy allows, with `*`,
// `+` and `deny` deciding as at request time, plus the identity's live tokens and leases.
import request from 'supertest';
import { databaseVault } from '../engines/database/setup';

const POLICY = `
path "kv/team/*" { capabilities = ["read"] }
path "kv/team/admin" { capabilities = ["deny"] }
path "kv2/data/+/one" { capabilities = ["read"] }
path "database/creds/*" { capabilities = ["read"] }
path "database/creds/admin" { capabilities = ["deny"] }
path "auth/approle/role/+/secret-id" { capabilities = ["update"] }
path "sys/leases/*" { capabilities = ["read", "sudo"] }
`;

describe('sys/governance/blast-radius', () => {
  it('shows the reach of an entity\'s policies and its holdings', async () => {
    const s = await databaseVault();
    try {
      const root = s.root;
      await request(s.app).post('/v1/sys/mounts/kv').set(root).send({ type: 'kv' });
      await request(s.app).post('/v1/sys/mounts/kv2').set(root).send({ type: 'kv', options: { version: '2' } });
      for (const key of ['team/a', 'team/b', 'team/admin', 'other/x']) expect((await request(s.app).put(`/v1/kv/${key}`).set(root).send({ v: '1' })).status).toBe(204);
      for (const key of ['app/one', 'app/two', 'web/one/deeper']) expect((await request(s.app).post(`/v1/kv2/data/${key}`).set(root).send({ data: { v: '1' } })).status).toBe(200);
      await s.role('ro', { creation_statements: [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";`] });
      await s.role('rw');
      await s.role('admin');
      await request(s.app).put('/v1/sys/policy/reach').set(root).send({ policy: POLICY });
      await request(s.app).post('/v1/sys/auth/approle').set(root).send({ type: 'approle' });
      await request(s.app).post('/v1/auth/approle/role/app').set(root).send({ token_policies: ['default'], owner: 'team-app' });
      const roleId = (await request(s.app).get('/v1/auth/approle/role/app/role-id').set(root)).body.data.role_id;
      const secretId = (await request(s.app).post('/v1/auth/approle/role/app/secret-id').set(root)).body.data.secret_id;
      const auth = (await request(s.app).post('/v1/auth/approle/login').send({ role_id: roleId, secret_id: secretId })).body.auth;
      await request(s.app).post(`/v1/identity/entity/id/${auth.entity_id}`).set(root).send({ policies: ['reach'] });
      const cred = await request(s.app).get('/v1/database/creds/ro').set('X-Vault-Token', auth.client_token);
      expect(cred.status).toBe(200);
      expect((await request(s.app).get('/v1/database/creds/admin').set('X-Vault-Token', auth.client_token)).status).toBe(403);

      const res = await request(s.app).get(`/v1/sys/governance/blast-radius/${auth.entity_id}`).set(root);
      expect(res.status).toBe(200);
      const data = res.body.data;
      expect(data.entity).toMatchObject({ id: auth.entity_id, owner: '', disabled: false });
      expect(data.policies).toEqual(['default', 'reach']);
      const item = (mount: string, path: string) => data.reach.find((r: any) => r.mount === mount && r.path === path);
      const names = (i: any) => i.targets.first.map((t: any) => t.name).sort();
      expect(item('kv/', 'kv/team/*').targets.count).toBe(2);
      expect(names(item('kv/', 'kv/team/*'))).toEqual(['team/a', 'team/b']);
      expect(data.reach.some((r: any) => r.path === 'kv/team/admin')).toBe(false);
      expect(item('kv2/', 'kv2/data/+/one').targets.count).toBe(1);
      expect(names(item('kv2/', 'kv2/data/+/one'))).toEqual(['app/one']);
      const db = item('database/', 'database/creds/*');
      expect(db.capabilities).toEqual(['read']);
      expect(names(db)).toEqual(['ro', 'rw']);
      const ro = db.targets.first.find((t: any) => t.name === 'ro');
      expect(ro).toMatchObject({ kind: 'database_role', db_name: 'pg' });
      expect(ro.grants).toEqual(['GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}"']);
      expect(names(item('auth/approle/', 'auth/approle/role/+/secret-id'))).toEqual(['app']);
      expect(item('sys/', 'sys/leases/*').targets.sudo).toBe(true);
      expect(data.holds.tokens).toEqual([expect.objectContaining({ accessor: auth.accessor, policies: ['default'] })]);
      expect(data.holds.leases).toEqual([expect.objectContaining({ lease_id: cred.body.lease_id, mount: 'database/', username: cred.body.data.username })]);
      expect(data.summary).toMatchObject({ roles_mintable: 3, live_credentials: 2 });
      expect(data.summary.paths_reachable).toBe(6);
      expect(data.summary.latest_expiry).toBe([...data.holds.tokens.map((t: any) => t.expire_time), data.holds.leases[0].expire_time].sort().pop());

      // A token without an entity, by accessor.
      const plain = (await request(s.app).post('/v1/auth/token/create').set(root).send({ policies: ['reach'] })).body.auth;
      const byAccessor = await request(s.app).get(`/v1/sys/governance/blast-radius?accessor=${plain.accessor}`).set(root);
      expect(byAccessor.status).toBe(200);
      expect(byAccessor.body.data.holds.tokens.map((t: any) => t.accessor)).toEqual([plain.accessor]);
      expect(byAccessor.body.data.summary.roles_mintable).toBe(3);
      expect((await request(s.app).get('/v1/sys/governance/blast-radius/00000000-0000-0000-0000-000000000000').set(root)).status).toBe(404);
      await s.vault.expiration.revoke(cred.body.lease_id, { sync: true });
    } finally {
      await s.close();
    }
  });
});
