// Issue 15 item 15: after an outage longer than the attempts, revocations waited an hour. Now the
// backoff is capped (a minute by default, irrevocable retries too), and the first revocation that
// succeeds on a mount makes every pending revocation of that mount due at once. Real PostgreSQL,
// stopped past the attempts and started again.
import request from 'supertest';
import { type PrivateCluster, startPrivateCluster } from '../../pg/cluster';
import { ManualClock } from '../../../src/util/clock';
import { DEFAULT_EXPIRATION_CONFIG } from '../../../src/core/expiration';
import { databaseVault } from './setup';

describe('database engine: revocation after a long outage', () => {
  let cluster: PrivateCluster;
  let s: Awaited<ReturnType<typeof databaseVault>>;

  beforeAll(async () => {
    cluster = await startPrivateCluster();
  });
  afterAll(async () => {
    await s?.close();
    cluster?.destroy();
  });

  it('caps the backoff at a minute by default', () => {
    expect(DEFAULT_EXPIRATION_CONFIG.maxBackoffMs).toBeLessThanOrEqual(60_000);
    expect(DEFAULT_EXPIRATION_CONFIG.irrevocableRetryMs).toBeLessThanOrEqual(60_000);
  });

  it('drops every role soon after PostgreSQL returns, though each lease had become irrevocable', async () => {
    const clock = new ManualClock(Date.now());
    s = await databaseVault({ cluster: cluster.info, clock, expiration: { maxRevokeAttempts: 3, baseBackoffMs: 1000 } });
    await s.role('app', { default_ttl: '60s' });
    const users: string[] = [];
    const leases: string[] = [];
    for (let i = 0; i < 10; i++) {
      const issued = await request(s.app).get('/v1/database/creds/app').set(s.root);
      expect(issued.status).toBe(200);
      users.push(issued.body.data.username as string);
      leases.push(issued.body.lease_id as string);
    }

    cluster.stop();
    clock.advanceSeconds(61);
    // Past every attempt: each lease becomes irrevocable.
    for (let i = 0; i < 4; i++) {
      await s.vault.expiration.sweep();
      clock.advanceSeconds(5);
    }
    for (const id of leases) expect(s.vault.expiration.state(id)?.state).toBe('irrevocable');

    cluster.start();
    // A fresh lease on the same connection expires and is revoked: the connection works again, so
    // every pending revocation of the mount is retried in the same sweep, not at its backoff.
    await s.role('short', { default_ttl: '1s' });
    const short = await request(s.app).get('/v1/database/creds/short').set(s.root);
    expect(short.status).toBe(200);
    clock.advanceSeconds(2);
    await s.vault.expiration.sweep();
    await s.vault.expiration.sweep();
    for (const id of leases) expect(s.vault.expiration.state(id)?.state).toBe('revoked');
    for (const user of users) expect(await s.scratch.roleExists(user)).toBe(false);
  }, 60_000);
});
