// The cubbyhole engine on real encrypted storage: per-token isolation, KV-v1-like operations, purge on revocation.
import { resolveRequest } from '../../src/core/dispatch';
import { compilePaths, type Operation, type RequestIdentity } from '../../src/core/framework';
import { cubbyholeBackend, purgeCubbyhole } from '../../src/engines/cubbyhole';
import { mountForTest, rejection } from '../helpers/backend';

function identity(accessor: string, isRoot = false): RequestIdentity {
  return { accessor, policies: isRoot ? ['root'] : ['default'], displayName: 'token', metadata: {}, authPath: 'auth/token/', isRoot };
}

function setup() {
  const { storage, store } = mountForTest((ctx) => cubbyholeBackend(ctx.storage), {}, 'cubbyhole/');
  const compiled = compilePaths(cubbyholeBackend(storage).paths);
  const resolve = (operation: Operation | 'write', path: string, data: Record<string, unknown>, who?: RequestIdentity) =>
    resolveRequest(compiled, { operation, path, mountPath: 'cubbyhole/', rawData: data, clientAddress: '127.0.0.1', requestId: 'test', storage, identity: who });
  /** Calls the backend as the token with accessor `accessor` (undefined: no identity). */
  const as = (who?: RequestIdentity) => async (operation: Operation | 'write', path: string, data: Record<string, unknown> = {}) =>
    (await resolve(operation, path, data, who)).run();
  return { storage, store, resolve, as };
}


describe('cubbyhole', () => {
  it('writes, reads (lease_duration 0), lists and deletes within one token', async () => {
    const { as } = setup();
    const alice = as(identity('aliceAccessor'));
    const data = { password: 'hunter2', nested: { list: [1, 'two'] }, path: 'a body field named path' };
    expect(await alice('write', 'db', data)).toBeUndefined();
    expect(await alice('read', 'db')).toEqual({ data });
    await alice('write', 'app/one', { a: 1 });
    await alice('write', 'app/two/deep', { b: 2 });
    expect((await alice('list', ''))?.data).toEqual({ keys: ['app/', 'db'] });
    expect((await alice('list', 'app'))?.data).toEqual({ keys: ['one', 'two/'] });
    expect((await alice('list', 'app/'))?.data).toEqual({ keys: ['one', 'two/'] });
    // Writing replaces the whole value.
    await alice('write', 'db', { only: 'this' });
    expect((await alice('read', 'db'))?.data).toEqual({ only: 'this' });
    expect(await alice('delete', 'db')).toBeUndefined();
    expect((await rejection(alice('read', 'db'))).statusCode).toBe(404);
    expect((await rejection(alice('list', 'nothing-here/'))).statusCode).toBe(404);
  });

  it('no token can see, list, overwrite or delete another token\'s cubbyhole, not even root', async () => {
    const { as } = setup();
    const alice = as(identity('aliceAccessor'));
    const bob = as(identity('bobAccessor'));
    const root = as(identity('rootAccessor', true));
    await alice('write', 'shared-name', { owner: 'alice' });
    for (const caller of [bob, root]) {
      expect((await rejection(caller('read', 'shared-name'))).statusCode).toBe(404);
      expect((await rejection(caller('list', ''))).statusCode).toBe(404);
      await caller('delete', 'shared-name');
    }
    await bob('write', 'shared-name', { owner: 'bob' });
    expect((await alice('read', 'shared-name'))?.data).toEqual({ owner: 'alice' });
    expect((await bob('read', 'shared-name'))?.data).toEqual({ owner: 'bob' });
    expect((await bob('list', ''))?.data).toEqual({ keys: ['shared-name'] });
  });

  it('path segments cannot climb into another cubbyhole', async () => {
    const { as } = setup();
    await as(identity('aliceAccessor'))('write', 'secret', { owner: 'alice' });
    const mallory = as(identity('malloryAccessor'));
    for (const path of ['../aliceAccessor/secret', '/aliceAccessor/secret', '..%2faliceAccessor/secret']) {
      expect((await rejection(mallory('read', path))).statusCode).toBe(404);
    }
  });

  it('refuses a request without a token identity, or with a malformed accessor', async () => {
    const { as } = setup();
    for (const caller of [as(undefined), as(identity('')), as(identity('a/b'))]) {
      expect((await rejection(caller('read', 'x'))).statusCode).toBe(403);
      expect((await rejection(caller('write', 'x', { a: 1 }))).statusCode).toBe(403);
      expect((await rejection(caller('list', ''))).statusCode).toBe(403);
      expect((await rejection(caller('delete', 'x'))).statusCode).toBe(403);
    }
  });

  it('refuses empty writes, missing paths and folder-like keys with a 400', async () => {
    const { as } = setup();
    const alice = as(identity('aliceAccessor'));
    expect((await rejection(alice('write', 'x', {}))).message).toBe('missing data fields');
    expect((await rejection(alice('write', '', { a: 1 }))).message).toBe('missing path');
    expect((await rejection(alice('read', ''))).message).toBe('missing path');
    expect((await rejection(alice('write', 'folder/', { a: 1 }))).statusCode).toBe(400);
  });

  it('decides create vs update per token', async () => {
    const { resolve, as } = setup();
    await as(identity('aliceAccessor'))('write', 'x', { a: 1 });
    expect((await resolve('write', 'x', { a: 2 }, identity('aliceAccessor'))).operation).toBe('update');
    expect((await resolve('write', 'x', { a: 2 }, identity('bobAccessor'))).operation).toBe('create');
  });

  it('stores values encrypted under <accessor>/<path>', async () => {
    const { as, store } = setup();
    const planted = 'planted-cubby-secret-31337';
    await as(identity('aliceAccessor'))('write', 'dir/key', { value: planted });
    const rows = store.db.prepare('SELECT path, value FROM entries').all() as { path: string; value: Buffer }[];
    expect(rows.map((r) => r.path)).toContain('logical/cubbyhole/aliceAccessor/dir/key');
    for (const row of rows) expect(Buffer.from(row.value).toString('latin1')).not.toContain(planted);
  });
});

describe('purgeCubbyhole', () => {
  it('deletes everything of one token and nothing of any other', async () => {
    const { as, storage } = setup();
    const alice = as(identity('alice'));
    const alice2 = as(identity('alice2'));
    await alice('write', 'a', { v: 1 });
    await alice('write', 'deep/er/b', { v: 2 });
    await alice2('write', 'a', { v: 3 });
    purgeCubbyhole(storage, 'alice');
    expect(storage.listRecursive('alice/')).toEqual([]);
    expect((await rejection(alice('read', 'a'))).statusCode).toBe(404);
    expect((await rejection(alice('list', ''))).statusCode).toBe(404);
    expect((await alice2('read', 'a'))?.data).toEqual({ v: 3 });
    // Idempotent.
    purgeCubbyhole(storage, 'alice');
  });

  it('refuses an accessor that would widen the prefix', () => {
    const { storage } = setup();
    storage.putJSON('victim/x', { v: 1 });
    for (const accessor of ['', 'a/b', '../victim', '..', 'a.b']) expect(() => purgeCubbyhole(storage, accessor)).toThrow();
    expect(storage.getJSON('victim/x')).toEqual({ v: 1 });
  });
});
