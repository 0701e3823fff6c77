// The identity operations reach the ledger with their holder: a first login's entity.created, a
// token held by that entity, an offboarding (offboarded + entity.disabled), and the chain still verifies.
import request from 'supertest';
import { unsealedVault } from '../helpers/vault';

describe('ledger events of identities and offboarding', () => {
  it('records entity.created at first login, the token holder, the offboarding and the disable', async () => {
    const { app, vault, rootToken } = await unsealedVault();
    const root = { 'X-Vault-Token': rootToken };
    await request(app).post('/v1/sys/auth/approle').set(root).send({ type: 'approle' }).expect(204);
    await request(app).post('/v1/auth/approle/role/ci').set(root).send({ token_policies: 'default', owner: 'team-ci' }).expect(204);
    const roleId = (await request(app).get('/v1/auth/approle/role/ci/role-id').set(root)).body.data.role_id as string;
    const secretId = (await request(app).post('/v1/auth/approle/role/ci/secret-id').set(root).send({})).body.data.secret_id as string;
    const login = await request(app).post('/v1/auth/approle/login').send({ role_id: roleId, secret_id: secretId }).expect(200);
    const entityId = login.body.auth.entity_id as string;
    expect(entityId).toMatch(/^[0-9a-f-]{36}$/);

    const events = async (query: Record<string, string>) => (await request(app).get('/v1/sys/governance/ledger').query(query).set(root)).body.data.events as Array<Record<string, unknown>>;
    expect(await events({ event: 'entity.created', entity_id: entityId })).toHaveLength(1);
    const created = await events({ event: 'token.created', entity_id: entityId });
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ accessor: login.body.auth.accessor, owner: 'team-ci' });

    const off = await request(app).post('/v1/sys/governance/offboard').set(root).send({ entity_id: entityId, reason: 'left the team' }).expect(200);
    expect(off.body.data.tokens_revoked).toBe(1);
    const offboarded = await events({ event: 'offboarded' });
    expect(offboarded).toHaveLength(1);
    expect(offboarded[0]).toMatchObject({ entity_id: entityId, reason: 'left the team' });
    expect(await events({ event: 'entity.disabled', entity_id: entityId })).toHaveLength(1);
    expect((await events({ event: 'token.revoked' })).map((e) => e.accessor)).toContain(login.body.auth.accessor);
    const verify = await request(app).get('/v1/sys/governance/ledger/verify').set(root);
    expect(verify.body.data.verified).toBe(true);
    expect(vault.ledger.count()).toBeGreaterThan(4);
  });
});
