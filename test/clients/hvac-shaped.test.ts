// The requests Python hvac sends (methods, paths, bodies, headers; LIST on a keep-alive
// connection), replayed with Node's http client against a real listener. hvac itself cannot be
// installed here (no PyPI), so these mirror hvac's api/ modules call for call.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { leaseEngine } from '../helpers/lease-engine';
import { listen, unsealedVault } from '../helpers/vault';

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One hvac-style request: `X-Vault-Request: true`, JSON body, the token header. */
function hvac(url: string, method: string, apiPath: string, token: string | undefined, body?: unknown): Promise<{ status: number; body: any; contentType?: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(`${url}${apiPath}`, {
      method,
      agent,
      headers: {
        'X-Vault-Request': 'true',
        ...(token ? { 'X-Vault-Token': token } : {}),
        ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined, contentType: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe('hvac-shaped requests', () => {
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
  });
  afterAll(async () => {
    agent.destroy();
    await close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('secrets.kv.v2: create_or_update, read versions, LIST, delete, undelete, destroy, metadata', async () => {
    expect((await hvac(url, 'POST', '/v1/sys/mounts/kv', root, { type: 'kv', options: { version: 2 } })).status).toBe(204);
    // hvac reads sys/internal/ui/mounts to find the KV version.
    const ui = await hvac(url, 'GET', '/v1/sys/internal/ui/mounts/kv/app/db', root);
    expect(ui.body.data.options.version).toBe('2');
    await hvac(url, 'POST', '/v1/kv/data/app/db', root, { options: {}, data: { password: 'a' } });
    await hvac(url, 'POST', '/v1/kv/data/app/db', root, { options: { cas: 1 }, data: { password: 'b' } });
    const casFail = await hvac(url, 'POST', '/v1/kv/data/app/db', root, { options: { cas: 1 }, data: { password: 'c' } });
    expect(casFail.status).toBe(400);
    expect(casFail.contentType).toBe('application/json');
    expect(casFail.body.errors[0]).toContain('check-and-set');
    expect((await hvac(url, 'GET', '/v1/kv/data/app/db?version=1', root)).body.data.data).toEqual({ password: 'a' });
    const list = await hvac(url, 'LIST', '/v1/kv/metadata/app', root);
    expect(list.status).toBe(200);
    expect(list.body.data.keys).toEqual(['db']);
    expect((await hvac(url, 'LIST', '/v1/kv/metadata/nothing', root)).status).toBe(404);
    expect((await hvac(url, 'DELETE', '/v1/kv/data/app/db', root)).status).toBe(204);
    const deleted = await hvac(url, 'GET', '/v1/kv/data/app/db', root);
    expect(deleted.status).toBe(404);
    expect(deleted.body.data.metadata.version).toBe(2);
    await hvac(url, 'POST', '/v1/kv/undelete/app/db', root, { versions: [2] });
    await hvac(url, 'PUT', '/v1/kv/destroy/app/db', root, { versions: [1] });
    const meta = await hvac(url, 'GET', '/v1/kv/metadata/app/db', root);
    expect(meta.body.data.versions['1'].destroyed).toBe(true);
    expect(meta.body.data.versions['2'].deletion_time).toBe('');
  });

  it('auth.token and sys policy calls', async () => {
    await hvac(url, 'PUT', '/v1/sys/policy/reader', root, { policy: 'path "kv/data/*" { capabilities = ["read"] }' });
    expect((await hvac(url, 'GET', '/v1/sys/policy', root)).body.data.policies).toContain('reader');
    expect((await hvac(url, 'GET', '/v1/sys/policy/reader', root)).body.data.rules).toContain('kv/data/*');
    await hvac(url, 'POST', '/v1/sys/policies/acl/writer', root, { policy: 'path "kv/data/*" { capabilities = ["create", "update"] }' });
    expect((await hvac(url, 'LIST', '/v1/sys/policies/acl', root)).body.data.keys).toEqual(['default', 'reader', 'root', 'writer']);

    const created = await hvac(url, 'POST', '/v1/auth/token/create', root, { policies: ['reader'], ttl: '1h', renewable: true, meta: { team: 'a' } });
    const token = created.body.auth.client_token as string;
    const self = await hvac(url, 'GET', '/v1/auth/token/lookup-self', token);
    expect(self.body.data).toMatchObject({ type: 'service', policies: ['reader', 'default'], renewable: true, meta: { team: 'a' } });
    expect((await hvac(url, 'POST', '/v1/auth/token/renew-self', token, { increment: '2h' })).body.auth.lease_duration).toBe(7200);
    expect((await hvac(url, 'LIST', '/v1/auth/token/accessors', root)).body.data.keys).toContain(created.body.auth.accessor);
    expect((await hvac(url, 'POST', '/v1/auth/token/revoke', root, { token })).status).toBe(204);
    expect((await hvac(url, 'GET', '/v1/auth/token/lookup-self', token)).status).toBe(403);
  });

  it('sys audit calls: enable, list, audit-hash reproduces the logged HMAC, disable', async () => {
    const file = path.join(tmp, 'audit.log');
    expect((await hvac(url, 'PUT', '/v1/sys/audit/file', root, { type: 'file', description: '', options: { file_path: file }, local: false })).status).toBe(204);
    const listed = await hvac(url, 'GET', '/v1/sys/audit', root);
    expect(listed.body.data['file/']).toMatchObject({ type: 'file', path: 'file/' });
    await hvac(url, 'POST', '/v1/kv/data/audited', root, { data: { password: 'planted-audit-value' } });
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const write = lines.find((l) => l.type === 'request' && l.request.path === 'kv/data/audited');
    const hashed = write.request.data.data.password as string;
    expect(hashed).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    const hash = await hvac(url, 'POST', '/v1/sys/audit-hash/file', root, { input: 'planted-audit-value' });
    expect(hash.body.data.hash).toBe(hashed);
    expect(fs.readFileSync(file, 'utf8')).not.toContain('planted-audit-value');
    expect(fs.readFileSync(file, 'utf8')).not.toContain(root);
    expect((await hvac(url, 'DELETE', '/v1/sys/audit/file', root)).status).toBe(204);
  });

  it('sys lease calls and unwrap', async () => {
    await hvac(url, 'POST', '/v1/sys/mounts/dyn', root, { type: 'leases' });
    const issued = await hvac(url, 'GET', '/v1/dyn/creds/web', root);
    const leaseId = issued.body.lease_id as string;
    expect((await hvac(url, 'PUT', '/v1/sys/leases/lookup', root, { lease_id: leaseId })).body.data.id).toBe(leaseId);
    expect((await hvac(url, 'LIST', '/v1/sys/leases/lookup/dyn/creds/web', root)).body.data.keys).toHaveLength(1);
    expect((await hvac(url, 'PUT', '/v1/sys/leases/renew', root, { lease_id: leaseId, increment: 300 })).body.lease_duration).toBe(300);
    expect((await hvac(url, 'PUT', '/v1/sys/leases/revoke', root, { lease_id: leaseId })).status).toBe(204);
    await hvac(url, 'GET', '/v1/dyn/creds/web', root);
    expect((await hvac(url, 'PUT', '/v1/sys/leases/revoke-prefix/dyn/creds', root)).status).toBe(204);
    expect((await hvac(url, 'PUT', '/v1/sys/leases/revoke-force/dyn/creds', root)).status).toBe(204);
    expect(engine.log.revoked).toHaveLength(2);

    const wrapped = await new Promise<any>((resolve, reject) => {
      const req = http.request(`${url}/v1/kv/data/app/db`, { method: 'GET', headers: { 'X-Vault-Token': root, 'X-Vault-Wrap-TTL': '120' } });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve(JSON.parse(text)));
      });
      req.on('error', reject);
      req.end();
    });
    // Unwrapping is an authenticated call: without any token it is refused and the wrapped value survives.
    const unwrapped = await hvac(url, 'POST', '/v1/sys/wrapping/unwrap', undefined, { token: wrapped.wrap_info.token });
    expect(unwrapped.status).toBe(403);
    const viaHeader = await hvac(url, 'POST', '/v1/sys/wrapping/unwrap', wrapped.wrap_info.token);
    expect(viaHeader.body.data.data).toEqual({ password: 'b' });
  });
});
