// End to end: `governance runs [list|show|revoke]` against a dev server with two CI runs logged in
// through a JWT role with run_claims (tokens signed with a locally generated key).
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { githubClaims } from '../auth/github-token';
import { type CliHarness, ROOT_TOKEN, startCliHarness } from './cli-harness';

let harness: CliHarness;

beforeAll(async () => {
  harness = await startCliHarness();
});
afterAll(async () => {
  await harness?.close();
});

async function api(method: string, path: string, body?: unknown, token = ROOT_TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(`${harness.url}/v1/${path}`, { method, headers: { 'X-Vault-Token': token, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('leasehold governance runs against a dev server', () => {
  it('lists runs with their claims, shows one run\'s tokens, and revokes only that run', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    expect((await api('POST', 'sys/auth/jwt', { type: 'jwt' })).status).toBe(204);
    expect((await api('POST', 'auth/jwt/config', { jwt_validation_pubkeys: [await exportSPKI(publicKey)] })).status).toBe(204);
    const role = await api('POST', 'auth/jwt/role/ci', { user_claim: 'sub', bound_audiences: ['https://github.com/acme'], run_claims: 'repository,run_id,run_attempt', token_policies: ['default'] });
    expect(role.status).toBe(204);
    const login = async (runId: string) => {
      const now = Math.floor(Date.now() / 1000);
      const jwt = await new SignJWT({ ...githubClaims({ run_id: runId }), iat: now, exp: now + 300 }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
      const res = await api('POST', 'auth/jwt/login', { role: 'ci', jwt });
      expect(res.status).toBe(200);
      return res.body.auth as { client_token: string; accessor: string };
    };
    const first = await login('700');
    const second = await login('701');

    const listed = await harness.cli(['governance', 'runs', 'list', '-format=json']);
    expect(listed.code).toBe(0);
    const data = JSON.parse(listed.stdout) as { keys: string[]; key_info: Record<string, { claims: Record<string, string>; tokens: number }> };
    expect(data.keys).toHaveLength(2);
    const keyOf = (runId: string) => data.keys.find((k) => data.key_info[k]?.claims.run_id === runId) as string;
    expect(data.key_info[keyOf('700')]).toMatchObject({ claims: { repository: 'acme/app', run_id: '700', run_attempt: '1' }, tokens: 1 });

    // `governance runs` alone lists, as a table.
    const table = await harness.cli(['governance', 'runs']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^Run key\s+Claims\s+Tokens\s+Leases\s+Created\s+Revoked$/);
    expect(table.stdout).toContain('run_id=700');

    const shown = await harness.cli(['governance', 'runs', 'show', keyOf('700')]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(first.accessor);
    expect(shown.stdout).not.toContain(second.accessor);
    expect((await harness.cli(['governance', 'runs', 'show', 'bad/key'])).code).toBe(1);
    expect((await harness.cli(['governance', 'runs', 'show', 'A'.repeat(24)])).code).toBe(2);

    const revoked = await harness.cli(['governance', 'runs', 'revoke', '-format=json', '-reason=job leaked its token', keyOf('700')]);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ run_key: keyOf('700'), tokens_revoked: 1 });
    expect((await api('GET', 'auth/token/lookup-self', undefined, first.client_token)).status).toBe(403);
    expect((await api('GET', 'auth/token/lookup-self', undefined, second.client_token)).status).toBe(200);
    // Without sudo on sys/governance/runs the CLI reports the refusal.
    const refused = await harness.cli(['governance', 'runs', 'revoke', keyOf('701')], { token: second.client_token });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('permission denied');
    expect((await api('GET', 'auth/token/lookup-self', undefined, second.client_token)).status).toBe(200);
  });
});
