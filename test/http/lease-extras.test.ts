// Lease edges through HTTP: a lease that cannot be stored revokes its credential, tidy and tombstone
// retention, the sudo requirement on sys/leases/*, the legacy sys/revoke and sys/renew paths,
// non-renewable secrets, and the lookup of an expired lease no sweep has reached yet.
import request from 'supertest';
import { z } from 'zod';
import type { BackendFactory } from '../../src/core/framework';
import { ManualClock } from '../../src/util/clock';
import { leaseEngine } from '../helpers/lease-engine';
import { unsealedVault, type VaultOptions } from '../helpers/vault';

/** A tiny engine whose only secret is not renewable; it records renew and revoke calls. */
function fixedEngine(): { factory: BackendFactory; log: { issued: string[]; renewed: string[]; revoked: string[] } } {
  const log = { issued: [] as string[], renewed: [] as string[], revoked: [] as string[] };
  let counter = 0;
  const factory: BackendFactory = () => ({
    paths: [
      {
        pattern: 'creds/(?<role>[a-z0-9-]+)',
        description: 'Issue a non-renewable leased credential.',
        fields: z.object({ role: z.string().max(64) }),
        operations: {
          read: (req) => {
            const username = `fixed-${req.fields.role as string}-${++counter}`;
            log.issued.push(username);
            return {
              data: { username },
              secret: { type: 'fixed', internalData: { username }, ttlSeconds: 60, maxTtlSeconds: 3600, renewable: false },
            };
          },
        },
      },
    ],
    secrets: {
      fixed: {
        renew: ({ internalData }) => {
          log.renewed.push(String(internalData.username));
        },
        revoke: ({ internalData }) => {
          log.revoked.push(String(internalData.username));
        },
      },
    },
  });
  return { factory, log };
}

async function setup(options: VaultOptions = {}) {
  const engine = leaseEngine();
  const fixed = fixedEngine();
  const v = await unsealedVault({ ...options, registry: { leases: engine.factory, fixed: fixed.factory } });
  const root = { 'X-Vault-Token': v.rootToken };
  expect((await request(v.app).post('/v1/sys/mounts/test').set(root).send({ type: 'leases' })).status).toBe(204);
  expect((await request(v.app).post('/v1/sys/mounts/fixed').set(root).send({ type: 'fixed' })).status).toBe(204);
  return { ...v, root, log: engine.log, fixedLog: fixed.log };
}

describe('a lease that cannot be stored', () => {
  it('revokes the new credential at once and answers a generic 500; issuance works again once storage does', async () => {
    const { app, root, log, db, vault } = await setup();
    db.exec("CREATE TRIGGER refuse BEFORE INSERT ON leases BEGIN SELECT RAISE(ABORT, 'disk full'); END");

    const res = await request(app).get('/v1/test/creds/app').set(root);
    expect(res.status).toBe(500);
    expect(Array.isArray(res.body.errors)).toBe(true);
    expect(res.body.errors).toHaveLength(1);
    const message = JSON.stringify(res.body);
    // Neither the storage error nor the credential reaches the client.
    expect(message).not.toContain('disk full');
    expect(message).not.toContain('SQLITE');
    expect(message).not.toContain('u-app-1');
    expect(message).not.toContain('pw-1');
    expect(res.body.data).toBeUndefined();
    expect(res.body.lease_id).toBeUndefined();
    // The engine did issue the credential, and it was revoked right away.
    expect(log.issued).toEqual(['u-app-1']);
    expect(log.revoked).toEqual(['u-app-1']);
    // Nothing was stored.
    expect((db.prepare('SELECT count(*) AS n FROM leases').get() as { n: number }).n).toBe(0);
    expect(vault.expiration.count('all').total).toBe(0);

    db.exec('DROP TRIGGER refuse');
    const ok = await request(app).get('/v1/test/creds/app').set(root);
    expect(ok.status).toBe(200);
    expect(ok.body.data).toMatchObject({ username: 'u-app-2' });
    expect(vault.expiration.state(ok.body.lease_id)?.state).toBe('active');
    expect(log.revoked).toEqual(['u-app-1']);
  });
});

describe('tidy and tombstone retention', () => {
  it('keeps revoked leases in the ledger until tidy runs past the retention period', async () => {
    const clock = new ManualClock();
    const { app, root, log, vault } = await setup({ clock, expiration: { tombstoneRetentionSeconds: 60 } });
    const revokedId = (await request(app).get('/v1/test/creds/gone').set(root)).body.lease_id as string;
    const liveId = (await request(app).get('/v1/test/creds/live?ttl=3600').set(root)).body.lease_id as string;
    clock.advanceSeconds(5);
    expect((await request(app).put('/v1/sys/leases/revoke').set(root).send({ lease_id: revokedId })).status).toBe(204);
    expect(log.revoked).toEqual(['u-gone-1']);

    const events = async (leaseId: string) => {
      const res = await request(app).put('/v1/sys/leases/events').set(root).send({ lease_id: leaseId });
      expect(res.status).toBe(200);
      return (res.body.data.events as { event: string }[]).map((e) => e.event);
    };
    // A tombstone: lookup says invalid, as Vault, but the ledger still answers.
    expect((await request(app).put('/v1/sys/leases/lookup').set(root).send({ lease_id: revokedId })).status).toBe(400);
    expect(await events(revokedId)).toEqual(['issued', 'revoke-requested', 'revoked']);
    expect(vault.expiration.events(revokedId).map((e) => e.event)).toEqual(['issued', 'revoke-requested', 'revoked']);

    // Within the retention period tidy keeps it.
    clock.advanceSeconds(59);
    expect((await request(app).post('/v1/sys/leases/tidy').set(root)).status).toBe(202);
    expect(await events(revokedId)).toEqual(['issued', 'revoke-requested', 'revoked']);
    expect(vault.expiration.state(revokedId)?.state).toBe('revoked');

    // Past it, the tombstone and its events are gone; the live lease is untouched.
    clock.advanceSeconds(2);
    expect((await request(app).post('/v1/sys/leases/tidy').set(root)).status).toBe(202);
    expect(await events(revokedId)).toEqual([]);
    expect(vault.expiration.events(revokedId)).toEqual([]);
    expect(vault.expiration.state(revokedId)).toBeUndefined();
    expect(vault.expiration.state(liveId)?.state).toBe('active');
    expect(await events(liveId)).toEqual(['issued']);
    expect((await request(app).put('/v1/sys/leases/lookup').set(root).send({ lease_id: liveId })).status).toBe(200);
  });
});

describe('sudo on sys/leases/*', () => {
  it('refuses list, revoke-prefix and revoke-force without sudo and leaves the leases alone; allows them with sudo', async () => {
    const { app, root, log, vault } = await setup();
    const ids: string[] = [];
    for (const role of ['a', 'a', 'b']) ids.push((await request(app).get(`/v1/test/creds/${role}`).set(root)).body.lease_id);

    const withoutSudo = 'path "sys/leases/*" { capabilities = ["create", "read", "update", "list"] }';
    expect((await request(app).put('/v1/sys/policies/acl/leases-op').set(root).send({ policy: withoutSudo })).status).toBe(204);
    const token = (await request(app).post('/v1/auth/token/create').set(root).send({ policies: ['leases-op'] })).body.auth.client_token as string;
    const auth = { 'X-Vault-Token': token };

    // Control: the non-root-protected paths under the same glob work for this token.
    expect((await request(app).put('/v1/sys/leases/lookup').set(auth).send({ lease_id: ids[0] })).status).toBe(200);

    expect((await request(app).get('/v1/sys/leases/lookup/test/creds/?list=true').set(auth)).status).toBe(403);
    expect((await request(app).put('/v1/sys/leases/revoke-prefix/test/creds/a').set(auth)).status).toBe(403);
    expect((await request(app).put('/v1/sys/leases/revoke-force/test/creds/b').set(auth)).status).toBe(403);
    expect(log.revoked).toEqual([]);
    for (const id of ids) expect(vault.expiration.state(id)?.state).toBe('active');

    const withSudo = 'path "sys/leases/*" { capabilities = ["create", "read", "update", "list", "sudo"] }';
    expect((await request(app).put('/v1/sys/policies/acl/leases-op').set(root).send({ policy: withSudo })).status).toBe(204);

    const list = await request(app).get('/v1/sys/leases/lookup/test/creds/?list=true').set(auth);
    expect(list.status).toBe(200);
    expect(list.body.data.keys).toEqual(['a/', 'b/']);
    expect((await request(app).put('/v1/sys/leases/revoke-prefix/test/creds/a').set(auth)).status).toBe(204);
    expect(log.revoked.sort()).toEqual(['u-a-1', 'u-a-2']);
    expect(vault.expiration.state(ids[0] as string)?.state).toBe('revoked');
    expect(vault.expiration.state(ids[1] as string)?.state).toBe('revoked');
    expect(vault.expiration.state(ids[2] as string)?.state).toBe('active');
    expect((await request(app).put('/v1/sys/leases/revoke-force/test/creds/b').set(auth)).status).toBe(204);
    expect(log.revoked.sort()).toEqual(['u-a-1', 'u-a-2', 'u-b-3']);
    expect(vault.expiration.state(ids[2] as string)?.state).toBe('revoked');
  });
});

describe('legacy paths (node-vault, hvac)', () => {
  it('PUT sys/revoke/<lease_id> revokes like sys/leases/revoke', async () => {
    const { app, root, log, vault } = await setup();
    const leaseId = (await request(app).get('/v1/test/creds/legacy').set(root)).body.lease_id as string;
    expect((await request(app).put(`/v1/sys/revoke/${leaseId}`).set(root)).status).toBe(204);
    expect(log.revoked).toEqual(['u-legacy-1']);
    expect(vault.expiration.state(leaseId)?.state).toBe('revoked');
    expect((await request(app).put('/v1/sys/leases/lookup').set(root).send({ lease_id: leaseId })).status).toBe(400);
  });

  it('PUT sys/revoke with lease_id in the body revokes like sys/leases/revoke', async () => {
    const { app, root, log, vault } = await setup();
    const leaseId = (await request(app).get('/v1/test/creds/legacy').set(root)).body.lease_id as string;
    expect((await request(app).put('/v1/sys/revoke').set(root).send({ lease_id: leaseId })).status).toBe(204);
    expect(log.revoked).toEqual(['u-legacy-1']);
    expect(vault.expiration.state(leaseId)?.state).toBe('revoked');
  });

  it('PUT sys/revoke-prefix/<prefix> revokes every lease under the prefix and no other', async () => {
    const { app, root, log, vault } = await setup();
    const batch: string[] = [];
    for (let i = 0; i < 2; i++) batch.push((await request(app).get('/v1/test/creds/batch').set(root)).body.lease_id);
    const other = (await request(app).get('/v1/test/creds/other').set(root)).body.lease_id as string;
    expect((await request(app).put('/v1/sys/revoke-prefix/test/creds/batch').set(root)).status).toBe(204);
    expect(log.revoked.sort()).toEqual(['u-batch-1', 'u-batch-2']);
    for (const id of batch) expect(vault.expiration.state(id)?.state).toBe('revoked');
    expect(vault.expiration.state(other)?.state).toBe('active');
  });

  it('PUT sys/renew/<lease_id> renews like sys/leases/renew', async () => {
    const clock = new ManualClock();
    const { app, root, log } = await setup({ clock });
    const leaseId = (await request(app).get('/v1/test/creds/legacy?ttl=60&max_ttl=600').set(root)).body.lease_id as string;
    clock.advanceSeconds(10);
    const renewed = await request(app).put(`/v1/sys/renew/${leaseId}`).set(root).send({ increment: 120 });
    expect(renewed.status).toBe(200);
    expect(renewed.body).toMatchObject({ lease_id: leaseId, renewable: true, lease_duration: 120 });
    expect(log.renewed).toEqual([{ username: 'u-legacy-1', ttlSeconds: 120 }]);
    const lookup = await request(app).put('/v1/sys/leases/lookup').set(root).send({ lease_id: leaseId });
    expect(lookup.body.data).toMatchObject({ id: leaseId, ttl: 120, renewable: true, last_renewal: new Date(clock.nowMs()).toISOString() });
  });
});

describe('non-renewable leases', () => {
  it('refuse renewal with 400 and the engine is never asked to renew', async () => {
    const { app, root, fixedLog, vault } = await setup();
    const issued = await request(app).get('/v1/fixed/creds/app').set(root);
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ renewable: false, lease_duration: 60 });
    const leaseId = issued.body.lease_id as string;
    expect(leaseId).toMatch(/^fixed\/creds\/app\//);
    const lookup = await request(app).put('/v1/sys/leases/lookup').set(root).send({ lease_id: leaseId });
    expect(lookup.body.data).toMatchObject({ renewable: false, ttl: 60 });

    const modern = await request(app).put('/v1/sys/leases/renew').set(root).send({ lease_id: leaseId, increment: 30 });
    expect(modern.status).toBe(400);
    expect(modern.body.errors.join(' ')).toMatch(/not renewable/);
    expect((await request(app).put(`/v1/sys/renew/${leaseId}`).set(root)).status).toBe(400);
    expect(fixedLog.renewed).toEqual([]);
    expect(vault.expiration.state(leaseId)?.state).toBe('active');
    expect(vault.expiration.events(leaseId).map((e) => e.event)).toEqual(['issued']);
  });
});

describe('lookup of an expired lease no sweep has reached', () => {
  it('shows ttl 0 and renewable false', async () => {
    const clock = new ManualClock();
    const { app, root, log, vault } = await setup({ clock });
    const leaseId = (await request(app).get('/v1/test/creds/app?ttl=10').set(root)).body.lease_id as string;
    clock.advanceSeconds(15);
    const lookup = await request(app).put('/v1/sys/leases/lookup').set(root).send({ lease_id: leaseId });
    expect(lookup.status).toBe(200);
    expect(lookup.body.data).toMatchObject({ id: leaseId, ttl: 0, renewable: false });
    // Still not swept: the row is active and the backend was not called.
    expect(vault.expiration.state(leaseId)?.state).toBe('active');
    expect(log.revoked).toEqual([]);
  });
});
