// Control groups on a real PostgreSQL credential, over real HTTP: the governed request answers only
// wrap_info; two distinct approvers from the group are needed (the requester's own approval and a
// repeat by the same approver do not count); unwrap before approval fails without consuming the
// token; after approval unwrap runs the request as the requester and returns a working credential
// whose lease and ledger event name both approvers; deny and an expired TTL end the request.
import request from 'supertest';
import { tryLogin } from '../pg/cluster';
import { databaseVault } from '../engines/database/setup';
import { ManualClock } from '../../src/util/clock';
import { APPROVER_POLICY, releaseHelpers } from './release-setup';

type Setup = Awaited<ReturnType<typeof databaseVault>>;

const POLICY = `
path "database/creds/cgprod-admin" {
  capabilities = ["read"]
  control_group = {
    ttl = "4h"
    factor "leads" {
      identity {
        group_names = ["db-leads"]
        approvals   = 2
      }
    }
  }
}
path "sys/control-group/request" { capabilities = ["update"] }
path "sys/leases/lookup" { capabilities = ["update"] }
`;

async function rolesLike(s: Setup, fragment: string): Promise<number> {
  return s.scratch.sql(async (c) => Number((await c.query("SELECT count(*) AS n FROM pg_roles WHERE rolname LIKE '%' || $1 || '%'", [fragment])).rows[0].n));
}

/** A requester, three leads (the requester is one of them too) and an outsider. */
async function governed(s: Setup) {
  await s.role('cgprod-admin');
  const h = releaseHelpers(s.app, s.root);
  await h.policy('cgprod', POLICY);
  await h.policy('approver', APPROVER_POLICY);
  const requester = await h.login('dev', ['cgprod', 'approver']);
  const alice = await h.login('alice', ['approver']);
  const bob = await h.login('bob', ['approver']);
  const outsider = await h.login('mallory', ['approver']);
  await h.group('db-leads', [requester.entityId, alice.entityId, bob.entityId]);
  const asked = await request(s.app).get('/v1/database/creds/cgprod-admin').set(requester.headers).set('X-Leasehold-Justification', 'INC-9 schema fix');
  return { h, requester, alice, bob, outsider, asked };
}

const post = (s: Setup, path: string, headers: Record<string, string>, body: Record<string, unknown>) => request(s.app).post(`/v1/${path}`).set(headers).send(body);

/** The leasehold_approvals_pending gauge as sys/metrics reports it. */
async function pendingGauge(s: Setup): Promise<number> {
  const text = (await request(s.app).get('/v1/sys/metrics?format=prometheus').set(s.root)).text;
  const line = text.split('\n').find((l) => l.startsWith('leasehold_approvals_pending '));
  return Number(line?.split(' ')[1]);
}

describe('control groups', () => {
  let s: Setup;
  afterEach(async () => {
    await s?.close();
  });

  it('needs two distinct approvers from the group, then unwrap issues a working credential naming both', async () => {
    s = await databaseVault();
    const before = await rolesLike(s, 'cgprod');
    const { requester, alice, bob, outsider, asked } = await governed(s);
    expect(asked.status).toBe(200);
    expect(asked.body.data).toBeNull();
    expect(asked.body.lease_id).toBe('');
    expect(Object.keys(asked.body.wrap_info).sort()).toEqual(['accessor', 'creation_path', 'creation_time', 'token', 'ttl']);
    expect(asked.body.wrap_info).toMatchObject({ ttl: 4 * 3600, creation_path: 'database/creds/cgprod-admin' });
    const { token: wrapToken, accessor } = asked.body.wrap_info as { token: string; accessor: string };
    expect(await rolesLike(s, 'cgprod')).toBe(before);
    expect(await pendingGauge(s)).toBe(1);

    const status = await post(s, 'sys/control-group/request', requester.headers, { accessor });
    expect(status.status).toBe(200);
    expect(status.body.data).toMatchObject({
      approved: false,
      request_path: 'database/creds/cgprod-admin',
      request_entity: { id: requester.entityId, name: expect.any(String) },
      authorizations: [],
      justification: 'INC-9 schema fix',
    });
    expect(Date.parse(status.body.data.expire_time)).toBeGreaterThan(Date.now() + 3.9 * 3600_000);

    // Unwrap before approval: 400, and the token is not consumed (twice, to be sure).
    for (let i = 0; i < 2; i++) {
      const early = await post(s, 'sys/wrapping/unwrap', { 'X-Vault-Token': wrapToken }, {});
      expect(early.status).toBe(400);
      expect(early.body.errors).toEqual(['request needs further approval']);
    }
    expect((await post(s, 'sys/wrapping/lookup', {}, { token: wrapToken })).status).toBe(200);

    // The requester cannot approve its own; an outsider cannot approve; the same approver counts once.
    expect((await post(s, 'sys/control-group/authorize', requester.headers, { accessor })).status).toBe(400);
    expect((await post(s, 'sys/control-group/authorize', outsider.headers, { accessor })).status).toBe(403);
    // The justification header is a reason, never an approval or an identity.
    expect((await post(s, 'sys/control-group/authorize', outsider.headers, { accessor }).set('X-Leasehold-Justification', alice.entityId)).status).toBe(403);
    const first = await post(s, 'sys/control-group/authorize', alice.headers, { accessor });
    expect(first.status).toBe(200);
    expect(first.body.data).toEqual({ approved: false });
    const repeat = await post(s, 'sys/control-group/authorize', alice.headers, { accessor });
    expect(repeat.body.data).toEqual({ approved: false });
    expect((await post(s, 'sys/wrapping/unwrap', { 'X-Vault-Token': wrapToken }, {})).status).toBe(400);
    expect(await rolesLike(s, 'cgprod')).toBe(before);

    const second = await post(s, 'sys/control-group/authorize', bob.headers, { accessor });
    expect(second.body.data).toEqual({ approved: true });
    const approved = await post(s, 'sys/control-group/request', alice.headers, { accessor });
    expect(approved.body.data.approved).toBe(true);
    expect(approved.body.data.authorizations.map((a: { entity_id: string }) => a.entity_id).sort()).toEqual([alice.entityId, bob.entityId].sort());

    // After approval: the original request runs now, as the requester.
    const released = await post(s, 'sys/wrapping/unwrap', { 'X-Vault-Token': wrapToken }, {});
    expect(released.status).toBe(200);
    const { username, password } = released.body.data as { username: string; password: string };
    expect((await tryLogin(s.scratch.login(username, password))).ok).toBe(true);
    const leaseId = released.body.lease_id as string;
    expect(leaseId).toMatch(/^database\/creds\/cgprod-admin\//);
    // Single use: a second unwrap fails.
    expect((await post(s, 'sys/wrapping/unwrap', { 'X-Vault-Token': wrapToken }, {})).status).toBe(400);
    expect(await pendingGauge(s)).toBe(0);

    const lookup = await post(s, 'sys/leases/lookup', requester.headers, { lease_id: leaseId });
    expect(lookup.body.data.entity_id).toBe(requester.entityId);
    expect(lookup.body.data.justification).toBe('INC-9 schema fix');
    expect(lookup.body.data.approvers.map((a: { entity_id: string }) => a.entity_id).sort()).toEqual([alice.entityId, bob.entityId].sort());
    const row = s.db.prepare('SELECT token_accessor FROM leases WHERE lease_id = ?').get(leaseId) as { token_accessor: string };
    expect(row.token_accessor).toBe(requester.accessor);

    const ledger = (await request(s.app).get('/v1/sys/governance/ledger').query({ limit: 1000 }).set(s.root)).body.data.events as { event: string; lease_id: string | null; detail: string | null; actor: string | null; reason: string | null }[];
    const issued = ledger.find((e) => e.event === 'lease.issued' && e.lease_id === leaseId);
    expect(issued?.detail).toContain(alice.entityId);
    expect(issued?.detail).toContain(bob.entityId);
    expect(issued?.reason).toBe('INC-9 schema fix');
    expect(ledger.filter((e) => e.event === 'approval.requested')).toHaveLength(1);
    expect(ledger.filter((e) => e.event === 'approval.granted').map((e) => e.actor).sort()).toEqual([alice.entityId, bob.entityId].sort());
  });

  it('unwrap with the token in the body (a third party) is also refused until approved, without consuming it', async () => {
    s = await databaseVault();
    const { alice, bob, outsider, asked } = await governed(s);
    const { token, accessor } = asked.body.wrap_info;
    expect((await post(s, 'sys/wrapping/unwrap', outsider.headers, { token })).body.errors).toEqual(['request needs further approval']);
    expect((await post(s, 'sys/wrapping/rewrap', { 'X-Vault-Token': token }, {})).status).toBe(400);
    expect((await post(s, 'sys/wrapping/rewrap', outsider.headers, { token })).status).not.toBe(200);
    await post(s, 'sys/control-group/authorize', alice.headers, { accessor });
    await post(s, 'sys/control-group/authorize', bob.headers, { accessor });
    const released = await post(s, 'sys/wrapping/unwrap', outsider.headers, { token });
    expect(released.status).toBe(200);
    expect((await tryLogin(s.scratch.login(released.body.data.username, released.body.data.password))).ok).toBe(true);
  });

  it('a deny ends the request: no approval counts after it, unwrap answers 400 and nothing is issued', async () => {
    s = await databaseVault();
    const before = await rolesLike(s, 'cgprod');
    const { requester, alice, bob, outsider, asked } = await governed(s);
    const { token, accessor } = asked.body.wrap_info;
    await post(s, 'sys/control-group/authorize', alice.headers, { accessor });
    expect((await post(s, 'sys/control-group/deny', outsider.headers, { accessor, reason: 'not mine' })).status).toBe(403);
    expect((await post(s, 'sys/control-group/deny', bob.headers, { accessor })).status).toBe(400);
    expect((await post(s, 'sys/control-group/deny', bob.headers, { accessor, reason: 'use the replica' })).status).toBe(200);
    expect((await post(s, 'sys/control-group/authorize', bob.headers, { accessor })).status).toBe(400);
    const status = await post(s, 'sys/control-group/request', requester.headers, { accessor });
    expect(status.body.data).toMatchObject({ approved: false, state: 'denied' });
    const unwrap = await post(s, 'sys/wrapping/unwrap', { 'X-Vault-Token': token }, {});
    expect(unwrap.status).toBe(400);
    expect(unwrap.body.errors[0]).toContain('denied');
    expect(await rolesLike(s, 'cgprod')).toBe(before);
    const ledger = (await request(s.app).get('/v1/sys/governance/ledger').query({ event: 'approval.denied' }).set(s.root)).body.data.events;
    expect(ledger).toMatchObject([{ event: 'approval.denied', actor: bob.entityId, reason: 'use the replica' }]);
  });

  it('after the TTL, approvals do not count and unwrap answers 400; the expiry is on the ledger', async () => {
    const clock = new ManualClock(Date.now());
    s = await databaseVault({ clock });
    const before = await rolesLike(s, 'cgprod');
    const { alice, bob, asked } = await governed(s);
    const { token, accessor } = asked.body.wrap_info;
    await post(s, 'sys/control-group/authorize', alice.headers, { accessor });
    clock.advanceSeconds(4 * 3600 + 1);
    expect((await post(s, 'sys/control-group/authorize', bob.headers, { accessor })).status).toBe(400);
    expect((await post(s, 'sys/control-group/request', alice.headers, { accessor })).body.data).toMatchObject({ approved: false, state: 'expired' });
    expect((await post(s, 'sys/wrapping/unwrap', { 'X-Vault-Token': token }, {})).status).toBe(400);
    expect(await rolesLike(s, 'cgprod')).toBe(before);
    const ledger = (await request(s.app).get('/v1/sys/governance/ledger').query({ event: 'approval.expired' }).set(s.root)).body.data.events;
    expect(ledger).toHaveLength(1);
  });

  it('runs as the requester with its validity at unwrap: a revoked requester token issues nothing', async () => {
    s = await databaseVault();
    const before = await rolesLike(s, 'cgprod');
    const { requester, alice, bob, asked } = await governed(s);
    const { token, accessor } = asked.body.wrap_info;
    await post(s, 'sys/control-group/authorize', alice.headers, { accessor });
    await post(s, 'sys/control-group/authorize', bob.headers, { accessor });
    expect((await post(s, 'auth/token/revoke-accessor', s.root, { accessor: requester.accessor })).status).toBe(204);
    const unwrap = await post(s, 'sys/wrapping/unwrap', { 'X-Vault-Token': token }, {});
    expect(unwrap.status).toBe(400);
    expect(unwrap.body.errors[0]).toContain('no longer valid');
    expect(await rolesLike(s, 'cgprod')).toBe(before);
  });

  it('LIST sys/control-group/pending shows what the caller may still approve', async () => {
    s = await databaseVault();
    const { requester, alice, bob, outsider, asked } = await governed(s);
    const { accessor } = asked.body.wrap_info;
    const list = (headers: Record<string, string>) => request(s.app).get('/v1/sys/control-group/pending').query({ list: 'true' }).set(headers);
    const forAlice = await list(alice.headers);
    expect(forAlice.status).toBe(200);
    expect(forAlice.body.data.keys).toEqual([accessor]);
    expect(forAlice.body.data.key_info[accessor]).toMatchObject({ request_path: 'database/creds/cgprod-admin', request_entity: { id: requester.entityId }, justification: 'INC-9 schema fix', approvals: [] });
    expect((await list(requester.headers)).status).toBe(404);
    expect((await list(outsider.headers)).status).toBe(404);
    await post(s, 'sys/control-group/authorize', alice.headers, { accessor });
    expect((await list(alice.headers)).status).toBe(404);
    expect((await list(bob.headers)).body.data.key_info[accessor].approvals).toMatchObject([{ entity_id: alice.entityId }]);
  });
});
