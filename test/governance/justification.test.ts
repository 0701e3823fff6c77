// Justification on a real PostgreSQL credential: a rule that requires a reason refuses the request
// without one (400 naming the header and pattern, no role created in PostgreSQL) and issues it with
// one; the reason is on the lease lookup, in the audit entry and on the ledger's lease.issued event.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { tryLogin } from '../pg/cluster';
import { databaseVault } from '../engines/database/setup';
import { releaseHelpers } from './release-setup';

type Setup = Awaited<ReturnType<typeof databaseVault>>;

const POLICY = `
path "database/creds/justprod-*" {
  capabilities = ["read"]
  justification {
    required = true
    pattern  = "^(INC|CHG)-[0-9]+"
  }
}
path "sys/leases/lookup" { capabilities = ["update"] }
`;

async function rolesLike(s: Setup, fragment: string): Promise<number> {
  return s.scratch.sql(async (c) => Number((await c.query("SELECT count(*) AS n FROM pg_roles WHERE rolname LIKE '%' || $1 || '%'", [fragment])).rows[0].n));
}

describe('justification on a governed path', () => {
  let s: Setup;
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-just-'));
  });
  afterEach(async () => {
    await s?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a credential without a matching reason and issues it with one; lookup, audit and ledger show it', async () => {
    s = await databaseVault();
    await s.role('justprod-app');
    const h = releaseHelpers(s.app, s.root);
    await h.policy('justprod', POLICY);
    const auditFile = path.join(dir, 'audit.log');
    expect((await request(s.app).put('/v1/sys/audit/file').set(s.root).send({ type: 'file', options: { file_path: auditFile } })).status).toBe(204);
    const ci = await h.login('ci', ['justprod']);
    const before = await rolesLike(s, 'justprod');

    const missing = await request(s.app).get('/v1/database/creds/justprod-app').set(ci.headers);
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0]).toContain('X-Leasehold-Justification');
    expect(missing.body.errors[0]).toContain('^(INC|CHG)-[0-9]+');
    const wrong = await request(s.app).get('/v1/database/creds/justprod-app').set(ci.headers).set('X-Leasehold-Justification', 'because');
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0]).toContain('X-Leasehold-Justification');
    expect(wrong.body.errors[0]).toContain('^(INC|CHG)-[0-9]+');
    const tooLong = await request(s.app).get('/v1/database/creds/justprod-app').set(ci.headers).set('X-Leasehold-Justification', `INC-1 ${'x'.repeat(600)}`);
    expect(tooLong.status).toBe(400);
    expect(await rolesLike(s, 'justprod')).toBe(before);
    expect(s.db.prepare("SELECT count(*) AS n FROM leases WHERE request_path LIKE 'creds/justprod%'").get()).toEqual({ n: 0 });

    const reason = 'INC-4711 restore the orders table';
    const issued = await request(s.app).get('/v1/database/creds/justprod-app').set(ci.headers).set('X-Leasehold-Justification', reason);
    expect(issued.status).toBe(200);
    expect((await tryLogin(s.scratch.login(issued.body.data.username, issued.body.data.password))).ok).toBe(true);
    const leaseId = issued.body.lease_id as string;

    const lookup = await request(s.app).put('/v1/sys/leases/lookup').set(ci.headers).send({ lease_id: leaseId });
    expect(lookup.status).toBe(200);
    expect(lookup.body.data).toMatchObject({ id: leaseId, justification: reason, entity_id: ci.entityId, approvers: [] });

    const entries = fs.readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const forCreds = entries.filter((e) => e.request?.path === 'database/creds/justprod-app');
    expect(forCreds.some((e) => e.type === 'request' && e.request.justification === reason)).toBe(true);
    expect(forCreds.some((e) => e.type === 'response' && e.request.justification === reason && e.response?.secret?.lease_id)).toBe(true);
    // A refused request's entries carry what it gave (nothing, or the wrong reason) and the error.
    expect(forCreds.some((e) => e.type === 'response' && e.request.justification === 'because' && String(e.error).includes('X-Leasehold-Justification'))).toBe(true);

    const ledger = await request(s.app).get('/v1/sys/governance/ledger').query({ lease_id: leaseId }).set(s.root);
    expect(ledger.status).toBe(200);
    const issuedEvent = (ledger.body.data.events as { event: string; reason: string | null; entity_id: string | null }[]).find((e) => e.event === 'lease.issued');
    expect(issuedEvent).toMatchObject({ reason: reason, entity_id: ci.entityId });
    // Never stored in plaintext in the lease row.
    const row = s.db.prepare('SELECT payload FROM leases WHERE lease_id = ?').get(leaseId) as { payload: Buffer };
    expect(row.payload.toString('latin1')).not.toContain('INC-4711');
  });

  it("a login's justification applies to every request of its token; the header overrides it", async () => {
    s = await databaseVault();
    await s.role('justprod-login');
    const h = releaseHelpers(s.app, s.root);
    await h.policy('justprod', POLICY);
    const bad = await h.login('ci-bad', ['justprod'], { justification: 'no ticket' });
    expect((await request(s.app).get('/v1/database/creds/justprod-login').set(bad.headers)).status).toBe(400);
    const ci = await h.login('ci', ['justprod'], { justification: 'CHG-42 nightly migration' });
    expect((await request(s.app).get('/v1/auth/token/lookup-self').set(ci.headers)).body.data.justification).toBe('CHG-42 nightly migration');
    // Stored with the token, encrypted: not in the tokens table in plaintext.
    const tokenRow = s.db.prepare('SELECT * FROM tokens WHERE accessor = ?').get(ci.accessor) as Record<string, unknown>;
    expect(Object.keys(tokenRow).length).toBeGreaterThan(3);
    expect(Object.values(tokenRow).map((v) => (Buffer.isBuffer(v) || v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : String(v))).join('|')).not.toContain('CHG-42');
    const first = await request(s.app).get('/v1/database/creds/justprod-login').set(ci.headers);
    expect(first.status).toBe(200);
    const lookup = await request(s.app).put('/v1/sys/leases/lookup').set(s.root).send({ lease_id: first.body.lease_id });
    expect(lookup.body.data.justification).toBe('CHG-42 nightly migration');
    const second = await request(s.app).get('/v1/database/creds/justprod-login').set(ci.headers).set('X-Leasehold-Justification', 'INC-7 other reason');
    expect(second.status).toBe(200);
    expect((await request(s.app).put('/v1/sys/leases/lookup').set(s.root).send({ lease_id: second.body.lease_id })).body.data.justification).toBe('INC-7 other reason');
    // A non-string justification at login is refused.
    const roleId = (await request(s.app).get('/v1/auth/approle/role/ci/role-id').set(s.root)).body.data.role_id;
    const secretId = (await request(s.app).post('/v1/auth/approle/role/ci/secret-id').set(s.root)).body.data.secret_id;
    expect((await request(s.app).post('/v1/auth/approle/login').send({ role_id: roleId, secret_id: secretId, justification: { x: 1 } })).status).toBe(400);
  });
});
