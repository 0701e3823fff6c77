// The lease lifecycle through HTTP: issue, lookup, renew within max, revoke, expiry by the real
// scheduler, retries with backoff, irrevocable and revoke-force, token cascade, and the ledger.
import request from 'supertest';
import { ManualClock } from '../../src/util/clock';
import { leaseEngine } from '../helpers/lease-engine';
import { unsealedVault, type VaultOptions } from '../helpers/vault';

async function setup(options: VaultOptions = {}) {
  const engine = leaseEngine();
  const v = await unsealedVault({ ...options, registry: { leases: engine.factory } });
  const root = { 'X-Vault-Token': v.rootToken };
  expect((await request(v.app).post('/v1/sys/mounts/test').set(root).send({ type: 'leases' })).status).toBe(204);
  return { ...v, root, log: engine.log };
}

describe('issuing and managing leases', () => {
  it('mints lease ids <mount>/<path>/<random>, looks them up, renews within max and revokes', async () => {
    const clock = new ManualClock();
    const { app, root, log, vault } = await setup({ clock });
    const issued = await request(app).get('/v1/test/creds/app?ttl=60&max_ttl=100').set(root);
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ renewable: true, lease_duration: 60, data: { username: 'u-app-1' } });
    const leaseId = issued.body.lease_id as string;
    expect(leaseId).toMatch(/^test\/creds\/app\/[A-Za-z0-9]{24}$/);

    const lookup = await request(app).put('/v1/sys/leases/lookup').set(root).send({ lease_id: leaseId });
    expect(lookup.body.data).toMatchObject({ id: leaseId, renewable: true, ttl: 60 });

    clock.advanceSeconds(30);
    const renewed = await request(app).put('/v1/sys/leases/renew').set(root).send({ lease_id: leaseId, increment: 50 });
    expect(renewed.status).toBe(200);
    expect(renewed.body).toMatchObject({ lease_id: leaseId, renewable: true, lease_duration: 50 });
    expect(log.renewed).toEqual([{ username: 'u-app-1', ttlSeconds: 50 }]);
    // Never past max_ttl (100s from issue): 40s remain.
    clock.advanceSeconds(30);
    const capped = await request(app).put(`/v1/sys/renew/${leaseId}`).set(root).send({ increment: 3600 });
    expect(capped.body.lease_duration).toBe(40);

    const list = await request(app).get('/v1/sys/leases/lookup/test/creds/?list=true').set(root);
    expect(list.body.data.keys).toEqual(['app/']);

    expect((await request(app).put('/v1/sys/leases/revoke').set(root).send({ lease_id: leaseId })).status).toBe(204);
    expect(log.revoked).toEqual(['u-app-1']);
    expect((await request(app).put('/v1/sys/leases/lookup').set(root).send({ lease_id: leaseId })).status).toBe(400);
    expect((await request(app).put('/v1/sys/leases/renew').set(root).send({ lease_id: leaseId })).status).toBe(400);
    expect(vault.expiration.events(leaseId).map((e) => e.event)).toEqual(['issued', 'renewed', 'renewed', 'revoke-requested', 'revoked']);
  });

  it('refuses to renew an expired lease even before any sweep ran', async () => {
    const clock = new ManualClock();
    const { app, root } = await setup({ clock });
    const leaseId = (await request(app).get('/v1/test/creds/app?ttl=10').set(root)).body.lease_id;
    clock.advanceSeconds(11);
    expect((await request(app).put('/v1/sys/leases/renew').set(root).send({ lease_id: leaseId })).status).toBe(400);
  });

  it('revokes by prefix and answers unknown leases with 400', async () => {
    const { app, root, log } = await setup();
    for (let i = 0; i < 3; i++) await request(app).get('/v1/test/creds/batch').set(root);
    await request(app).get('/v1/test/creds/other').set(root);
    expect((await request(app).put('/v1/sys/leases/revoke-prefix/test/creds/batch').set(root)).status).toBe(204);
    expect(log.revoked.sort()).toEqual(['u-batch-1', 'u-batch-2', 'u-batch-3']);
    expect((await request(app).get('/v1/sys/leases/count').set(root)).body.data.lease_count).toBe(1);
    expect((await request(app).put('/v1/sys/leases/lookup').set(root).send({ lease_id: 'test/creds/nope/x' })).status).toBe(400);
  });

  it('revoking a token revokes every lease it created', async () => {
    const { app, root, log, vault } = await setup();
    await request(app).put('/v1/sys/policies/acl/creds').set(root).send({ policy: 'path "test/creds/*" { capabilities = ["read"] }' });
    const token = (await request(app).post('/v1/auth/token/create').set(root).send({ policies: ['creds'] })).body.auth.client_token;
    const leases: string[] = [];
    for (let i = 0; i < 3; i++) leases.push((await request(app).get('/v1/test/creds/job').set('X-Vault-Token', token)).body.lease_id);
    expect((await request(app).post('/v1/auth/token/revoke').set(root).send({ token })).status).toBe(204);
    // Durably queued in the same transaction as the token's deletion...
    for (const id of leases) expect(vault.expiration.state(id)?.state).toBe('revoking');
    // ...and carried out by the sweep.
    await vault.expiration.sweep();
    expect(log.revoked.sort()).toEqual(['u-job-1', 'u-job-2', 'u-job-3']);
    for (const id of leases) expect(vault.expiration.state(id)?.state).toBe('revoked');
  });

  it('disabling a mount revokes its leases first', async () => {
    const { app, root, log } = await setup();
    await request(app).get('/v1/test/creds/x').set(root);
    expect((await request(app).delete('/v1/sys/mounts/test').set(root)).status).toBe(204);
    expect(log.revoked).toEqual(['u-x-1']);
  });
});

describe('failed revocations', () => {
  it('are retried with backoff, become irrevocable only after the configured attempts, and revoke-force clears them', async () => {
    const clock = new ManualClock();
    const { app, root, log, vault } = await setup({ clock, expiration: { maxRevokeAttempts: 3, baseBackoffMs: 1000, maxBackoffMs: 60_000, irrevocableRetryMs: 3_600_000 } });
    const leaseId = (await request(app).get('/v1/test/creds/db?ttl=5').set(root)).body.lease_id;
    log.failRevocations = true;

    clock.advanceSeconds(6);
    await vault.expiration.sweep();
    expect(vault.expiration.state(leaseId)).toMatchObject({ state: 'revoking', attempts: 1, lastError: 'backend unavailable: connection refused' });
    // Backoff: nothing is retried until the next attempt is due.
    expect(await vault.expiration.sweep()).toBe(0);
    clock.advanceSeconds(2);
    await vault.expiration.sweep();
    expect(vault.expiration.state(leaseId)).toMatchObject({ state: 'revoking', attempts: 2 });
    clock.advanceSeconds(4);
    await vault.expiration.sweep();
    expect(vault.expiration.state(leaseId)).toMatchObject({ state: 'irrevocable', attempts: 3 });

    const count = await request(app).get('/v1/sys/leases/count?type=irrevocable').set(root);
    expect(count.body.data.lease_count).toBe(1);
    const listed = await request(app).get('/v1/sys/leases?type=irrevocable').set(root);
    expect(listed.body.data.leases).toEqual([expect.objectContaining({ lease_id: leaseId, error: 'backend unavailable: connection refused', attempts: 3 })]);

    // Irrevocable leases keep being retried at the slow rate, and succeed once the backend is back.
    log.failRevocations = false;
    clock.advanceSeconds(3600);
    await vault.expiration.sweep();
    expect(vault.expiration.state(leaseId)?.state).toBe('revoked');
    expect(log.revoked).toEqual(['u-db-1']);

    // revoke-force clears an irrevocable lease whatever the backend says.
    const second = (await request(app).get('/v1/test/creds/db?ttl=5').set(root)).body.lease_id;
    log.failRevocations = true;
    for (let i = 0; i < 3; i++) {
      clock.advanceSeconds(120);
      await vault.expiration.sweep();
    }
    expect(vault.expiration.state(second)?.state).toBe('irrevocable');
    expect((await request(app).put('/v1/sys/leases/revoke-force/test/creds/db').set(root)).status).toBe(204);
    expect(vault.expiration.state(second)?.state).toBe('revoked');
    expect((await request(app).get('/v1/sys/leases/count?type=irrevocable').set(root)).body.data.lease_count).toBe(0);
    expect(vault.expiration.events(second).map((e) => e.event)).toEqual(['issued', 'revocation-failed', 'revocation-failed', 'irrevocable', 'forced']);
  });

  it('a sync revoke that fails is an error and the lease stays pending', async () => {
    const { app, root, log, vault } = await setup();
    const leaseId = (await request(app).get('/v1/test/creds/db').set(root)).body.lease_id;
    log.failRevocations = true;
    const res = await request(app).put('/v1/sys/leases/revoke').set(root).send({ lease_id: leaseId });
    expect(res.status).toBe(500);
    expect(vault.expiration.state(leaseId)).toMatchObject({ state: 'revoking', attempts: 1 });
  });
});

describe('the real scheduler', () => {
  it('revokes an expired lease within about a second of its TTL', async () => {
    const { app, root, log, vault } = await setup({ scheduler: true });
    try {
      const issuedAt = Date.now();
      await request(app).get('/v1/test/creds/short?ttl=1').set(root);
      while (log.revoked.length === 0 && Date.now() - issuedAt < 5000) await new Promise((r) => setTimeout(r, 50));
      expect(log.revoked).toEqual(['u-short-1']);
      expect(Date.now() - issuedAt).toBeLessThan(3000);
    } finally {
      await vault.seal.seal();
    }
  });

  it('stops on seal: nothing is revoked while sealed', async () => {
    const { app, root, log, vault } = await setup({ scheduler: true });
    await request(app).get('/v1/test/creds/sealed?ttl=1').set(root);
    await vault.seal.seal();
    expect(vault.scheduler.started).toBe(false);
    await new Promise((r) => setTimeout(r, 2200));
    expect(log.revoked).toEqual([]);
  });
});

describe('response wrapping', () => {
  it('wraps any response into a single-use token that unwraps once', async () => {
    const { app, root } = await setup();
    await request(app).post('/v1/sys/mounts/secret').set(root).send({ type: 'kv-v2' });
    await request(app).post('/v1/secret/data/wrapped').set(root).send({ data: { password: 'hunter2' } });
    const wrapped = await request(app).get('/v1/secret/data/wrapped').set(root).set('X-Vault-Wrap-TTL', '60s');
    expect(wrapped.status).toBe(200);
    expect(wrapped.body.data).toBeNull();
    expect(JSON.stringify(wrapped.body)).not.toContain('hunter2');
    expect(wrapped.body.wrap_info).toMatchObject({ ttl: 60, creation_path: 'secret/data/wrapped' });
    const wrapToken = wrapped.body.wrap_info.token as string;

    const lookup = await request(app).post('/v1/sys/wrapping/lookup').send({ token: wrapToken });
    expect(lookup.body.data).toMatchObject({ creation_path: 'secret/data/wrapped', creation_ttl: 60 });

    const unwrapped = await request(app).post('/v1/sys/wrapping/unwrap').set('X-Vault-Token', wrapToken);
    expect(unwrapped.status).toBe(200);
    expect(unwrapped.body.data.data).toEqual({ password: 'hunter2' });
    const again = await request(app).post('/v1/sys/wrapping/unwrap').set('X-Vault-Token', wrapToken);
    expect(again.status).toBe(400);
    const againBody = await request(app).post('/v1/sys/wrapping/unwrap').set(root).send({ token: wrapToken });
    expect(againBody.status).toBe(400);
  });

  it('unwraps with the token in the body, rewraps, and refuses bad TTLs', async () => {
    const { app, root } = await setup();
    const wrapped = await request(app).post('/v1/sys/wrapping/wrap').set(root).set('X-Vault-Wrap-TTL', '5m').send({ api_key: 'k-123' });
    const first = wrapped.body.wrap_info.token as string;
    const rewrapped = await request(app).post('/v1/sys/wrapping/rewrap').set(root).send({ token: first });
    const second = rewrapped.body.wrap_info.token as string;
    expect(second).not.toBe(first);
    expect((await request(app).post('/v1/sys/wrapping/unwrap').set(root).send({ token: first })).status).toBe(400);
    const unwrapped = await request(app).post('/v1/sys/wrapping/unwrap').set(root).send({ token: second });
    expect(unwrapped.body.data).toEqual({ api_key: 'k-123' });
    expect((await request(app).post('/v1/sys/wrapping/wrap').set(root).send({ a: 1 })).status).toBe(400);
    expect((await request(app).get('/v1/sys/mounts').set(root).set('X-Vault-Wrap-TTL', 'soon')).status).toBe(400);
  });
});
