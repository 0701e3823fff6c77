// Every token and lease lifecycle event, and static-secret releases, land in the ledger through
// real HTTP requests, with the right holder, owner and actor; the chain verifies; no secret value is in it.
import request from 'supertest';
import { ManualClock } from '../../src/util/clock';
import { leaseEngine } from '../helpers/lease-engine';
import { unsealedVault } from '../helpers/vault';

interface Event {
  seq: number;
  event: string;
  owner: string | null;
  actor: string | null;
  accessor: string | null;
  lease_id: string | null;
  mount: string | null;
  path: string | null;
  reason: string | null;
  detail: string | null;
  request_id: string | null;
}

async function setup() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const engine = leaseEngine();
  const v = await unsealedVault({ clock, registry: { leases: engine.factory }, expiration: { maxRevokeAttempts: 2, baseBackoffMs: 1, maxBackoffMs: 1 } });
  const root = { 'X-Vault-Token': v.rootToken };
  expect((await request(v.app).post('/v1/sys/mounts/test').set(root).send({ type: 'leases' })).status).toBe(204);
  const events = async (query: Record<string, string> = {}): Promise<Event[]> => {
    const res = await request(v.app).get('/v1/sys/governance/ledger').query({ limit: 1000, ...query }).set(root);
    expect(res.status).toBe(200);
    return res.body.data.events as Event[];
  };
  return { ...v, clock, root, log: engine.log, events };
}

describe('ledger events at their sources', () => {
  it('records token created, revoked and expired, with owner and actor', async () => {
    const { app, vault, root, clock, events } = await setup();
    const created = await request(app).post('/v1/auth/token/create').set(root).send({ policies: ['root'], owner: 'team-a', ttl: '1h' });
    const accessor = created.body.auth.accessor as string;
    const child = await request(app).post('/v1/auth/token/create').set({ 'X-Vault-Token': created.body.auth.client_token }).send({ policies: ['default'] });
    const childAccessor = child.body.auth.accessor as string;
    const rootAccessor = (await request(app).get('/v1/auth/token/lookup-self').set(root)).body.data.accessor as string;
    const tokenCreated = (await events({ event: 'token.created' })).filter((e) => e.accessor === accessor || e.accessor === childAccessor);
    expect(tokenCreated).toEqual([
      expect.objectContaining({ accessor, owner: 'team-a', actor: rootAccessor, mount: 'auth/token/' }),
      expect.objectContaining({ accessor: childAccessor, owner: 'team-a', actor: accessor }),
    ]);

    clock.advanceSeconds(3601);
    expect(vault.revokeExpiredTokens()).toBe(2);
    const gone = (await events()).filter((e) => e.event === 'token.expired' || e.event === 'token.revoked');
    expect(gone).toEqual([
      expect.objectContaining({ event: 'token.expired', accessor, actor: 'scheduler', reason: 'expired' }),
      expect.objectContaining({ event: 'token.revoked', accessor: childAccessor, actor: 'scheduler', reason: 'parent expired' }),
    ]);

    const other = await request(app).post('/v1/auth/token/create').set(root).send({ policies: ['default'] });
    await request(app).post('/v1/auth/token/revoke-accessor').set(root).send({ accessor: other.body.auth.accessor });
    expect(await events({ event: 'token.revoked' })).toEqual(expect.arrayContaining([expect.objectContaining({ accessor: other.body.auth.accessor, reason: null })]));
  });

  it('records lease issued, renewed, revoked, expired, revoke_failed and irrevocable', async () => {
    const { app, vault, root, clock, log, events } = await setup();
    const created = await request(app).post('/v1/auth/token/create').set(root).send({ policies: ['root'], owner: 'team-db' });
    const holder = { 'X-Vault-Token': created.body.auth.client_token as string };
    const accessor = created.body.auth.accessor as string;

    const a = (await request(app).get('/v1/test/creds/app?ttl=60&max_ttl=600').set(holder)).body.lease_id as string;
    expect((await request(app).put('/v1/sys/leases/renew').set(holder).send({ lease_id: a, increment: 120 })).status).toBe(200);
    expect((await request(app).put('/v1/sys/leases/revoke').set(holder).send({ lease_id: a })).status).toBe(204);
    const ofA = await events({ lease_id: a });
    expect(ofA.map((e) => e.event)).toEqual(['lease.issued', 'lease.renewed', 'lease.revoked']);
    for (const e of ofA) expect(e).toMatchObject({ owner: 'team-db', accessor, mount: 'test/', path: 'test/creds/app' });
    expect(ofA[0]).toMatchObject({ actor: accessor, detail: 'ttl=60s' });
    expect(ofA[2]).toMatchObject({ reason: 'revoked' });

    const b = (await request(app).get('/v1/test/creds/app?ttl=60').set(holder)).body.lease_id as string;
    clock.advanceSeconds(61);
    await vault.expiration.sweep();
    expect((await events({ lease_id: b })).map((e) => [e.event, e.actor, e.reason])).toEqual([
      ['lease.issued', accessor, null],
      ['lease.expired', 'scheduler', 'expired'],
    ]);

    const c = (await request(app).get('/v1/test/creds/app?ttl=60').set(holder)).body.lease_id as string;
    log.failRevocations = true;
    clock.advanceSeconds(61);
    await vault.expiration.sweep();
    clock.advanceSeconds(5);
    await vault.expiration.sweep();
    const ofC = await events({ lease_id: c });
    expect(ofC.map((e) => e.event)).toEqual(['lease.issued', 'lease.revoke_failed', 'lease.irrevocable']);
    expect(ofC[1]).toMatchObject({ actor: 'scheduler', reason: 'expired', detail: expect.stringContaining('connection refused') });

    expect((await request(app).get('/v1/sys/governance/ledger/verify').set(root)).body.data).toMatchObject({ verified: true });
  });

  it('records a KV read as secret.released (path and version, never the value), buffered off the read path', async () => {
    const { app, vault, root, events } = await setup();
    expect((await request(app).post('/v1/sys/mounts/kv').set(root).send({ type: 'kv', options: { version: '2' } })).status).toBe(204);
    expect((await request(app).post('/v1/sys/mounts/kv1').set(root).send({ type: 'kv', options: { version: '1' } })).status).toBe(204);
    await request(app).post('/v1/kv/data/app').set(root).send({ data: { password: 's3cr3t-value' } });
    await request(app).post('/v1/kv1/app').set(root).send({ password: 's3cr3t-value' });
    const created = await request(app).post('/v1/auth/token/create').set(root).send({ policies: ['root'], owner: 'team-kv' });
    const holder = { 'X-Vault-Token': created.body.auth.client_token as string };

    const before = vault.ledger.count();
    const read = await request(app).get('/v1/kv/data/app').set(holder);
    expect(read.status).toBe(200);
    // Not written synchronously by the read: still in the buffer when the response arrives.
    expect((vault.deps.db.prepare('SELECT COUNT(*) AS n FROM ledger_events').get() as { n: number }).n).toBe(before);
    await request(app).get('/v1/kv/metadata/app').set(holder);
    await request(app).get('/v1/kv1/app').set(holder);

    const released = await events({ event: 'secret.released' });
    expect(released.map((e) => [e.path, e.detail, e.owner, e.accessor])).toEqual([
      ['kv/data/app', 'version=1', 'team-kv', created.body.auth.accessor],
      ['kv1/app', null, 'team-kv', created.body.auth.accessor],
    ]);
    expect(released[0]?.request_id).toEqual(read.body.request_id);
    const all = JSON.stringify(await events());
    expect(all).not.toContain('s3cr3t-value');
    expect((await request(app).get('/v1/sys/governance/ledger/verify').set(root)).body.data.verified).toBe(true);
  });
});
