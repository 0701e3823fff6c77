// GET sys/governance/ledger and .../verify over real HTTP: filters, pages, RFC 3339 bounds, and the ACL.
import request from 'supertest';
import { ManualClock } from '../../src/util/clock';
import { unsealedVault } from '../helpers/vault';

async function setup() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const v = await unsealedVault({ clock });
  const root = { 'X-Vault-Token': v.rootToken };
  const tokenWith = async (policies: string[]) => (await request(v.app).post('/v1/auth/token/create').set(root).send({ policies })).body.auth.client_token as string;
  return { ...v, clock, root, tokenWith };
}

describe('sys/governance/ledger', () => {
  it('filters, pages oldest first with an opaque cursor, and bounds by time', async () => {
    const { app, vault, clock, root } = await setup();
    for (let i = 0; i < 5; i++) {
      vault.ledger.record({ event: 'lease.issued', leaseId: `database/creds/ro/${i}`, mount: 'database/', owner: i % 2 === 0 ? 'team-a' : 'team-b', entityId: `ent-${i % 2}` });
      clock.advanceSeconds(60);
    }
    const first = await request(app).get('/v1/sys/governance/ledger').query({ owner: 'team-a', limit: 2 }).set(root);
    expect(first.status).toBe(200);
    expect(first.body.data.events.map((e: { lease_id: string }) => e.lease_id)).toEqual(['database/creds/ro/0', 'database/creds/ro/2']);
    expect(typeof first.body.data.next).toBe('string');
    const second = await request(app).get('/v1/sys/governance/ledger').query({ owner: 'team-a', limit: 2, after: first.body.data.next }).set(root);
    expect(second.body.data.events.map((e: { lease_id: string }) => e.lease_id)).toEqual(['database/creds/ro/4']);
    expect(second.body.data.next).toBeNull();

    const byEntity = await request(app).get('/v1/sys/governance/ledger').query({ entity_id: 'ent-1', event: 'lease.issued' }).set(root);
    expect(byEntity.body.data.events).toHaveLength(2);
    const byLease = await request(app).get('/v1/sys/governance/ledger').query({ lease_id: 'database/creds/ro/3', mount: 'database/' }).set(root);
    expect(byLease.body.data.events).toHaveLength(1);
    expect(byLease.body.data.events[0]).toMatchObject({ event: 'lease.issued', owner: 'team-b', at: '2026-01-01T00:03:00.000Z' });
    expect(byLease.body.data.events[0].hash).toMatch(/^[0-9a-f]{64}$/);

    const window = await request(app).get('/v1/sys/governance/ledger').query({ event: 'lease.issued', since: '2026-01-01T00:01:00Z', until: '2026-01-01T01:02:00+01:00' }).set(root);
    expect(window.body.data.events.map((e: { lease_id: string }) => e.lease_id)).toEqual(['database/creds/ro/1', 'database/creds/ro/2']);
  });

  it('rejects bad times, bad cursors and oversized pages', async () => {
    const { app, root } = await setup();
    expect((await request(app).get('/v1/sys/governance/ledger').query({ since: 'yesterday' }).set(root)).status).toBe(400);
    expect((await request(app).get('/v1/sys/governance/ledger').query({ after: 'bm9wZQ' }).set(root)).status).toBe(400);
    expect((await request(app).get('/v1/sys/governance/ledger').query({ limit: 1001 }).set(root)).status).toBe(400);
  });

  it('verify answers verified and the event count', async () => {
    const { app, vault, root } = await setup();
    vault.ledger.record({ event: 'token.created', accessor: 'a' });
    const res = await request(app).get('/v1/sys/governance/ledger/verify').set(root);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ verified: true, events: vault.ledger.count() });
  });

  it('is an ordinary ACL path: refused without a policy on it, allowed with read', async () => {
    const { app, vault, root, tokenWith } = await setup();
    vault.ledger.record({ event: 'token.created', accessor: 'a' });
    const plain = { 'X-Vault-Token': await tokenWith(['default']) };
    expect((await request(app).get('/v1/sys/governance/ledger').set(plain)).status).toBe(403);
    expect((await request(app).get('/v1/sys/governance/ledger/verify').set(plain)).status).toBe(403);
    await request(app).put('/v1/sys/policies/acl/auditor').set(root).send({ policy: 'path "sys/governance/ledger" { capabilities = ["read"] }\npath "sys/governance/ledger/verify" { capabilities = ["read"] }' });
    const auditor = { 'X-Vault-Token': await tokenWith(['auditor']) };
    expect((await request(app).get('/v1/sys/governance/ledger').set(auditor)).status).toBe(200);
    expect((await request(app).get('/v1/sys/governance/ledger/verify').set(auditor)).body.data.verified).toBe(true);
  });
});
