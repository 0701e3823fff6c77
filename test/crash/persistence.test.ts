// Durability with the real server process: restart, SIGKILL after acknowledged writes, and no
// plaintext secret or token anywhere in the data directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { call, freePort, startServerProcess, type ServerProcess } from '../helpers/process';

jest.setTimeout(60_000);

describe('a real server on a data directory', () => {
  let dir: string;
  let server: ServerProcess | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-crash-'));
  });
  afterEach(async () => {
    await server?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write across SIGKILL, restart and unseal, with nothing in plaintext on disk', async () => {
    const port = await freePort();
    server = await startServerProcess(['--data', dir], port);
    expect((await call(server.url, 'GET', 'sys/health')).status).toBe(501);

    const init = await call(server.url, 'PUT', 'sys/init', { body: { secret_shares: 5, secret_threshold: 3 } });
    expect(init.status).toBe(200);
    const keys = init.body?.keys as string[];
    const keysB64 = init.body?.keys_base64 as string[];
    const rootToken = init.body?.root_token as string;
    for (const key of [keys[0], keysB64[1], keys[2]]) await call(server.url, 'PUT', 'sys/unseal', { body: { key } });
    expect((await call(server.url, 'GET', 'sys/health')).status).toBe(200);

    expect((await call(server.url, 'POST', 'sys/mounts/secret', { token: rootToken, body: { type: 'kv-v2' } })).status).toBe(204);
    const planted = `planted-${Math.random().toString(36).slice(2)}-value`;
    const count = 40;
    for (let i = 0; i < count; i++) {
      const res = await call(server.url, 'POST', `secret/data/app/${i}`, { token: rootToken, body: { data: { password: `${planted}-${i}` } } });
      expect(res.status).toBe(200);
    }
    // The last write was acknowledged: kill without any chance to flush.
    await server.kill('SIGKILL');

    server = await startServerProcess(['--data', dir], port);
    const sealed = await call(server.url, 'GET', 'sys/seal-status');
    expect(sealed.body).toMatchObject({ initialized: true, sealed: true, t: 3, n: 5 });
    expect((await call(server.url, 'GET', 'secret/data/app/0', { token: rootToken })).status).toBe(503);
    for (const key of [keysB64[3], keys[4], keysB64[0]]) await call(server.url, 'PUT', 'sys/unseal', { body: { key } });
    for (let i = 0; i < count; i++) {
      const res = await call(server.url, 'GET', `secret/data/app/${i}`, { token: rootToken });
      expect(res.status).toBe(200);
      expect(res.body?.data.data.password).toBe(`${planted}-${i}`);
    }

    // Seal, unseal again: still there.
    expect((await call(server.url, 'PUT', 'sys/seal', { token: rootToken })).status).toBe(204);
    for (const key of [keys[1], keys[2], keys[3]]) await call(server.url, 'PUT', 'sys/unseal', { body: { key } });
    expect((await call(server.url, 'GET', `secret/data/app/${count - 1}`, { token: rootToken })).status).toBe(200);
    await server.kill('SIGKILL');
    server = undefined;

    const files = fs.readdirSync(dir);
    expect(files).toContain('leasehold.db');
    for (const file of files) {
      const full = path.join(dir, file);
      expect(fs.statSync(full).mode & 0o777).toBe(0o600);
      const bytes = fs.readFileSync(full);
      for (const needle of [planted, rootToken, rootToken.slice(4), ...keys, ...keysB64]) {
        expect(bytes.includes(Buffer.from(needle))).toBe(false);
      }
    }
  });
});
