// Issue 15 item 17: a full disk answered `500 internal error`. With SQLite's max_page_count capping
// a real data-dir database, a write is refused with 503 "storage is full", reads keep working, and
// the refusal is counted.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { storageFullCount } from '../../src/storage/storage-full';
import { unsealedVault } from '../helpers/vault';

describe('a full storage', () => {
  it('refuses writes with a clear 503, keeps serving reads, and counts it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-full-'));
    try {
      const { app, db, rootToken } = await unsealedVault({ file: path.join(dir, 'leasehold.db') });
      const root = { 'X-Vault-Token': rootToken };
      expect((await request(app).post('/v1/sys/mounts/secret').set(root).send({ type: 'kv-v2' })).status).toBe(204);
      expect((await request(app).post('/v1/secret/data/kept').set(root).send({ data: { v: 'before' } })).status).toBe(200);
      const pages = db.pragma('page_count', { simple: true }) as number;
      db.pragma(`max_page_count = ${pages}`);
      const before = storageFullCount();

      let refused: request.Response | undefined;
      for (let i = 0; i < 50 && !refused; i++) {
        const res = await request(app).post(`/v1/secret/data/big-${i}`).set(root).send({ data: { v: 'x'.repeat(60_000) } });
        if (res.status !== 200) refused = res;
      }
      expect(refused?.status).toBe(503);
      expect(refused?.body.errors).toEqual([expect.stringMatching(/storage is full/)]);
      expect(storageFullCount()).toBeGreaterThan(before);
      // ...and sys/metrics shows the count.
      const metrics = (await request(app).get('/v1/sys/metrics?format=prometheus').set(root)).text;
      expect(Number(/^leasehold_storage_full_writes_total (\d+)$/m.exec(metrics)?.[1])).toBe(storageFullCount());

      const read = await request(app).get('/v1/secret/data/kept').set(root);
      expect(read.status).toBe(200);
      expect(read.body.data.data).toEqual({ v: 'before' });
      db.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
