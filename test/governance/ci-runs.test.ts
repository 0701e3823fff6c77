// Credentials bound to one CI run (issue 17 section 3), end to end over real HTTP: JWT logins with
// a locally generated key through a role with run_claims, PostgreSQL credentials from a real
// cluster, and GitHub/GitLab-shaped run-end webhook deliveries. Only the delivered run and attempt
// loses its tokens and leases (roles dropped in PostgreSQL); a wrong signature, a replayed
// delivery id, an unrelated event and a run still in progress change nothing.
import { createHmac } from 'node:crypto';
import { exportSPKI, generateKeyPair, type CryptoKey, type JWTPayload, SignJWT } from 'jose';
import { tryLogin } from '../pg/cluster';
import { databaseVault } from '../engines/database/setup';
import { listen } from '../helpers/vault';
import { GITHUB_ISSUER, githubClaims } from '../auth/github-token';
import { rememberDelivery } from '../../src/core/governance/webhooks';
import { openDatabase } from '../../src/storage/database';

const SECRET = 'whsec-0123456789abcdef';
const GITLAB_TOKEN = 'gitlab-shared-0123456789';
const GITLAB_ISSUER = 'https://gitlab.example.com';

type Setup = Awaited<ReturnType<typeof setup>>;

let privateKey: CryptoKey;
let publicPem: string;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  publicPem = await exportSPKI(pair.publicKey);
});

async function setup() {
  const v = await databaseVault();
  const server = await listen(v.app);
  const call = async (method: string, path: string, options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers['X-Vault-Token'] = options.token;
    let body: string | undefined = options.raw;
    if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['Content-Type'] ??= 'application/json';
    const res = await fetch(`${server.url}/v1/${path}`, { method, headers, body });
    const text = await res.text();
    return { status: res.status, text, body: text ? (JSON.parse(text) as any) : undefined };
  };
  const asRoot = (method: string, path: string, body?: unknown) => call(method, path, { token: v.rootToken, body });
  const ok = async (res: Promise<{ status: number; text: string }>, status = 204) => {
    const r = await res;
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${r.text}`);
    return r as Awaited<ReturnType<typeof call>>;
  };

  await v.role('app');
  await ok(asRoot('PUT', 'sys/policies/acl/deploy', { policy: 'path "database/creds/app" { capabilities = ["read"] }\npath "auth/token/create" { capabilities = ["update"] }' }));
  await ok(asRoot('POST', 'sys/auth/jwt', { type: 'jwt' }));
  await ok(asRoot('POST', 'auth/jwt/config', { jwt_validation_pubkeys: [publicPem] }));
  await ok(
    asRoot('POST', 'auth/jwt/role/ci', {
      role_type: 'jwt',
      user_claim: 'sub',
      bound_audiences: ['https://github.com/acme'],
      bound_claims: { iss: GITHUB_ISSUER },
      run_claims: ['repository', 'run_id', 'run_attempt'],
      token_policies: ['deploy'],
      token_ttl: '15m',
    }),
  );
  await ok(
    asRoot('POST', 'auth/jwt/role/gl', {
      role_type: 'jwt',
      user_claim: 'sub',
      bound_audiences: ['https://gitlab.example.com'],
      bound_claims: { iss: GITLAB_ISSUER },
      run_claims: ['project_path', 'pipeline_id'],
      token_policies: ['deploy'],
      token_ttl: '15m',
    }),
  );
  await ok(asRoot('PUT', 'sys/governance/webhooks/github/acme', { secret: SECRET, jwt_mount: 'jwt', roles: ['ci'] }));
  await ok(asRoot('PUT', 'sys/governance/webhooks/gitlab/main', { secret: GITLAB_TOKEN, jwt_mount: 'auth/jwt/', roles: ['gl'] }));

  const now = () => Math.floor(Date.now() / 1000);
  const sign = (claims: JWTPayload) => new SignJWT({ iat: now(), nbf: now() - 5, exp: now() + 300, ...claims }).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(privateKey);

  /** One CI job: a login, a child token, and a PostgreSQL credential through each. */
  const job = async (role: string, claims: JWTPayload) => {
    const login = await ok(call('POST', 'auth/jwt/login', { body: { role, jwt: await sign(claims) } }), 200);
    const token = login.body.auth.client_token as string;
    const child = (await ok(call('POST', 'auth/token/create', { token, body: { policies: ['deploy'] } }), 200)).body.auth.client_token as string;
    const creds = [];
    for (const t of [token, child]) {
      const res = await ok(call('GET', 'database/creds/app', { token: t }), 200);
      creds.push({ leaseId: res.body.lease_id as string, username: res.body.data.username as string, password: res.body.data.password as string });
    }
    return { token, child, accessor: login.body.auth.accessor as string, creds };
  };
  const github = (runId: number, attempt: number) => job('ci', githubClaims({ run_id: String(runId), run_attempt: String(attempt) }));
  const gitlab = (pipelineId: number) =>
    job('gl', { iss: GITLAB_ISSUER, aud: 'https://gitlab.example.com', sub: `project_path:acme/infra:ref_type:branch:ref:main`, project_path: 'acme/infra', pipeline_id: String(pipelineId) });

  /** Whether a job still has everything: both tokens valid and both PostgreSQL roles present and usable. */
  const intact = async (j: Awaited<ReturnType<typeof job>>) => {
    for (const t of [j.token, j.child]) if ((await call('GET', 'auth/token/lookup-self', { token: t })).status !== 200) return false;
    for (const c of j.creds) if (!(await v.scratch.roleExists(c.username)) || !(await tryLogin(v.scratch.login(c.username, c.password))).ok) return false;
    return true;
  };
  /** Whether a job has nothing left: tokens refused, roles dropped, leases revoked. */
  const gone = async (j: Awaited<ReturnType<typeof job>>) => {
    for (const t of [j.token, j.child]) if ((await call('GET', 'auth/token/lookup-self', { token: t })).status !== 403) return false;
    for (const c of j.creds) {
      if (await v.scratch.roleExists(c.username)) return false;
      if (v.vault.expiration.state(c.leaseId)?.state !== 'revoked') return false;
    }
    return true;
  };

  const deliverGithub = (event: string, payload: unknown, options: { deliveryId?: string; secret?: string; signature?: string | null; receiver?: string } = {}) => {
    const raw = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const signature = options.signature === undefined ? `sha256=${createHmac('sha256', options.secret ?? SECRET).update(raw).digest('hex')}` : options.signature;
    const headers: Record<string, string> = { 'X-GitHub-Event': event, 'X-GitHub-Delivery': options.deliveryId ?? crypto.randomUUID(), 'User-Agent': 'GitHub-Hookshot/test' };
    if (signature !== null) headers['X-Hub-Signature-256'] = signature;
    return call('POST', `sys/governance/webhooks/github/${options.receiver ?? 'acme'}/deliver`, { raw, headers });
  };
  const deliverGitlab = (payload: unknown, token: string | null = GITLAB_TOKEN, uuid = crypto.randomUUID()) => {
    const headers: Record<string, string> = { 'X-Gitlab-Event': 'Pipeline Hook', 'X-Gitlab-Event-UUID': uuid };
    if (token !== null) headers['X-Gitlab-Token'] = token;
    return call('POST', 'sys/governance/webhooks/gitlab/main/deliver', { raw: JSON.stringify(payload), headers });
  };

  return {
    ...v,
    url: server.url,
    call,
    asRoot,
    ok,
    github,
    gitlab,
    intact,
    gone,
    deliverGithub,
    deliverGitlab,
    async close() {
      await server.close();
      await v.close();
    },
  };
}

/** GitHub's workflow_run payload (the fields that matter, plus some noise). */
function workflowRun(runId: number, attempt: number, action = 'completed', repository = 'acme/app') {
  return {
    action,
    workflow_run: { id: runId, run_attempt: attempt, name: 'deploy', status: action === 'completed' ? 'completed' : 'in_progress', conclusion: action === 'completed' ? 'success' : null, updated_at: new Date().toISOString(), head_branch: 'main' },
    repository: { id: 1, full_name: repository, private: true },
    sender: { login: 'octocat' },
  };
}

function gitlabPipeline(id: number, status: string) {
  return { object_kind: 'pipeline', object_attributes: { id, status, ref: 'main', finished_at: status === 'running' ? null : new Date().toISOString() }, project: { id: 7, path_with_namespace: 'acme/infra' } };
}

describe('credentials bound to one CI run', () => {
  let s: Setup;
  afterEach(async () => {
    await s?.close();
  });

  it('a signed workflow_run completed delivery revokes exactly that run and attempt; bad signatures, replays and other events change nothing', async () => {
    s = await setup();
    const a1 = await s.github(100, 1);
    const a2 = await s.github(100, 2);
    const b = await s.github(200, 1);

    // The runs are listed with their claims; one run's key shows its tokens and leases.
    const list = await s.ok(s.call('LIST', 'sys/governance/runs', { token: s.rootToken }), 200);
    expect(list.body.data.keys).toHaveLength(3);
    const keyOf = (runId: string, attempt: string) =>
      Object.entries(list.body.data.key_info as Record<string, { claims: Record<string, string> }>).find(([, info]) => info.claims.run_id === runId && info.claims.run_attempt === attempt)?.[0] as string;
    const keyA1 = keyOf('100', '1');
    expect(keyA1).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(list.body.data.key_info[keyA1]).toMatchObject({ claims: { repository: 'acme/app', run_id: '100', run_attempt: '1' }, tokens: 2, leases: 2 });
    const shown = await s.ok(s.call('GET', `sys/governance/runs/${keyA1}`, { token: s.rootToken }), 200);
    expect(shown.body.data.tokens.map((t: { accessor: string }) => t.accessor)).toContain(a1.accessor);
    expect(shown.body.data.leases.map((l: { lease_id: string }) => l.lease_id).sort()).toEqual(a1.creds.map((c) => c.leaseId).sort());
    // A run token cannot look at the runs.
    expect((await s.call('LIST', 'sys/governance/runs', { token: a1.token })).status).toBe(403);

    // Wrong secret, a signature over other bytes, no signature, an unknown receiver: 401 and nothing revealed.
    const payload = workflowRun(100, 1);
    for (const res of [
      await s.deliverGithub('workflow_run', payload, { secret: 'not-the-secret-0123456789' }),
      await s.deliverGithub('workflow_run', payload, { signature: `sha256=${createHmac('sha256', SECRET).update(JSON.stringify(workflowRun(100, 2))).digest('hex')}` }),
      await s.deliverGithub('workflow_run', payload, { signature: null }),
      await s.deliverGithub('workflow_run', payload, { signature: 'sha256=zz' }),
      await s.deliverGithub('workflow_run', payload, { receiver: 'nobody' }),
    ]) {
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ errors: ['invalid webhook signature'] });
    }
    // Signed, but an event that does not end a run: acknowledged, nothing changes.
    expect((await s.deliverGithub('workflow_run', workflowRun(100, 1, 'in_progress'))).status).toBe(200);
    expect((await s.deliverGithub('workflow_run', workflowRun(100, 1, 'requested'))).status).toBe(200);
    const job = await s.deliverGithub('workflow_job', { action: 'completed', workflow_job: { id: 5, run_id: 100, run_attempt: 1 }, repository: { full_name: 'acme/app' } });
    expect(job.status).toBe(200);
    expect(job.body.data).toMatchObject({ acted: false });
    expect((await s.deliverGithub('push', { ref: 'refs/heads/main', repository: { full_name: 'acme/app' } })).status).toBe(200);
    // A completed run of another repository with the same id and attempt is another run.
    expect((await s.deliverGithub('workflow_run', workflowRun(100, 1, 'completed', 'acme/other'))).body.data).toMatchObject({ acted: false, tokens_revoked: 0, leases_revoked: 0 });
    for (const j of [a1, a2, b]) expect(await s.intact(j)).toBe(true);

    // The real one: run 100 attempt 1 is gone, attempt 2 and run 200 keep everything.
    const delivered = await s.deliverGithub('workflow_run', payload, { deliveryId: 'f1e2d3c4-0000-4000-8000-000000000001' });
    expect(delivered.status).toBe(200);
    expect(delivered.body.data).toMatchObject({ acted: true, runs: 1, tokens_revoked: 2, leases_revoked: 2, leases_pending: 0 });
    expect(await s.gone(a1)).toBe(true);
    expect(await s.intact(a2)).toBe(true);
    expect(await s.intact(b)).toBe(true);

    // The same delivery id again, even signed and naming run 200: refused, run 200 untouched.
    const replay = await s.deliverGithub('workflow_run', workflowRun(200, 1), { deliveryId: 'f1e2d3c4-0000-4000-8000-000000000001' });
    expect(replay.status).toBe(409);
    expect(await s.intact(b)).toBe(true);

    // A second delivery (new id) for the revoked run acts on nothing and records nothing more.
    expect((await s.deliverGithub('workflow_run', payload)).body.data).toMatchObject({ acted: false, runs: 0 });

    // The ended run cannot log in again with a (still valid) token of that run; its show says revoked.
    const again = await s.call('POST', 'auth/jwt/login', { body: { role: 'ci', jwt: await new SignJWT({ ...githubClaims({ run_id: '100', run_attempt: '1' }), iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 300 }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey) } });
    expect(again.status).toBe(400);
    expect((await s.ok(s.call('GET', `sys/governance/runs/${keyA1}`, { token: s.rootToken }), 200)).body.data.revoked_time).not.toBeNull();

    // The ledger records the delivery and the run's revocation.
    const ledger = await s.ok(s.call('GET', 'sys/governance/ledger?event=run.revoked', { token: s.rootToken }), 200);
    expect(ledger.body.data.events).toHaveLength(1);
    expect(ledger.body.data.events[0]).toMatchObject({ actor: 'webhook:github/acme', detail: `run_key=${keyA1} tokens_revoked=2 leases_revoked=2 leases_pending=0` });
    const deliveries = await s.ok(s.call('GET', 'sys/governance/ledger?event=webhook.delivered', { token: s.rootToken }), 200);
    expect(deliveries.body.data.events).toHaveLength(1);
    expect(deliveries.body.data.events[0].detail).toContain('delivery=f1e2d3c4-0000-4000-8000-000000000001');

    // Each delivery is counted by outcome: five bad signatures and the replay refused, six acknowledged without acting, one that acted.
    const metrics = await (await fetch(`${s.url}/v1/sys/metrics?format=prometheus`, { headers: { 'X-Vault-Token': s.rootToken } })).text();
    const counted = (outcome: string) => Number(new RegExp(`^leasehold_webhook_deliveries_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(metrics)?.[1]);
    expect([counted('rejected'), counted('ignored'), counted('accepted')]).toEqual([6, 6, 1]);
  });

  it('sys/governance/runs/:run_key/revoke revokes one run by key; the webhook secret is never returned', async () => {
    s = await setup();
    const a = await s.github(300, 1);
    const b = await s.github(301, 1);
    const list = await s.ok(s.call('LIST', 'sys/governance/runs', { token: s.rootToken }), 200);
    const keyA = Object.entries(list.body.data.key_info as Record<string, { claims: Record<string, string> }>).find(([, i]) => i.claims.run_id === '300')?.[0] as string;

    expect((await s.call('POST', `sys/governance/runs/${keyA}/revoke`, { token: a.token, body: {} })).status).toBe(403);
    expect((await s.call('POST', 'sys/governance/runs/not-a-key/revoke', { token: s.rootToken, body: {} })).status).toBe(400);
    expect((await s.call('POST', `sys/governance/runs/${'A'.repeat(24)}/revoke`, { token: s.rootToken, body: {} })).status).toBe(404);
    const revoked = await s.ok(s.call('POST', `sys/governance/runs/${keyA}/revoke`, { token: s.rootToken, body: { reason: 'INC-42 leaked log' } }), 200);
    expect(revoked.body.data).toMatchObject({ run_key: keyA, tokens_revoked: 2, leases_revoked: 2, leases_pending: 0 });
    expect(await s.gone(a)).toBe(true);
    expect(await s.intact(b)).toBe(true);
    const ledger = await s.ok(s.call('GET', 'sys/governance/ledger?event=run.revoked', { token: s.rootToken }), 200);
    expect(ledger.body.data.events[0]).toMatchObject({ reason: 'INC-42 leaked log' });

    const config = await s.ok(s.call('GET', 'sys/governance/webhooks/github/acme', { token: s.rootToken }), 200);
    expect(config.body.data).toEqual({ jwt_mount: 'auth/jwt/', roles: ['ci'], secret_set: true });
    expect(config.text).not.toContain(SECRET);
    // The configuration is a barrier record: the secret is not in the database file in plaintext.
    const rows = s.db.prepare("SELECT value FROM entries WHERE path LIKE '%governance/webhooks/%'").all() as { value: Buffer }[];
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(Buffer.from(row.value).includes(Buffer.from(SECRET))).toBe(false);
    expect((await s.call('PUT', 'sys/governance/webhooks/github/short', { token: s.rootToken, body: { secret: 'short', jwt_mount: 'jwt', roles: ['ci'] } })).status).toBe(400);
    expect((await s.call('PUT', 'sys/governance/webhooks/github/x', { token: a.token, body: { secret: SECRET, jwt_mount: 'jwt', roles: ['ci'] } })).status).toBe(403);
    await s.ok(s.call('DELETE', 'sys/governance/webhooks/github/acme', { token: s.rootToken }));
    expect((await s.deliverGithub('workflow_run', workflowRun(301, 1))).status).toBe(401);
    expect(await s.intact(b)).toBe(true);
  });

  it('a GitLab pipeline event with the shared token revokes that pipeline when it finishes, and nothing else', async () => {
    s = await setup();
    const p1 = await s.gitlab(5001);
    const p2 = await s.gitlab(5002);
    expect((await s.deliverGitlab(gitlabPipeline(5001, 'success'), 'wrong-token-0123456789')).status).toBe(401);
    expect((await s.deliverGitlab(gitlabPipeline(5001, 'success'), null)).status).toBe(401);
    expect((await s.deliverGitlab(gitlabPipeline(5001, 'running'))).body.data).toMatchObject({ acted: false });
    expect((await s.deliverGitlab({ object_kind: 'push', project: { path_with_namespace: 'acme/infra' } })).body.data).toMatchObject({ acted: false });
    expect(await s.intact(p1)).toBe(true);

    const uuid = crypto.randomUUID();
    const done = await s.deliverGitlab(gitlabPipeline(5001, 'failed'), GITLAB_TOKEN, uuid);
    expect(done.body.data).toMatchObject({ acted: true, tokens_revoked: 2, leases_revoked: 2 });
    expect(await s.gone(p1)).toBe(true);
    expect(await s.intact(p2)).toBe(true);
    expect((await s.deliverGitlab(gitlabPipeline(5002, 'success'), GITLAB_TOKEN, uuid)).status).toBe(409);
    expect(await s.intact(p2)).toBe(true);
  });

  it('bounds the delivery body at 5 MiB on the deliver route', async () => {
    s = await setup();
    const big = { ...workflowRun(1, 1, 'in_progress'), padding: 'x'.repeat(4 * 1024 * 1024) };
    expect((await s.deliverGithub('workflow_run', big)).status).toBe(200);
    const tooBig = { ...workflowRun(1, 1), padding: 'x'.repeat(5 * 1024 * 1024) };
    expect((await s.deliverGithub('workflow_run', tooBig)).status).toBe(413);
  });

  it('validates run_claims on the role and refuses a login that lacks one', async () => {
    s = await setup();
    const read = await s.ok(s.call('GET', 'auth/jwt/role/ci', { token: s.rootToken }), 200);
    expect(read.body.data.run_claims).toEqual(['repository', 'run_id', 'run_attempt']);
    const tooMany = await s.call('POST', 'auth/jwt/role/ci', { token: s.rootToken, body: { run_claims: Array.from({ length: 9 }, (_, i) => `c${i}`) } });
    expect(tooMany.status).toBe(400);
    const missing = await s.call('POST', 'auth/jwt/login', {
      body: { role: 'ci', jwt: await new SignJWT({ ...githubClaims(), run_attempt: undefined, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 300 }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey) },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0]).toContain('run_attempt');
  });
});

describe('remembered webhook delivery ids', () => {
  it('refuses a repeat, forgets ids past the retention, and keeps at most the cap (oldest go first)', () => {
    const db = openDatabase(':memory:');
    const limits = { retentionMs: 1000, max: 3 };
    expect(rememberDelivery(db, 'github/a', 'd1', 10_000, limits)).toBe(true);
    expect(rememberDelivery(db, 'github/a', 'd1', 10_001, limits)).toBe(false);
    // Another receiver has its own ids.
    expect(rememberDelivery(db, 'github/b', 'd1', 10_002, limits)).toBe(true);
    expect(rememberDelivery(db, 'github/a', 'd2', 10_003, limits)).toBe(true);
    expect(rememberDelivery(db, 'github/a', 'd3', 10_004, limits)).toBe(true);
    const count = () => (db.prepare('SELECT COUNT(*) AS n FROM governance_webhook_deliveries').get() as { n: number }).n;
    expect(count()).toBe(3);
    // The oldest (github/a d1) made room.
    expect(rememberDelivery(db, 'github/a', 'd1', 10_005, limits)).toBe(true);
    expect(rememberDelivery(db, 'github/a', 'd4', 20_000, limits)).toBe(true);
    expect(count()).toBe(1);
    db.close();
  });
});

describe('webhook receiver configuration', () => {
  let s: Setup;
  afterEach(async () => {
    await s?.close();
  });

  it('warns about roles a delivery cannot act on, and refuses a receiver without secret, mount or roles', async () => {
    s = await setup();
    const warned = await s.ok(s.asRoot('PUT', 'sys/governance/webhooks/github/mixed', { secret: SECRET, jwt_mount: 'jwt', roles: ['ci', 'gl', 'nope'] }), 200);
    expect(warned.body.warnings).toHaveLength(2);
    expect(warned.body.warnings.join(' ')).toContain('"gl"');
    expect(warned.body.warnings.join(' ')).toContain('"nope"');
    expect((await s.asRoot('PUT', 'sys/governance/webhooks/github/none', { jwt_mount: 'jwt', roles: ['ci'] })).status).toBe(400);
    expect((await s.asRoot('PUT', 'sys/governance/webhooks/github/none', { secret: SECRET, roles: ['ci'] })).status).toBe(400);
    expect((await s.asRoot('PUT', 'sys/governance/webhooks/github/none', { secret: SECRET, jwt_mount: 'jwt' })).status).toBe(400);
    expect((await s.asRoot('PUT', 'sys/governance/webhooks/github/none', { secret: SECRET, jwt_mount: '../sys', roles: ['ci'] })).status).toBe(400);
    // A later write without the secret keeps it.
    await s.ok(s.asRoot('PUT', 'sys/governance/webhooks/github/acme', { roles: ['ci'] }));
    const a = await s.github(900, 1);
    expect((await s.deliverGithub('workflow_run', workflowRun(900, 1))).body.data).toMatchObject({ acted: true, tokens_revoked: 2 });
    expect(await s.gone(a)).toBe(true);
    const listed = await s.ok(s.call('LIST', 'sys/governance/webhooks/github', { token: s.rootToken }), 200);
    expect(listed.body.data.keys.sort()).toEqual(['acme', 'mixed']);
  });
});
