// PostgreSQL stopped while leases expire and static roles are due, on a private cluster this test stops
// and starts: revocation is retried with backoff and stays visible as pending, rotation keeps the old
// password, and both complete once the server is back. No error carries a password.
import request from 'supertest';
import { type PrivateCluster, startPrivateCluster, tryLogin, uniqueSuffix } from '../../pg/cluster';
import { ManualClock } from '../../../src/util/clock';
import { databaseVault } from './setup';

describe('database engine: PostgreSQL outage', () => {
  let cluster: PrivateCluster;
  let s: Awaited<ReturnType<typeof databaseVault>>;

  beforeAll(async () => {
    cluster = await startPrivateCluster();
  });
  afterAll(async () => {
    await s?.close();
    cluster?.destroy();
  });

  it('retries revocation with backoff while the server is down and completes once it is back', async () => {
    const clock = new ManualClock(Date.now());
    s = await databaseVault({ cluster: cluster.info, clock, expiration: { baseBackoffMs: 1000, maxBackoffMs: 4000, maxRevokeAttempts: 3, irrevocableRetryMs: 30_000 } });
    await s.role('app', { default_ttl: '60s' });
    const issued = await request(s.app).get('/v1/database/creds/app').set(s.root);
    expect(issued.status).toBe(200);
    const leaseId = issued.body.lease_id as string;
    const { username, password } = issued.body.data as { username: string; password: string };
    const staticUser = `svc_${uniqueSuffix()}`;
    await s.scratch.sql((c) => c.query(`CREATE ROLE "${staticUser}" LOGIN PASSWORD 'initial-password'`));
    await request(s.app).post('/v1/database/static-roles/svc').set(s.root).send({ db_name: 'pg', username: staticUser, rotation_period: 300 }).expect(204);
    const staticPassword = (await request(s.app).get('/v1/database/static-creds/svc').set(s.root)).body.data.password as string;

    cluster.stop();
    clock.advanceSeconds(301);

    // First attempt fails: the lease is pending (revoking), with a sanitised error and a backoff.
    expect(await s.vault.expiration.sweep()).toBe(1);
    let state = s.vault.expiration.state(leaseId);
    expect(state).toMatchObject({ state: 'revoking', attempts: 1 });
    expect(state?.lastError).toMatch(/ECONNREFUSED|connect|Connection terminated/);
    expect(state?.lastError).not.toContain(s.scratch.vaultPassword);
    expect(state?.lastError).not.toContain(password);
    const pending = await request(s.app).get('/v1/sys/leases?type=revoking').set(s.root);
    expect(pending.body.data.leases.map((l: { lease_id: string }) => l.lease_id)).toEqual([leaseId]);
    expect((await request(s.app).get('/v1/sys/leases/count').set(s.root)).body.data.lease_count).toBe(1);

    // Not retried before its backoff (at most 2 s after attempt 1).
    expect(await s.vault.expiration.sweep()).toBe(0);
    clock.advanceSeconds(2);
    await s.vault.expiration.sweep();
    clock.advanceSeconds(4);
    await s.vault.expiration.sweep();
    state = s.vault.expiration.state(leaseId);
    expect(state).toMatchObject({ state: 'irrevocable', attempts: 3 });
    expect((await request(s.app).get('/v1/sys/leases/count?type=irrevocable').set(s.root)).body.data.lease_count).toBe(1);

    // The static role's rotation fails too and keeps the old password.
    await s.vault.runPeriodic();
    expect((await request(s.app).get('/v1/database/static-creds/svc').set(s.root)).body.data.password).toBe(staticPassword);

    cluster.start();
    // Nothing was lost in the outage: the user is still there until the retry revokes it.
    expect(await s.scratch.roleExists(username)).toBe(true);
    // Irrevocable leases keep being retried; the next retry succeeds.
    clock.advanceSeconds(31);
    expect(await s.vault.expiration.sweep()).toBe(1);
    expect(s.vault.expiration.state(leaseId)?.state).toBe('revoked');
    expect(await s.scratch.roleExists(username)).toBe(false);
    expect((await tryLogin(s.scratch.login(username, password))).ok).toBe(false);

    // And the static role rotates on the next run after its backoff.
    clock.advanceSeconds(10);
    await s.vault.runPeriodic();
    const rotated = (await request(s.app).get('/v1/database/static-creds/svc').set(s.root)).body.data.password as string;
    expect(rotated).not.toBe(staticPassword);
    expect((await tryLogin(s.scratch.login(staticUser, rotated))).ok).toBe(true);
    expect((await tryLogin(s.scratch.login(staticUser, staticPassword))).ok).toBe(false);
  }, 30_000);
});
