// KV v1 (Vault's passthrough store) on real encrypted in-memory storage: read/write/delete/list, TTL reporting, bounds.
import { compilePaths } from '../../src/core/framework';
import { resolveRequest } from '../../src/core/dispatch';
import { kvBackendFactory } from '../../src/engines/kv';
import { KV_V1_DEFAULT_TTL_SECONDS } from '../../src/engines/kv/kv-v1';
import { mountForTest, rejection } from '../helpers/backend';


function mountV1(options: Record<string, string> = {}) {
  return mountForTest(kvBackendFactory, options, 'secret/');
}

describe('KV v1', () => {
  it('is what the factory mounts without a version option or with version 1', async () => {
    for (const options of [{}, { version: '1' }] as Record<string, string>[]) {
      const { call } = mountV1(options);
      await call('write', 'config', { max_versions: 3 });
      // On v1 "config" is just a secret: it reads back verbatim.
      expect((await call('read', 'config'))?.data).toEqual({ max_versions: 3 });
    }
  });

  it('stores arbitrary JSON keys and reads them back with the default 768h lease duration', async () => {
    const { call } = mountV1();
    const data = { password: 'hunter2', nested: { list: [1, 'two', null], flag: true }, path: 'a body field named path', version: 7 };
    const written = await call('write', 'app/db', data);
    expect(written).toBeUndefined();
    const read = await call('read', 'app/db');
    expect(read?.data).toEqual(data);
    expect(read?.leaseDurationSeconds).toBe(KV_V1_DEFAULT_TTL_SECONDS);
    expect(KV_V1_DEFAULT_TTL_SECONDS).toBe(2764800);
    expect(read?.warnings).toBeUndefined();
  });

  it('reports a secret\'s own ttl (or legacy lease) as the lease duration', async () => {
    const { call } = mountV1();
    await call('write', 'a', { ttl: '1h', v: 1 });
    await call('write', 'b', { ttl: 90, v: 1 });
    await call('write', 'c', { lease: '30m', v: 1 });
    await call('write', 'd', { ttl: 'not a duration', v: 1 });
    expect((await call('read', 'a'))?.leaseDurationSeconds).toBe(3600);
    expect((await call('read', 'b'))?.leaseDurationSeconds).toBe(90);
    expect((await call('read', 'c'))?.leaseDurationSeconds).toBe(1800);
    expect((await call('read', 'd'))?.leaseDurationSeconds).toBe(KV_V1_DEFAULT_TTL_SECONDS);
    expect((await call('read', 'a'))?.data).toEqual({ ttl: '1h', v: 1 });
  });

  it('a write replaces the whole secret', async () => {
    const { call } = mountV1();
    await call('write', 'k', { a: 1, b: 2 });
    await call('write', 'k', { c: 3 });
    expect((await call('read', 'k'))?.data).toEqual({ c: 3 });
  });

  it('resolves a write to create for a new key and update for an existing one', async () => {
    const { backend, call, storage } = mountV1();
    const compiled = compilePaths(backend.paths);
    const resolve = (path: string) =>
      resolveRequest(compiled, { operation: 'write', path, mountPath: 'secret/', rawData: { x: 1 }, clientAddress: '127.0.0.1', requestId: 't', storage });
    expect((await resolve('k')).operation).toBe('create');
    await call('write', 'k', { x: 1 });
    expect((await resolve('k')).operation).toBe('update');
  });

  it('answers a missing key with an empty 404', async () => {
    const { call } = mountV1();
    const error = await rejection(call('read', 'nope'));
    expect(error.statusCode).toBe(404);
    expect(error.message).toBe('');
    expect(error.extra.data).toBeUndefined();
  });

  it('deletes a key, and deleting a missing key succeeds', async () => {
    const { call } = mountV1();
    await call('write', 'k', { a: 1 });
    expect(await call('delete', 'k')).toBeUndefined();
    expect((await rejection(call('read', 'k'))).statusCode).toBe(404);
    expect(await call('delete', 'never-existed')).toBeUndefined();
  });

  it('lists a folder\'s immediate children, folders ending in /, and 404s an empty prefix', async () => {
    const { call } = mountV1();
    await call('write', 'a', { v: 1 });
    await call('write', 'b/c', { v: 1 });
    await call('write', 'b/d/e', { v: 1 });
    expect((await call('list', ''))?.data).toEqual({ keys: ['a', 'b/'] });
    expect((await call('list', 'b/'))?.data).toEqual({ keys: ['c', 'd/'] });
    expect((await call('list', 'b'))?.data).toEqual({ keys: ['c', 'd/'] });
    expect((await call('list', 'b/d/'))?.data).toEqual({ keys: ['e'] });
    const missing = await rejection(call('list', 'nope/'));
    expect(missing.statusCode).toBe(404);
    expect(missing.message).toBe('');
    await call('delete', 'b/d/e');
    expect((await call('list', 'b/'))?.data).toEqual({ keys: ['c'] });
    await rejection(call('list', 'b/d/'));
  });

  it('refuses an empty write, a path ending in /, and oversized secrets, storing nothing', async () => {
    const { call } = mountV1();
    const empty = await rejection(call('write', 'k', {}));
    expect(empty.statusCode).toBe(400);
    expect(empty.message).toBe('missing data fields');

    expect((await rejection(call('write', 'folder/', { a: 1 }))).statusCode).toBe(400);

    const tooManyKeys = Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [`k${i}`, i]));
    expect((await rejection(call('write', 'k', tooManyKeys))).statusCode).toBe(400);

    const tooLarge = { blob: 'x'.repeat(1024 * 1024) };
    expect((await rejection(call('write', 'k', tooLarge))).statusCode).toBe(400);

    await rejection(call('list', ''));
    expect((await rejection(call('read', 'k'))).statusCode).toBe(404);
  });

  it('keeps secrets encrypted at rest under the mount\'s prefix', async () => {
    const { call, store } = mountV1();
    await call('write', 'app/db', { password: 'hunter2-plaintext' });
    const row = store.db.prepare('SELECT value FROM entries WHERE path = ?').get('logical/secret/app/db') as { value: Buffer } | undefined;
    expect(row).toBeDefined();
    expect(Buffer.from(row!.value).includes(Buffer.from('hunter2-plaintext'))).toBe(false);
  });
});
