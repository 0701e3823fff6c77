// The API driven by the real Python client: Debian's python3-hvac, unchanged, against a real
// listener. Each script asserts as it goes and exits non-zero on the first failure.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { leaseEngine } from '../helpers/lease-engine';
import { runPython } from '../helpers/python';
import { listen, newVault, unsealedVault } from '../helpers/vault';

const script = (name: string) => path.join(__dirname, 'hvac', name);

describe('python3-hvac', () => {
  let url: string;
  let close: () => Promise<void>;
  let root: string;
  let tmp: string;
  const engine = leaseEngine();

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-hvac-'));
    const v = await unsealedVault({ registry: { leases: engine.factory } });
    root = v.rootToken;
    const server = await listen(v.app);
    url = server.url;
    close = server.close;
    const mounted = await fetch(`${url}/v1/sys/mounts/dyn`, { method: 'POST', headers: { 'X-Vault-Token': root }, body: JSON.stringify({ type: 'leases' }) });
    expect(mounted.status).toBe(204);
  });
  afterAll(async () => {
    await close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('tours engines, KV v1/v2, policies, tokens, AppRole, leases, wrapping, audit and generic calls with hvac defaults', async () => {
    const run = await runPython(script('tour.py'), { VAULT_ADDR: url, VAULT_TOKEN: root, AUDIT_FILE: path.join(tmp, 'audit.log') });
    // hvac's deprecation warnings go to stderr; the stderr shown on failure says which check failed.
    expect(run.code === 0 ? 'ok' : run.stderr).toBe('ok');
    const out = JSON.parse(run.stdout);
    expect(out.cluster_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(engine.log.revoked).toHaveLength(3);
  }, 60_000);

  it('follows the 301 from a doubled slash to the cleaned path', async () => {
    await fetch(`${url}/v1/kv/data/redirected`, { method: 'POST', headers: { 'X-Vault-Token': root }, body: JSON.stringify({ data: { pw: 'r' } }) });
    const run = await runPython(script('follow_redirect.py'), { VAULT_ADDR: url, VAULT_TOKEN: root, READ_PATH: '/v1//kv/data/redirected' });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual({ data: { pw: 'r' } });
  }, 60_000);
});

describe('empty path segments', () => {
  it('answer 301 to the cleaned path, keeping the query; dot segments and encoded slashes stay 400', async () => {
    const v = await unsealedVault();
    const server = await listen(v.app);
    try {
      // Raw targets (fetch would resolve the dot segments itself).
      const get = (target: string) =>
        new Promise<{ status: number; headers: { get: (name: string) => string | undefined } }>((resolve, reject) => {
          const req = http.request(`${server.url}/`, { path: target, headers: { 'X-Vault-Token': v.rootToken } });
          req.on('response', (res) => {
            res.resume();
            resolve({ status: res.statusCode ?? 0, headers: { get: (name) => res.headers[name] as string | undefined } });
          });
          req.on('error', reject);
          req.end();
        });
      const doubled = await get('/v1//kv/data/x?version=2');
      expect(doubled.status).toBe(301);
      expect(doubled.headers.get('location')).toBe('/v1/kv/data/x?version=2');
      const inner = await get('/v1/kv//data/');
      expect(inner.status).toBe(301);
      expect(inner.headers.get('location')).toBe('/v1/kv/data/');
      expect((await get('/v1//kv/../sys/mounts')).status).toBe(400);
      expect((await get('/v1/kv/./data/x')).status).toBe(400);
      expect((await get('/v1//kv%2Fdata/x')).status).toBe(400);
    } finally {
      await server.close();
    }
  });
});

describe('GET ?list= as Go ParseBool', () => {
  it.each(['1', 't', 'T', 'TRUE', 'true', 'True'])('list=%s lists', async (flag) => {
    const v = await unsealedVault();
    const server = await listen(v.app);
    try {
      const res = await fetch(`${server.url}/v1/sys/policies/acl?list=${flag}`, { headers: { 'X-Vault-Token': v.rootToken } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { data: { keys?: string[]; name?: string } }).data.keys).toContain('default');
    } finally {
      await server.close();
    }
  });
  it.each(['0', 'f', 'F', 'FALSE', 'false', 'False'])('list=%s reads', async (flag) => {
    const v = await unsealedVault();
    const server = await listen(v.app);
    try {
      const res = await fetch(`${server.url}/v1/sys/policies/acl/default?list=${flag}`, { headers: { 'X-Vault-Token': v.rootToken } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { data: { keys?: string[]; name?: string } }).data.name).toBe('default');
    } finally {
      await server.close();
    }
  });
  it.each(['yes', 'tRUE', '2'])('list=%s is a 400', async (flag) => {
    const v = await unsealedVault();
    const server = await listen(v.app);
    try {
      const res = await fetch(`${server.url}/v1/sys/policies/acl?list=${flag}`, { headers: { 'X-Vault-Token': v.rootToken } });
      expect(res.status).toBe(400);
    } finally {
      await server.close();
    }
  });
});

describe('cluster_id', () => {
  it('is kept across restarts of the same storage', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-cluster-'));
    const file = path.join(dir, 'vault.db');
    try {
      const first = await unsealedVault({ file });
      const id = first.vault.clusterId;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      first.db.close();
      const second = newVault({ file });
      expect(second.vault.clusterId).toBe(id);
      second.db.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
