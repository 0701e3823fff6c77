// Every ledger event kind names its holder (entity_id), its owner and who caused it (actor): the
// requesting token's entity when it has one, else its accessor, and `scheduler` for expiries and
// retries. One row per way an event is caused, each driven through real HTTP requests.
import request from 'supertest';
import { ManualClock } from '../../src/util/clock';
import { leaseEngine } from '../helpers/lease-engine';
import { unsealedVault } from '../helpers/vault';

interface Event {
  seq: number;
  event: string;
  entity_id: string | null;
  owner: string | null;
  actor: string | null;
  accessor: string | null;
  lease_id: string | null;
  reason: string | null;
}

type Headers = Record<string, string>;

async function setup() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const engine = leaseEngine();
  const v = await unsealedVault({ clock, registry: { leases: engine.factory }, expiration: { maxRevokeAttempts: 2, baseBackoffMs: 1, maxBackoffMs: 1 } });
  const app = v.app;
  const root = { 'X-Vault-Token': v.rootToken };
  const ok = async (res: Promise<request.Response> | request.Test, status = [200, 204]) => {
    const r = await res;
    if (!status.includes(r.status)) throw new Error(`answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r;
  };
  await ok(request(app).post('/v1/sys/mounts/test').set(root).send({ type: 'leases' }));
  await ok(request(app).post('/v1/sys/mounts/kv').set(root).send({ type: 'kv', options: { version: '2' } }));
  await ok(request(app).post('/v1/kv/data/app').set(root).send({ data: { password: 'never-in-the-ledger' } }));
  await ok(request(app).post('/v1/sys/auth/approle').set(root).send({ type: 'approle' }));
  await ok(request(app).put('/v1/sys/policy/holder').set(root).send({ policy: 'path "test/creds/*" { capabilities = ["read"] }\npath "kv/data/*" { capabilities = ["read"] }' }));
  await ok(request(app).put('/v1/sys/policy/ops').set(root).send({ policy: 'path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }' }));
  const login = async (role: string, policies: string, owner: string, ttl = '2h') => {
    await ok(request(app).post(`/v1/auth/approle/role/${role}`).set(root).send({ token_policies: policies, owner, token_ttl: ttl, token_max_ttl: '24h' }));
    const roleId = (await ok(request(app).get(`/v1/auth/approle/role/${role}/role-id`).set(root))).body.data.role_id as string;
    const secretId = (await ok(request(app).post(`/v1/auth/approle/role/${role}/secret-id`).set(root).send({}))).body.data.secret_id as string;
    return async () => {
      const res = await ok(request(app).post('/v1/auth/approle/login').send({ role_id: roleId, secret_id: secretId }));
      return { headers: { 'X-Vault-Token': res.body.auth.client_token as string } as Headers, accessor: res.body.auth.accessor as string, entityId: res.body.auth.entity_id as string };
    };
  };
  const holderLogin = await login('ci', 'holder', 'team-ci');
  const opsLogin = await login('ops', 'ops', 'team-ops', '24h');
  const ops = await opsLogin();
  const rootAccessor = (await ok(request(app).get('/v1/auth/token/lookup-self').set(root))).body.data.accessor as string;
  const events = async (query: Record<string, string>): Promise<Event[]> =>
    (await ok(request(app).get('/v1/sys/governance/ledger').query({ limit: 1000, ...query }).set(root))).body.data.events as Event[];
  const lease = async (who: { headers: Headers }, ttl = 600) => (await ok(request(app).get(`/v1/test/creds/app?ttl=${ttl}&max_ttl=7200`).set(who.headers))).body.lease_id as string;
  return { ...v, app, clock, log: engine.log, root, ok, login, holderLogin, ops, rootAccessor, events, lease };
}

type Ctx = Awaited<ReturnType<typeof setup>>;
/** What a case expects of the events it selects: holder and owner are the holder's; actor as given. */
interface Expected {
  entity_id: string;
  owner: string;
  actor: string;
}
interface Case {
  name: string;
  /** Causes the event(s); returns the ledger query that selects them and what each must say. */
  run: (ctx: Ctx) => Promise<{ query: Record<string, string>; accessor?: string; expected: Expected; count?: number }>;
}

const cases: Case[] = [
  {
    name: 'entity.created at first login: the entity itself',
    run: async ({ holderLogin }) => {
      const h = await holderLogin();
      return { query: { event: 'entity.created', entity_id: h.entityId }, expected: { entity_id: h.entityId, owner: '', actor: h.entityId } };
    },
  },
  {
    name: 'token.created at login: the logging-in entity',
    run: async ({ holderLogin }) => {
      const h = await holderLogin();
      return { query: { event: 'token.created', entity_id: h.entityId }, expected: { entity_id: h.entityId, owner: 'team-ci', actor: h.entityId }, count: 2 };
    },
  },
  {
    name: 'lease.issued: the holder',
    run: async ({ holderLogin, lease }) => {
      const h = await holderLogin();
      const id = await lease(h);
      return { query: { event: 'lease.issued', lease_id: id }, expected: { entity_id: h.entityId, owner: 'team-ci', actor: h.entityId } };
    },
  },
  {
    name: 'lease.renewed by an operator: the operator entity',
    run: async ({ app, ok, holderLogin, lease, ops }) => {
      const h = await holderLogin();
      const id = await lease(h);
      await ok(request(app).put('/v1/sys/leases/renew').set(ops.headers).send({ lease_id: id, increment: 1200 }));
      return { query: { event: 'lease.renewed', lease_id: id }, expected: { entity_id: h.entityId, owner: 'team-ci', actor: ops.entityId } };
    },
  },
  {
    name: 'lease.revoked by sys/leases/revoke: the operator entity',
    run: async ({ app, ok, holderLogin, lease, ops }) => {
      const h = await holderLogin();
      const id = await lease(h);
      await ok(request(app).put('/v1/sys/leases/revoke').set(ops.headers).send({ lease_id: id }));
      return { query: { event: 'lease.revoked', lease_id: id }, expected: { entity_id: h.entityId, owner: 'team-ci', actor: ops.entityId } };
    },
  },
  {
    name: 'lease.revoked by sys/leases/revoke with sync=false (done by the sweep): still the operator',
    run: async ({ app, ok, vault, holderLogin, lease, ops }) => {
      const h = await holderLogin();
      const id = await lease(h);
      await ok(request(app).put('/v1/sys/leases/revoke').set(ops.headers).send({ lease_id: id, sync: false }), [202]);
      await vault.expiration.sweep();
      return { query: { event: 'lease.revoked', lease_id: id }, expected: { entity_id: h.entityId, owner: 'team-ci', actor: ops.entityId } };
    },
  },
  {
    name: 'lease.revoked by revoke-prefix with a token without entity: its accessor',
    run: async ({ app, ok, root, rootAccessor, holderLogin, lease }) => {
      const h = await holderLogin();
      const id = await lease(h);
      await ok(request(app).put(`/v1/sys/leases/revoke-prefix/${id}`).set(root));
      return { query: { event: 'lease.revoked', lease_id: id }, expected: { entity_id: h.entityId, owner: 'team-ci', actor: rootAccessor } };
    },
  },
  {
    name: 'lease.revoked by revoke-force: the operator',
    run: async ({ app, ok, rootAccessor, root, holderLogin, lease }) => {
      const h = await holderLogin();
      const id = await lease(h);
      await ok(request(app).put(`/v1/sys/leases/revoke-force/${id}`).set(root));
      return { query: { event: 'lease.revoked', lease_id: id }, expected: { entity_id: h.entityId, owner: 'team-ci', actor: rootAccessor } };
    },
  },
  {
    name: 'token.revoked by revoke-accessor, and its lease revoked with it: the operator',
    run: async ({ app, ok, vault, events, holderLogin, lease, ops }) => {
      const h = await holderLogin();
      const id = await lease(h);
      await ok(request(app).post('/v1/auth/token/revoke-accessor').set(ops.headers).send({ accessor: h.accessor }));
      await vault.expiration.sweep();
      expect(await events({ event: 'lease.revoked', lease_id: id })).toEqual([expect.objectContaining({ entity_id: h.entityId, owner: 'team-ci', actor: ops.entityId, reason: 'token-revoked' })]);
      return { query: { event: 'token.revoked', entity_id: h.entityId }, accessor: h.accessor, expected: { entity_id: h.entityId, owner: 'team-ci', actor: ops.entityId } };
    },
  },
  {
    name: 'token.revoked by revoke (token in the body) with a token without entity: its accessor',
    run: async ({ app, ok, root, rootAccessor, holderLogin }) => {
      const h = await holderLogin();
      await ok(request(app).post('/v1/auth/token/revoke').set(root).send({ token: h.headers['X-Vault-Token'] }));
      return { query: { event: 'token.revoked', entity_id: h.entityId }, accessor: h.accessor, expected: { entity_id: h.entityId, owner: 'team-ci', actor: rootAccessor } };
    },
  },
  {
    name: 'token.revoked by revoke-orphan: the operator',
    run: async ({ app, ok, holderLogin, ops }) => {
      const h = await holderLogin();
      await ok(request(app).post('/v1/auth/token/revoke-orphan').set(ops.headers).send({ token: h.headers['X-Vault-Token'] }));
      return { query: { event: 'token.revoked', entity_id: h.entityId }, accessor: h.accessor, expected: { entity_id: h.entityId, owner: 'team-ci', actor: ops.entityId } };
    },
  },
  {
    name: 'token.revoked by revoke-self: the holder',
    run: async ({ app, ok, holderLogin }) => {
      const h = await holderLogin();
      await ok(request(app).post('/v1/auth/token/revoke-self').set(h.headers));
      return { query: { event: 'token.revoked', entity_id: h.entityId }, accessor: h.accessor, expected: { entity_id: h.entityId, owner: 'team-ci', actor: h.entityId } };
    },
  },
  {
    name: 'lease.revoke_failed on a sync revoke: the operator; lease.irrevocable on the retry: scheduler',
    run: async ({ app, vault, clock, log, events, holderLogin, lease, ops }) => {
      const h = await holderLogin();
      const id = await lease(h);
      log.failRevocations = true;
      try {
        expect((await request(app).put('/v1/sys/leases/revoke').set(ops.headers).send({ lease_id: id })).status).toBeGreaterThanOrEqual(400);
        clock.advanceSeconds(1);
        await vault.expiration.sweep();
      } finally {
        log.failRevocations = false;
      }
      expect(await events({ event: 'lease.irrevocable', lease_id: id })).toEqual([expect.objectContaining({ entity_id: h.entityId, owner: 'team-ci', actor: 'scheduler' })]);
      return { query: { event: 'lease.revoke_failed', lease_id: id }, expected: { entity_id: h.entityId, owner: 'team-ci', actor: ops.entityId } };
    },
  },
  {
    name: 'secret.released: the reading holder',
    run: async ({ app, ok, holderLogin }) => {
      const h = await holderLogin();
      await ok(request(app).get('/v1/kv/data/app').set(h.headers));
      return { query: { event: 'secret.released', entity_id: h.entityId }, accessor: h.accessor, expected: { entity_id: h.entityId, owner: 'team-ci', actor: h.entityId } };
    },
  },
  {
    name: 'lease.expired at its TTL: scheduler',
    run: async ({ vault, clock, holderLogin, lease }) => {
      const h = await holderLogin();
      const id = await lease(h, 60);
      clock.advanceSeconds(61);
      await vault.expiration.sweep();
      return { query: { event: 'lease.expired', lease_id: id }, expected: { entity_id: h.entityId, owner: 'team-ci', actor: 'scheduler' } };
    },
  },
  {
    name: 'token.expired, and the lease it held: scheduler',
    run: async ({ vault, clock, events, holderLogin, lease }) => {
      const h = await holderLogin();
      const id = await lease(h, 7200);
      // Every holder token of the earlier cases expires too; this one is picked out by accessor.
      clock.advanceSeconds(2 * 3600 + 1);
      expect(vault.revokeExpiredTokens()).toBeGreaterThan(0);
      await vault.expiration.sweep();
      expect(await events({ event: 'lease.revoked', lease_id: id })).toEqual([expect.objectContaining({ entity_id: h.entityId, owner: 'team-ci', actor: 'scheduler' })]);
      return { query: { event: 'token.expired', entity_id: h.entityId }, accessor: h.accessor, expected: { entity_id: h.entityId, owner: 'team-ci', actor: 'scheduler' } };
    },
  },
  {
    name: 'entity.disabled through identity/: the operator',
    run: async ({ app, ok, login, ops }) => {
      // Its own role and entity: the holder's stays enabled for the offboarding below.
      const h = await (await login('leaving', 'holder', 'team-ci'))();
      await ok(request(app).post(`/v1/identity/entity/id/${h.entityId}`).set(ops.headers).send({ disabled: true }));
      return { query: { event: 'entity.disabled', entity_id: h.entityId }, expected: { entity_id: h.entityId, owner: '', actor: ops.entityId } };
    },
  },
];

describe('every ledger event kind names its holder, owner and actor', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await setup();
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { query, accessor, expected, count = 1 } = await c.run(ctx);
    const found = (await ctx.events(query)).filter((e) => accessor === undefined || e.accessor === accessor);
    expect(found).toHaveLength(count);
    for (const e of found) expect({ entity_id: e.entity_id ?? '', owner: e.owner ?? '', actor: e.actor }).toEqual(expected);
  });

  it('offboarding: offboarded and entity.disabled name the operator; the tokens and leases it revokes too', async () => {
    const { app, ok, events, holderLogin, lease, ops } = ctx;
    const h = await holderLogin();
    const id = await lease(h);
    await ok(request(app).post('/v1/sys/governance/offboard').set(ops.headers).send({ entity_id: h.entityId, reason: 'left' }));
    const by = (e: Event) => [e.event, e.entity_id, e.actor];
    expect((await events({ event: 'offboarded' })).map(by)).toEqual([['offboarded', h.entityId, ops.entityId]]);
    expect((await events({ event: 'entity.disabled', entity_id: h.entityId })).map(by).pop()).toEqual(['entity.disabled', h.entityId, ops.entityId]);
    expect((await events({ event: 'lease.revoked', lease_id: id })).map(by)).toEqual([['lease.revoked', h.entityId, ops.entityId]]);
    const revoked = (await events({ event: 'token.revoked', entity_id: h.entityId })).filter((e) => e.accessor === h.accessor);
    expect(revoked.map(by)).toEqual([['token.revoked', h.entityId, ops.entityId]]);
    expect((await request(app).get('/v1/sys/governance/ledger/verify').set(ctx.root)).body.data.verified).toBe(true);
  });
});
