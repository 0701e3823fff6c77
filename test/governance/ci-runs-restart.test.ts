// A restart between a CI run's login and its run-end delivery loses nothing: the run (and its key,
// derived from the keyring), the tokens bound to it and the webhook receiver are all on disk.
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { githubClaims } from '../auth/github-token';
import { listen, newVault } from '../helpers/vault';

const SECRET = 'whsec-restart-0123456789';
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'leasehold-runs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function call(url: string, method: string, p: string, options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...options.headers };
  if (options.token) headers['X-Vault-Token'] = options.token;
  const res = await fetch(`${url}/v1/${p}`, { method, headers, body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as any) : undefined };
}

describe('CI runs across a restart', () => {
  it('a delivery after a restart revokes the run that logged in before it, and only that run', async () => {
    const file = path.join(dir, 'leasehold.db');
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const first = newVault({ file });
    const init = await first.vault.initialize(1, 1);
    const key = Buffer.from(init.keys[0] as Uint8Array).toString('hex');
    await first.vault.seal.submitShare(key);
    let server = await listen(first.app);
    const root = init.rootToken;
    expect((await call(server.url, 'POST', 'sys/auth/jwt', { token: root, body: { type: 'jwt' } })).status).toBe(204);
    expect((await call(server.url, 'POST', 'auth/jwt/config', { token: root, body: { jwt_validation_pubkeys: [await exportSPKI(publicKey)] } })).status).toBe(204);
    const role = { user_claim: 'sub', bound_audiences: ['https://github.com/acme'], run_claims: ['repository', 'run_id', 'run_attempt'], token_policies: ['default'] };
    expect((await call(server.url, 'POST', 'auth/jwt/role/ci', { token: root, body: role })).status).toBe(204);
    expect((await call(server.url, 'PUT', 'sys/governance/webhooks/github/acme', { token: root, body: { secret: SECRET, jwt_mount: 'jwt', roles: ['ci'] } })).status).toBe(204);
    const login = async (runId: string) => {
      const now = Math.floor(Date.now() / 1000);
      const jwt = await new SignJWT({ ...githubClaims({ run_id: runId }), iat: now, exp: now + 300 }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
      const res = await call(server.url, 'POST', 'auth/jwt/login', { body: { role: 'ci', jwt } });
      expect(res.status).toBe(200);
      return res.body.auth.client_token as string;
    };
    const a = await login('800');
    const b = await login('801');
    await server.close();
    await first.vault.seal.seal();
    first.db.close();

    const second = newVault({ file });
    await second.vault.seal.submitShare(key);
    server = await listen(second.app);
    try {
      const raw = JSON.stringify({ action: 'completed', workflow_run: { id: 800, run_attempt: 1, updated_at: new Date().toISOString() }, repository: { full_name: 'acme/app' } });
      const res = await call(server.url, 'POST', 'sys/governance/webhooks/github/acme/deliver', {
        raw,
        headers: { 'X-GitHub-Event': 'workflow_run', 'X-GitHub-Delivery': 'restart-0001', 'X-Hub-Signature-256': `sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}` },
      });
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ acted: true, runs: 1, tokens_revoked: 1 });
      expect((await call(server.url, 'GET', 'auth/token/lookup-self', { token: a })).status).toBe(403);
      expect((await call(server.url, 'GET', 'auth/token/lookup-self', { token: b })).status).toBe(200);
    } finally {
      await server.close();
      await second.vault.seal.seal();
      second.db.close();
    }
  });
});
