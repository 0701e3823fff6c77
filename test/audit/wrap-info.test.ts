// Issue 15 item 9: the audit entry of a wrapped response records wrap_info (token HMAC'd like
// other tokens, accessor, ttl, creation_time, creation_path), so a wrapping token can be traced to
// the request that created it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { unsealedVault } from '../helpers/vault';

describe('audit: wrapped responses', () => {
  it('records wrap_info with the wrapping token hashed, and not the wrapped data', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-audit-wrap-'));
    try {
      const { app, rootToken } = await unsealedVault();
      const root = { 'X-Vault-Token': rootToken };
      const file = path.join(dir, 'audit.log');
      expect((await request(app).put('/v1/sys/audit/file').set(root).send({ type: 'file', options: { file_path: file } })).status).toBe(204);
      await request(app).post('/v1/sys/mounts/secret').set(root).send({ type: 'kv-v2' });
      await request(app).post('/v1/secret/data/app').set(root).send({ data: { password: 'wrapped-value-123' } });
      const wrapped = await request(app).get('/v1/secret/data/app').set({ ...root, 'X-Vault-Wrap-TTL': '5m' });
      expect(wrapped.status).toBe(200);
      const info = wrapped.body.wrap_info as { token: string; accessor: string; creation_time: string };

      const entries = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
      const response = entries.find((e) => e.type === 'response' && e.request?.path === 'secret/data/app' && e.request?.operation === 'read');
      expect(response?.response?.wrap_info).toMatchObject({ ttl: 300, creation_path: 'secret/data/app', creation_time: expect.any(String) });
      const auditInfo = response?.response?.wrap_info as Record<string, string>;
      expect(auditInfo.token).toMatch(/^hmac-sha256:/);
      expect(auditInfo.accessor).toMatch(/^hmac-sha256:/);
      expect(Date.parse(String(auditInfo.creation_time))).toBeCloseTo(Date.parse(info.creation_time), -3);
      const text = fs.readFileSync(file, 'utf8');
      expect(text).not.toContain(info.token);
      expect(text).not.toContain('wrapped-value-123');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
