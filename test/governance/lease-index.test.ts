// sys/governance/leases and sys/governance/summary: the lease table an operator (and the console)
// reads — filtered by mount, owner, holder and state, in expiry order, paged by an opaque cursor —
// with no secret data in it; bad input is a 400.
import request from 'supertest';
import { approleCredsVault } from '../identity/approle-creds-vault';

type Setup = Awaited<ReturnType<typeof approleCredsVault>>;

async function login(s: Setup, role: string, owner: string) {
  await request(s.app).post(`/v1/auth/approle/role/${role}`).set(s.root).send({ token_policies: ['creds'], owner });
  const roleId = (await request(s.app).get(`/v1/auth/approle/role/${role}/role-id`).set(s.root)).body.data.role_id;
  const secretId = (await request(s.app).post(`/v1/auth/approle/role/${role}/secret-id`).set(s.root)).body.data.secret_id;
  return (await request(s.app).post('/v1/auth/approle/login').send({ role_id: roleId, secret_id: secretId })).body.auth;
}

describe('sys/governance/leases', () => {
  let s: Setup;
  const leases: { a: string[]; b: string[] } = { a: [], b: [] };
  let entityA = '';

  beforeAll(async () => {
    s = await approleCredsVault();
    const a = await login(s, 'svc-a', 'team-a');
    const b = await login(s, 'svc-b', 'team-b');
    entityA = a.entity_id;
    for (let i = 0; i < 5; i++) {
      const ra = await request(s.app).get(`/v1/creds/creds/web?ttl=${100 + i}`).set('X-Vault-Token', a.client_token);
      leases.a.push(ra.body.lease_id);
      const rb = await request(s.app).get(`/v1/creds/creds/web?ttl=${200 + i}`).set('X-Vault-Token', b.client_token);
      leases.b.push(rb.body.lease_id);
    }
  });

  it('lists live leases in expiry order with holder and owner, and no secret data', async () => {
    const res = await request(s.app).get('/v1/sys/governance/leases').set(s.root);
    expect(res.status).toBe(200);
    const ids = res.body.data.leases.map((l: { lease_id: string }) => l.lease_id);
    expect(ids).toEqual([...leases.a, ...leases.b]);
    expect(res.body.data.leases[0]).toMatchObject({ mount: 'creds/', state: 'active', owner: 'team-a', entity_id: entityA, renewable: true });
    expect(JSON.stringify(res.body)).not.toMatch(/pw-\d/);
    expect(res.body.data.next).toBeNull();
  });

  it('filters by owner, holder, mount and state, and pages by cursor', async () => {
    const byOwner = await request(s.app).get('/v1/sys/governance/leases?owner=team-b').set(s.root);
    expect(byOwner.body.data.leases.map((l: { lease_id: string }) => l.lease_id)).toEqual(leases.b);
    const byHolder = await request(s.app).get(`/v1/sys/governance/leases?entity_id=${entityA}`).set(s.root);
    expect(byHolder.body.data.leases.map((l: { lease_id: string }) => l.lease_id)).toEqual(leases.a);
    expect((await request(s.app).get('/v1/sys/governance/leases?mount=secret/').set(s.root)).body.data.leases).toEqual([]);
    expect((await request(s.app).get('/v1/sys/governance/leases?mount=creds').set(s.root)).body.data.leases).toHaveLength(10);
    const seen: string[] = [];
    let after: string | null = '';
    while (after !== null) {
      const page: request.Response = await request(s.app).get('/v1/sys/governance/leases').query({ limit: 3, ...(after ? { after } : {}) }).set(s.root);
      expect(page.body.data.leases.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.data.leases.map((l: { lease_id: string }) => l.lease_id));
      after = page.body.data.next;
    }
    expect(seen).toEqual([...leases.a, ...leases.b]);
    await request(s.app).put('/v1/sys/leases/revoke').set(s.root).send({ lease_id: leases.a[0] });
    const live = await request(s.app).get('/v1/sys/governance/leases?owner=team-a').set(s.root);
    expect(live.body.data.leases.map((l: { lease_id: string }) => l.lease_id)).not.toContain(leases.a[0]);
  });

  it('refuses a forged cursor, an unknown state and an oversized page with 400', async () => {
    for (const q of ['after=bm90LWEtY3Vyc29y', 'state=gone', 'limit=100000']) {
      const res = await request(s.app).get(`/v1/sys/governance/leases?${q}`).set(s.root);
      expect(res.status).toBe(400);
      expect(res.body.errors.length).toBeGreaterThan(0);
    }
  });

  it('needs a policy that grants read on it', async () => {
    const a = await login(s, 'svc-c', 'team-c');
    expect((await request(s.app).get('/v1/sys/governance/leases').set('X-Vault-Token', a.client_token)).status).toBe(403);
    expect((await request(s.app).get('/v1/sys/governance/summary').set('X-Vault-Token', a.client_token)).status).toBe(403);
  });

  it('summarises live leases and tokens, and what expires within the hour', async () => {
    const res = await request(s.app).get('/v1/sys/governance/summary').set(s.root);
    expect(res.body.data).toMatchObject({ live_leases: expect.any(Number), leases_expiring_within_hour: expect.any(Number), revocations_pending: expect.any(Number), revocations_irrevocable: 0 });
    const live = (await request(s.app).get('/v1/sys/governance/leases?state=active').set(s.root)).body.data.leases.length;
    expect(res.body.data.live_leases).toBe(live);
    expect(res.body.data.leases_expiring_within_hour).toBe(live); // every test lease lives a few minutes
    expect(res.body.data.live_tokens).toBeGreaterThanOrEqual(4); // root and three logins
  });
});
