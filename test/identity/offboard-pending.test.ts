// Offboarding with an unreachable backend: the lease is reported pending, never revoked, and stays
// queued and visible for the scheduler's retries.
import request from 'supertest';
import { approleCredsVault } from './approle-creds-vault';

describe('offboarding while a backend is down', () => {
  it('reports leases the backend did not confirm as pending and keeps them for retry', async () => {
    const { engine, root, ...v } = await approleCredsVault();
    await request(v.app).post('/v1/auth/approle/role/app').set(root).send({ token_policies: ['creds'] });
    const roleId = (await request(v.app).get('/v1/auth/approle/role/app/role-id').set(root)).body.data.role_id;
    const secretId = (await request(v.app).post('/v1/auth/approle/role/app/secret-id').set(root)).body.data.secret_id;
    const auth = (await request(v.app).post('/v1/auth/approle/login').send({ role_id: roleId, secret_id: secretId })).body.auth;
    const up = (await request(v.app).get('/v1/creds/creds/a').set('X-Vault-Token', auth.client_token)).body.lease_id as string;
    const down = (await request(v.app).get('/v1/creds/creds/b').set('X-Vault-Token', auth.client_token)).body.lease_id as string;
    // Revoke the first while the backend answers, then take it down for the second.
    await v.vault.expiration.revoke(up, { sync: true });
    engine.log.failRevocations = true;

    const res = await request(v.app).post('/v1/sys/governance/offboard').set(root).send({ entity_id: auth.entity_id, reason: 'incident' });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ entities: 1, entities_disabled: 1, tokens_revoked: 1, leases_revoked: 0, leases_pending: 1 });
    expect(v.vault.expiration.state(down)?.state).not.toBe('revoked');
    expect(v.vault.expiration.state(down)?.lastError).toContain('connection refused');

    engine.log.failRevocations = false;
    await v.vault.expiration.revoke(down, { sync: true });
    expect(v.vault.expiration.state(down)?.state).toBe('revoked');
  });
});
