// A restore brings back a lease whose PostgreSQL user was dropped after the snapshot: when the lease
// expires it is revoked again, and that revocation succeeds against a real PostgreSQL although the
// role is already gone (DROP ROLE IF EXISTS), so the lease ends revoked, not retrying or irrevocable.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type RunningServer, startServer } from '../../src/server';
import { createScratch, tryLogin } from '../pg/cluster';
import { CREATE_ROLE_SQL } from '../engines/database/setup';

jest.setTimeout(60_000);

let dir: string;
let server: RunningServer;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-snapshot-pg-'));
  server = await startServer({ dataDir: dir, listen: '127.0.0.1:0', logLevel: 'silent' });
});
afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function api(method: string, apiPath: string, options: { token?: string; body?: unknown; bytes?: Buffer } = {}) {
  const headers: Record<string, string> = options.token ? { 'X-Vault-Token': options.token } : {};
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (options.bytes) headers['Content-Type'] = 'application/octet-stream';
  const res = await fetch(`${server.url}/v1/${apiPath}`, { method, headers, body: options.bytes ?? (options.body === undefined ? undefined : JSON.stringify(options.body)) });
  const bytes = Buffer.from(await res.arrayBuffer());
  const isJson = (res.headers.get('content-type') ?? '').startsWith('application/json');
  return { status: res.status, body: isJson ? (JSON.parse(bytes.toString('utf8')) as Record<string, any>) : undefined, bytes };
}

it('re-revokes, idempotently, a database lease revoked after the snapshot', async () => {
  const scratch = await createScratch();
  const init = await api('PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
  const token = init.body?.root_token as string;
  const key = init.body?.keys_base64[0] as string;
  await api('PUT', 'sys/unseal', { body: { key } });
  expect((await api('POST', 'sys/mounts/database', { token, body: { type: 'database' } })).status).toBe(204);
  const config = { plugin_name: 'postgresql-database-plugin', connection_url: scratch.connectionUrl, username: scratch.vaultUser, password: scratch.vaultPassword, allowed_roles: '*' };
  expect((await api('POST', 'database/config/pg', { token, body: config })).status).toBe(204);
  expect((await api('POST', 'database/roles/app', { token, body: { db_name: 'pg', creation_statements: [CREATE_ROLE_SQL], default_ttl: '3s', max_ttl: '1h' } })).status).toBe(204);
  const creds = await api('GET', 'database/creds/app', { token });
  const { username, password } = creds.body?.data as { username: string; password: string };
  const leaseId = creds.body?.lease_id as string;
  expect((await tryLogin(scratch.login(username, password))).ok).toBe(true);

  const snap = await api('GET', 'sys/storage/snapshot', { token });
  expect(snap.status).toBe(200);
  // After the snapshot the lease is revoked and its role dropped.
  expect((await api('PUT', 'sys/leases/revoke', { token, body: { lease_id: leaseId } })).status).toBe(204);
  expect(await scratch.roleExists(username)).toBe(false);

  const restored = await api('POST', 'sys/storage/snapshot-restore', { token, bytes: snap.bytes });
  expect(restored.status).toBe(200);
  await api('PUT', 'sys/unseal', { body: { key } });
  expect(server.vault.seal.sealed).toBe(false);
  const leaseRow = () => server.vault.deps.db.prepare('SELECT state, attempts, last_error FROM leases WHERE lease_id = ?').get(leaseId) as { state: string; attempts: number; last_error: string | null };
  // The snapshot shows it live; once it expires the sweep revokes it again, and the missing role is no error.
  expect(leaseRow().state).toBe('active');
  const deadline = Date.now() + 15_000;
  while (leaseRow().state === 'active' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  while (leaseRow().state === 'revoking' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  expect(leaseRow()).toMatchObject({ state: 'revoked', last_error: null });
  expect(await scratch.roleExists(username)).toBe(false);
  expect((await tryLogin(scratch.login(username, password))).ok).toBe(false);
});
