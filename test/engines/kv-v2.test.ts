// KV v2 on real encrypted in-memory storage with a manual clock: every endpoint, CAS, the max_versions window,
// delete_version_after, soft delete / undelete / destroy, 404s that carry version metadata, patch and bad input.
import { compilePaths, type BackendResponse } from '../../src/core/framework';
import { resolveRequest } from '../../src/core/dispatch';
import { kvBackendFactory } from '../../src/engines/kv';
import { type KeyMetadata, LATEST_COPY_MAX_BYTES, metadataStorageKey, versionStorageKey, versionStoragePrefix } from '../../src/engines/kv/kv-v2-store';
import { mountForTest, rejection } from '../helpers/backend';

// ManualClock starts at 2026-01-01T00:00:00Z.
const T0 = '2026-01-01T00:00:00Z';


function mountV2() {
  const mount = mountForTest(kvBackendFactory, { version: '2' }, 'secret/');
  const { call } = mount;
  const data = async (path: string, body: Record<string, unknown> = {}): Promise<Record<string, unknown>> =>
    ((await call('read', path, body)) as BackendResponse).data as Record<string, unknown>;
  const metadata = async (key: string) => (await data(`metadata/${key}`)) as Record<string, any>;
  return { ...mount, data, metadata };
}

describe('KV v2 config', () => {
  it('reads Vault\'s zero defaults', async () => {
    const { data } = mountV2();
    expect(await data('config')).toEqual({ max_versions: 0, cas_required: false, delete_version_after: '0s' });
  });

  it('writes each setting, formats delete_version_after like Go, and accepts a negative value as "disabled"', async () => {
    const { call, data } = mountV2();
    expect(await call('write', 'config', { max_versions: '5', cas_required: 'true', delete_version_after: '1h30m' })).toBeUndefined();
    expect(await data('config')).toEqual({ max_versions: 5, cas_required: true, delete_version_after: '1h30m0s' });
    await call('write', 'config', { delete_version_after: '-5m' });
    expect(await data('config')).toEqual({ max_versions: 5, cas_required: true, delete_version_after: '-1s' });
    await call('write', 'config', { delete_version_after: 0 });
    expect((await data('config')).delete_version_after).toBe('0s');
    // A write that sets nothing changes nothing.
    await call('write', 'config', {});
    expect(await data('config')).toEqual({ max_versions: 5, cas_required: true, delete_version_after: '0s' });
  });

  it('refuses invalid values with 400 and leaves the config unchanged', async () => {
    const { call, data } = mountV2();
    await call('write', 'config', { max_versions: 4 });
    for (const body of [{ max_versions: -1 }, { max_versions: 'many' }, { cas_required: 'maybe' }, { delete_version_after: 'soon' }]) {
      const error = await rejection(call('write', 'config', body));
      expect(error.statusCode).toBe(400);
      expect(error.message).toMatch(/^invalid value for field "/);
    }
    expect(await data('config')).toEqual({ max_versions: 4, cas_required: false, delete_version_after: '0s' });
  });
});

describe('KV v2 data', () => {
  it('writes a version and returns its metadata; reads return data and metadata', async () => {
    const { call, data } = mountV2();
    const secret = { password: 'hunter2', nested: { list: [1, 'two', null], on: true }, n: 1.5, nothing: null };
    const written = await call('write', 'data/app/db', { data: secret });
    expect(written?.data).toEqual({ version: 1, created_time: T0, deletion_time: '', destroyed: false, custom_metadata: null });
    expect(await data('data/app/db')).toEqual({
      data: secret,
      metadata: { version: 1, created_time: T0, deletion_time: '', destroyed: false, custom_metadata: null },
    });
  });

  it('numbers versions, reads a version given as a query string, and treats version 0 as latest', async () => {
    const { call, clock, data } = mountV2();
    await call('write', 'data/k', { data: { v: 1 } });
    clock.advanceSeconds(1.5);
    const second = await call('write', 'data/k', { data: { v: 2 } });
    expect(second?.data).toMatchObject({ version: 2, created_time: '2026-01-01T00:00:01.5Z' });
    expect((await data('data/k')).data).toEqual({ v: 2 });
    expect((await data('data/k', { version: '1' })).data).toEqual({ v: 1 });
    expect((await data('data/k', { version: '0' })).data).toEqual({ v: 2 });
    expect(((await data('data/k', { version: 1 })).metadata as Record<string, unknown>).version).toBe(1);
    const missing = await rejection(call('read', 'data/k', { version: '3' }));
    expect(missing.statusCode).toBe(404);
    expect(missing.extra.data).toBeUndefined();
  });

  it('answers a missing key with an empty 404', async () => {
    const { call } = mountV2();
    const error = await rejection(call('read', 'data/nope'));
    expect(error.statusCode).toBe(404);
    expect(error.message).toBe('');
    expect(error.extra.data).toBeUndefined();
  });

  it('resolves a write to create for a new key and update once the key has metadata', async () => {
    const { backend, call, storage } = mountV2();
    const compiled = compilePaths(backend.paths);
    const resolve = (path: string) =>
      resolveRequest(compiled, { operation: 'write', path, mountPath: 'secret/', rawData: { data: { a: 1 } }, clientAddress: '127.0.0.1', requestId: 't', storage });
    expect((await resolve('data/k')).operation).toBe('create');
    expect((await resolve('metadata/k')).operation).toBe('create');
    await call('write', 'data/k', { data: { a: 1 } });
    expect((await resolve('data/k')).operation).toBe('update');
    expect((await resolve('metadata/k')).operation).toBe('update');
  });

  it('refuses data that is missing or not an object with 400 and writes nothing', async () => {
    const { call } = mountV2();
    const missing = await rejection(call('write', 'data/k', {}));
    expect(missing.statusCode).toBe(400);
    expect(missing.message).toBe('no data provided');
    expect((await rejection(call('write', 'data/k', { data: null }))).message).toBe('no data provided');
    for (const bad of ['a string', [1, 2], 5, true]) {
      const error = await rejection(call('write', 'data/k', { data: bad }));
      expect(error.statusCode).toBe(400);
      expect(error.message).toMatch(/^invalid value for field "data"/);
    }
    expect((await rejection(call('write', 'data/k', { data: { a: 1 }, options: 'cas' }))).statusCode).toBe(400);
    expect((await rejection(call('read', 'metadata/k'))).statusCode).toBe(404);
  });

  it('refuses an oversized secret without creating a version', async () => {
    const { call, metadata } = mountV2();
    await call('write', 'data/k', { data: { a: 1 } });
    const error = await rejection(call('write', 'data/k', { data: { blob: 'x'.repeat(1024 * 1024) } }));
    expect(error.statusCode).toBe(400);
    expect((await metadata('k')).current_version).toBe(1);
  });

  it('warns about unknown top-level parameters', async () => {
    const { call } = mountV2();
    const response = await call('write', 'data/k', { data: { a: 1 }, colour: 'blue' });
    expect(response?.warnings).toEqual(['Endpoint ignored these unrecognized parameters: [colour]']);
  });

  it('soft-deletes the latest version; reading it is a 404 that carries its metadata', async () => {
    const { call, clock, data } = mountV2();
    await call('write', 'data/k', { data: { v: 1 } });
    await call('write', 'data/k', { data: { v: 2 } });
    clock.advanceSeconds(10);
    expect(await call('delete', 'data/k')).toBeUndefined();
    const error = await rejection(call('read', 'data/k'));
    expect(error.statusCode).toBe(404);
    expect(error.extra.data).toEqual({
      data: null,
      metadata: { version: 2, created_time: T0, deletion_time: '2026-01-01T00:00:10Z', destroyed: false, custom_metadata: null },
    });
    // Older versions are untouched.
    expect((await data('data/k', { version: 1 })).data).toEqual({ v: 1 });
    // Deleting again keeps the first deletion time.
    clock.advanceSeconds(10);
    await call('delete', 'data/k');
    expect((await rejection(call('read', 'data/k'))).extra.data).toMatchObject({ metadata: { deletion_time: '2026-01-01T00:00:10Z' } });
    // Deleting a missing key succeeds.
    expect(await call('delete', 'data/never')).toBeUndefined();
    // A new write is readable again.
    await call('write', 'data/k', { data: { v: 3 } });
    expect((await data('data/k')).data).toEqual({ v: 3 });
  });

  it('keeps version records encrypted at rest', async () => {
    const { call, store } = mountV2();
    await call('write', 'data/app', { data: { password: 'plaintext-marker' } });
    const rows = store.db.prepare("SELECT value FROM entries WHERE path LIKE 'logical/secret/%'").all() as { value: Buffer }[];
    expect(rows.length).toBeGreaterThanOrEqual(2);
    for (const row of rows) expect(Buffer.from(row.value).includes(Buffer.from('plaintext-marker'))).toBe(false);
  });
});

describe("KV v2 latest version's copy in the metadata record", () => {
  it('reads the latest version from one stored record, and older versions from their own', async () => {
    const { call, data, storage } = mountV2();
    await call('write', 'data/k', { data: { v: 1 } });
    await call('write', 'data/k', { data: { v: 2 } });
    // Every record read goes through get (getJSON included): count the records opened.
    const opened = jest.spyOn(storage, 'get');
    expect((await data('data/k')).data).toEqual({ v: 2 });
    expect(opened.mock.calls.map(([key]) => key)).toEqual([metadataStorageKey('k')]);
    opened.mockClear();
    expect((await data('data/k', { version: 1 })).data).toEqual({ v: 1 });
    expect(opened.mock.calls.map(([key]) => key)).toEqual([metadataStorageKey('k'), versionStorageKey('k', 1)]);
  });

  it('still reads, patches and destroys metadata written before the copy existed', async () => {
    const { call, data, storage } = mountV2();
    await call('write', 'data/k', { data: { a: 1 } });
    const { latest, ...older } = storage.getJSON<KeyMetadata>(metadataStorageKey('k')) as KeyMetadata;
    expect(latest).toEqual({ version: 1, data: { a: 1 } });
    storage.putJSON(metadataStorageKey('k'), older);
    expect((await data('data/k')).data).toEqual({ a: 1 });
    expect((await data('subkeys/k')).subkeys).toEqual({ a: null });
    await call('patch', 'data/k', { data: { b: 2 } });
    expect((await data('data/k')).data).toEqual({ a: 1, b: 2 });
    expect(storage.getJSON<KeyMetadata>(metadataStorageKey('k'))?.latest).toEqual({ version: 2, data: { a: 1, b: 2 } });
  });

  it('destroy/ leaves no stored copy of the destroyed data, latest or not', async () => {
    const { call, data, storage } = mountV2();
    await call('write', 'data/k', { data: { secret: 'first-planted-value' } });
    await call('write', 'data/k', { data: { secret: 'second-planted-value' } });
    const storedText = () =>
      storage
        .listRecursive('')
        .map((key) => Buffer.from(storage.get(key) as Uint8Array).toString('utf8'))
        .join('\n');
    expect(storedText()).toContain('second-planted-value');
    await call('write', 'destroy/k', { versions: [2] });
    expect(storedText()).not.toContain('second-planted-value');
    expect(storedText()).toContain('first-planted-value');
    await call('write', 'destroy/k', { versions: [1] });
    expect(storedText()).not.toContain('first-planted-value');
    expect((await rejection(call('read', 'data/k'))).statusCode).toBe(404);
    // A new version after a destroy is read as usual.
    await call('write', 'data/k', { data: { secret: 'third' } });
    expect((await data('data/k')).data).toEqual({ secret: 'third' });
  });

  it('metadata writes, undelete and delete/ after a destroy never bring the copy back', async () => {
    const { call, data, storage } = mountV2();
    await call('write', 'data/k', { data: { secret: 'destroyed-planted-value' } });
    await call('write', 'destroy/k', { versions: [1] });
    await call('write', 'metadata/k', { custom_metadata: { owner: 'ops' } });
    await call('patch', 'metadata/k', { max_versions: 5 });
    await call('write', 'undelete/k', { versions: [1] });
    await call('write', 'delete/k', { versions: [1] });
    expect(storage.getJSON<KeyMetadata>(metadataStorageKey('k'))?.latest).toBeUndefined();
    const stored = storage.listRecursive('').map((key) => Buffer.from(storage.get(key) as Uint8Array).toString('utf8'));
    expect(stored.join('\n')).not.toContain('destroyed-planted-value');
    expect((await rejection(call('read', 'data/k'))).statusCode).toBe(404);
    expect((await data('metadata/k')).custom_metadata).toEqual({ owner: 'ops' });
  });

  it('drops, on the next metadata write, a copy an older build left of a destroyed version', async () => {
    const { call, storage } = mountV2();
    await call('write', 'data/k', { data: { secret: 'left-behind' } });
    const meta = storage.getJSON<KeyMetadata>(metadataStorageKey('k')) as KeyMetadata;
    // What a build without the copy's rules would store: version 1 destroyed, its copy kept.
    (meta.versions['1'] as KeyMetadata['versions'][string]).destroyed = true;
    storage.delete(versionStorageKey('k', 1));
    storage.putJSON(metadataStorageKey('k'), meta);
    expect((await rejection(call('read', 'data/k'))).statusCode).toBe(404);
    await call('write', 'metadata/k', { custom_metadata: { touched: 'yes' } });
    expect(storage.getJSON<KeyMetadata>(metadataStorageKey('k'))?.latest).toBeUndefined();
  });

  it('deleting the metadata and writing the key again starts without the old copy', async () => {
    const { call, data, storage } = mountV2();
    await call('write', 'data/k', { data: { secret: 'first-life' } });
    await call('delete', 'metadata/k');
    await call('write', 'data/k', { data: { secret: 'second-life' } });
    expect((await data('data/k')).data).toEqual({ secret: 'second-life' });
    expect(storage.getJSON<KeyMetadata>(metadataStorageKey('k'))?.latest).toEqual({ version: 1, data: { secret: 'second-life' } });
    const stored = storage.listRecursive('').map((key) => Buffer.from(storage.get(key) as Uint8Array).toString('utf8'));
    expect(stored.join('\n')).not.toContain('first-life');
  });

  it('keeps no copy of a version larger than LATEST_COPY_MAX_BYTES, so metadata stays small', async () => {
    const { call, data, storage } = mountV2();
    await call('write', 'data/k', { data: { small: 'v1' } });
    const big = { blob: 'x'.repeat(LATEST_COPY_MAX_BYTES) };
    await call('write', 'data/k', { data: big });
    const meta = storage.getJSON<KeyMetadata>(metadataStorageKey('k')) as KeyMetadata;
    expect(meta.latest).toBeUndefined();
    expect(Buffer.from(storage.get(metadataStorageKey('k')) as Uint8Array).length).toBeLessThan(1024);
    expect((await data('data/k')).data).toEqual(big);
    expect((await data('data/k', { version: 1 })).data).toEqual({ small: 'v1' });
    // A small version after it gets its copy again.
    await call('write', 'data/k', { data: { small: 'v3' } });
    expect(storage.getJSON<KeyMetadata>(metadataStorageKey('k'))?.latest).toEqual({ version: 3, data: { small: 'v3' } });
  });
});

describe('KV v2 check-and-set', () => {
  it('cas=0 writes only if the key does not exist; otherwise cas must equal the current version', async () => {
    const { call, metadata } = mountV2();
    expect((await call('write', 'data/k', { data: { v: 1 }, options: { cas: 0 } }))?.data).toMatchObject({ version: 1 });
    const exists = await rejection(call('write', 'data/k', { data: { v: 2 }, options: { cas: 0 } }));
    expect(exists.statusCode).toBe(400);
    expect(exists.message).toBe('check-and-set parameter did not match the current version');
    expect((await call('write', 'data/k', { data: { v: 2 }, options: { cas: '1' } }))?.data).toMatchObject({ version: 2 });
    const stale = await rejection(call('write', 'data/k', { data: { v: 3 }, options: { cas: 1 } }));
    expect(stale.message).toBe('check-and-set parameter did not match the current version');
    expect((await rejection(call('write', 'data/k', { data: { v: 3 }, options: { cas: -1 } }))).statusCode).toBe(400);
    expect((await metadata('k')).current_version).toBe(2);
  });

  it('a soft-deleted latest version still counts as the current version', async () => {
    const { call } = mountV2();
    await call('write', 'data/k', { data: { v: 1 } });
    await call('delete', 'data/k');
    await rejection(call('write', 'data/k', { data: { v: 2 }, options: { cas: 0 } }));
    expect((await call('write', 'data/k', { data: { v: 2 }, options: { cas: 1 } }))?.data).toMatchObject({ version: 2 });
  });

  it('the mount\'s cas_required makes cas mandatory on every key', async () => {
    const { call } = mountV2();
    await call('write', 'config', { cas_required: true });
    const error = await rejection(call('write', 'data/k', { data: { v: 1 } }));
    expect(error.statusCode).toBe(400);
    expect(error.message).toBe('check-and-set parameter required for this call');
    await rejection(call('write', 'data/k', { data: { v: 1 }, options: {} }));
    await call('write', 'data/k', { data: { v: 1 }, options: { cas: 0 } });
    await rejection(call('patch', 'data/k', { data: { v: 2 } }));
  });

  it('a key\'s cas_required applies to that key only; turning it off does not override the mount', async () => {
    const { call, metadata } = mountV2();
    await call('write', 'metadata/strict', { cas_required: true });
    expect((await rejection(call('write', 'data/strict', { data: { v: 1 } }))).message).toBe('check-and-set parameter required for this call');
    await call('write', 'data/strict', { data: { v: 1 }, options: { cas: 0 } });
    await call('write', 'data/relaxed', { data: { v: 1 } });

    await call('write', 'config', { cas_required: true });
    const response = await call('write', 'metadata/relaxed', { cas_required: false });
    expect(response?.warnings).toEqual(['"cas_required" set to false, but is mandated by backend config. This value will be ignored.']);
    expect((await metadata('relaxed')).cas_required).toBe(false);
    await rejection(call('write', 'data/relaxed', { data: { v: 2 } }));
  });
});

describe('KV v2 max_versions', () => {
  it('keeps the 10 newest versions by default and deletes older version data', async () => {
    const { call, metadata, storage } = mountV2();
    for (let v = 1; v <= 12; v++) await call('write', 'data/k', { data: { v } });
    const meta = await metadata('k');
    expect(meta.current_version).toBe(12);
    expect(meta.oldest_version).toBe(3);
    expect(Object.keys(meta.versions).map(Number).sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const pruned = await rejection(call('read', 'data/k', { version: 2 }));
    expect(pruned.statusCode).toBe(404);
    expect(pruned.extra.data).toBeUndefined();
    expect(storage.get(versionStorageKey('k', 1))).toBeUndefined();
    expect(storage.get(versionStorageKey('k', 2))).toBeUndefined();
    expect(storage.get(versionStorageKey('k', 3))).toBeDefined();
  });

  it('honours the mount\'s max_versions', async () => {
    const { call, metadata } = mountV2();
    await call('write', 'config', { max_versions: 3 });
    for (let v = 1; v <= 5; v++) await call('write', 'data/k', { data: { v } });
    const meta = await metadata('k');
    expect(Object.keys(meta.versions).sort()).toEqual(['3', '4', '5']);
    expect(meta.oldest_version).toBe(3);
  });

  it('honours a key\'s max_versions; with both set the larger wins, as in Vault\'s AddVersion', async () => {
    const { call, metadata } = mountV2();
    await call('write', 'metadata/small', { max_versions: 2 });
    for (let v = 1; v <= 4; v++) await call('write', 'data/small', { data: { v } });
    expect(Object.keys((await metadata('small')).versions).sort()).toEqual(['3', '4']);

    await call('write', 'config', { max_versions: 3 });
    await call('write', 'metadata/both', { max_versions: 2 });
    for (let v = 1; v <= 4; v++) await call('write', 'data/both', { data: { v } });
    expect(Object.keys((await metadata('both')).versions).sort()).toEqual(['2', '3', '4']);
  });

  it('a lowered max_versions takes effect on the next write, dropping several versions at once', async () => {
    const { call, metadata, storage } = mountV2();
    for (let v = 1; v <= 6; v++) await call('write', 'data/k', { data: { v } });
    await call('write', 'metadata/k', { max_versions: 2 });
    expect(Object.keys((await metadata('k')).versions)).toHaveLength(6);
    await call('write', 'data/k', { data: { v: 7 } });
    const meta = await metadata('k');
    expect(Object.keys(meta.versions).sort()).toEqual(['6', '7']);
    expect(meta.oldest_version).toBe(6);
    expect(storage.listRecursive(versionStoragePrefix('k'))).toHaveLength(2);
  });
});

describe('KV v2 delete_version_after', () => {
  it('the mount setting gives each new version a deletion time; once past, reads 404 with metadata', async () => {
    const { call, clock, data } = mountV2();
    await call('write', 'config', { delete_version_after: '1h' });
    const written = await call('write', 'data/k', { data: { v: 1 } });
    expect(written?.data).toMatchObject({ created_time: T0, deletion_time: '2026-01-01T01:00:00Z' });
    clock.advanceSeconds(3599);
    expect((await data('data/k')).data).toEqual({ v: 1 });
    clock.advanceSeconds(1);
    const error = await rejection(call('read', 'data/k'));
    expect(error.statusCode).toBe(404);
    expect(error.extra.data).toEqual({
      data: null,
      metadata: { version: 1, created_time: T0, deletion_time: '2026-01-01T01:00:00Z', destroyed: false, custom_metadata: null },
    });
  });

  it('uses the smaller of the mount and key settings, and a disabled mount switches it off', async () => {
    const { call } = mountV2();
    await call('write', 'config', { delete_version_after: '1h' });
    await call('write', 'metadata/k', { delete_version_after: '30m' });
    expect((await call('write', 'data/k', { data: { v: 1 } }))?.data).toMatchObject({ deletion_time: '2026-01-01T00:30:00Z' });
    await call('write', 'metadata/k', { delete_version_after: '2h' });
    expect((await call('write', 'data/k', { data: { v: 2 } }))?.data).toMatchObject({ deletion_time: '2026-01-01T01:00:00Z' });
    await call('write', 'config', { delete_version_after: '-1s' });
    expect((await call('write', 'data/k', { data: { v: 3 } }))?.data).toMatchObject({ deletion_time: '' });
  });

  it('applies only to versions written after it is set', async () => {
    const { call, clock, data } = mountV2();
    await call('write', 'data/k', { data: { v: 1 } });
    await call('write', 'config', { delete_version_after: '1m' });
    clock.advanceSeconds(3600);
    expect((await data('data/k')).data).toEqual({ v: 1 });
  });

  it('an undeleted version gets a fresh deadline counted from the undelete', async () => {
    const { call, clock, data } = mountV2();
    await call('write', 'metadata/k', { delete_version_after: '10m' });
    await call('write', 'data/k', { data: { v: 1 } });
    clock.advanceSeconds(600);
    await rejection(call('read', 'data/k'));
    await call('write', 'undelete/k', { versions: [1] });
    expect(await data('data/k')).toMatchObject({ data: { v: 1 }, metadata: { deletion_time: '2026-01-01T00:20:00Z' } });
    clock.advanceSeconds(600);
    await rejection(call('read', 'data/k'));
  });

  it('a soft delete before the deadline moves the deletion time to now', async () => {
    const { call, clock } = mountV2();
    await call('write', 'config', { delete_version_after: '1h' });
    await call('write', 'data/k', { data: { v: 1 } });
    clock.advanceSeconds(60);
    await call('delete', 'data/k');
    expect((await rejection(call('read', 'data/k'))).extra.data).toMatchObject({ metadata: { deletion_time: '2026-01-01T00:01:00Z' } });
  });
});

describe('KV v2 delete/, undelete/, destroy/', () => {
  it('delete/ soft-deletes the listed versions (array or comma string) and ignores unknown ones', async () => {
    const { call, clock, data } = mountV2();
    for (let v = 1; v <= 3; v++) await call('write', 'data/k', { data: { v } });
    clock.advanceSeconds(5);
    expect(await call('write', 'delete/k', { versions: [1, 2, 99] })).toBeUndefined();
    for (const version of [1, 2]) {
      expect((await rejection(call('read', 'data/k', { version }))).extra.data).toMatchObject({ data: null, metadata: { version, deletion_time: '2026-01-01T00:00:05Z' } });
    }
    expect((await data('data/k')).data).toEqual({ v: 3 });
    await call('write', 'delete/k', { versions: '3' });
    await rejection(call('read', 'data/k'));
    expect(await call('write', 'delete/missing', { versions: [1] })).toBeUndefined();
  });

  it('requires versions', async () => {
    const { call } = mountV2();
    await call('write', 'data/k', { data: { v: 1 } });
    expect((await rejection(call('write', 'delete/k', {}))).message).toBe('No version number provided');
    expect((await rejection(call('write', 'undelete/k', { versions: [] }))).message).toBe('No version number provided');
    expect((await rejection(call('write', 'destroy/k', {}))).message).toBe('no version number provided');
    const bad = await rejection(call('write', 'destroy/k', { versions: ['one'] }));
    expect(bad.statusCode).toBe(400);
    expect(((await call('read', 'data/k')) as BackendResponse).data).toMatchObject({ data: { v: 1 } });
  });

  it('undelete/ restores soft-deleted versions', async () => {
    const { call, data, metadata } = mountV2();
    await call('write', 'data/k', { data: { v: 1 } });
    await call('write', 'data/k', { data: { v: 2 } });
    await call('write', 'delete/k', { versions: '1,2' });
    await call('write', 'undelete/k', { versions: [1, 2] });
    expect((await data('data/k')).data).toEqual({ v: 2 });
    expect((await data('data/k', { version: 1 })).data).toEqual({ v: 1 });
    expect((await metadata('k')).versions['1'].deletion_time).toBe('');
  });

  it('destroy/ removes version data for good; undelete and delete cannot bring it back', async () => {
    const { call, clock, data, storage } = mountV2();
    await call('write', 'data/k', { data: { v: 1 } });
    await call('write', 'data/k', { data: { v: 2 } });
    await call('write', 'destroy/k', { versions: [2] });
    expect(storage.get(versionStorageKey('k', 2))).toBeUndefined();
    const destroyed = await rejection(call('read', 'data/k'));
    expect(destroyed.statusCode).toBe(404);
    expect(destroyed.extra.data).toEqual({
      data: null,
      metadata: { version: 2, created_time: T0, deletion_time: '', destroyed: true, custom_metadata: null },
    });
    await call('write', 'undelete/k', { versions: [2] });
    clock.advanceSeconds(1);
    await call('delete', 'data/k');
    await call('write', 'delete/k', { versions: [2] });
    expect((await rejection(call('read', 'data/k'))).extra.data).toMatchObject({ metadata: { deletion_time: '', destroyed: true } });
    expect((await data('data/k', { version: 1 })).data).toEqual({ v: 1 });
  });

  it('destroying a soft-deleted version keeps its deletion time; destroying twice or unknown versions is a no-op', async () => {
    const { call, metadata } = mountV2();
    await call('write', 'data/k', { data: { v: 1 } });
    await call('delete', 'data/k');
    await call('write', 'destroy/k', { versions: [1, 7] });
    await call('write', 'destroy/k', { versions: [1] });
    expect((await metadata('k')).versions).toEqual({ '1': { created_time: T0, deletion_time: T0, destroyed: true } });
    expect(await call('write', 'destroy/missing', { versions: [1] })).toBeUndefined();
  });
});

describe('KV v2 patch', () => {
  it('merge-patches the latest version into a new one (RFC 7386)', async () => {
    const { call, data } = mountV2();
    await call('write', 'data/k', { data: { a: 1, b: { c: 2, d: 3 }, e: [1, 2], f: 'x' } });
    const response = await call('patch', 'data/k', { data: { b: { c: null, z: 9 }, e: [3], f: null, g: true } });
    expect(response?.data).toEqual({ version: 2, created_time: T0, deletion_time: '', destroyed: false, custom_metadata: null });
    expect((await data('data/k')).data).toEqual({ a: 1, b: { d: 3, z: 9 }, e: [3], g: true });
    expect((await data('data/k', { version: 1 })).data).toEqual({ a: 1, b: { c: 2, d: 3 }, e: [1, 2], f: 'x' });
  });

  it('honours cas', async () => {
    const { call, data } = mountV2();
    await call('write', 'data/k', { data: { a: 1 } });
    await call('write', 'data/k', { data: { a: 2 } });
    expect((await rejection(call('patch', 'data/k', { data: { b: 1 }, options: { cas: 1 } }))).message).toBe('check-and-set parameter did not match the current version');
    expect((await call('patch', 'data/k', { data: { b: 1 }, options: { cas: 2 } }))?.data).toMatchObject({ version: 3 });
    expect((await data('data/k')).data).toEqual({ a: 2, b: 1 });
  });

  it('404s a missing key or a key without versions', async () => {
    const { call } = mountV2();
    const missing = await rejection(call('patch', 'data/nope', { data: { a: 1 } }));
    expect(missing.statusCode).toBe(404);
    expect(missing.extra.data).toBeUndefined();
    await call('write', 'metadata/empty', { max_versions: 3 });
    expect((await rejection(call('patch', 'data/empty', { data: { a: 1 } }))).statusCode).toBe(404);
  });

  it('404s with the version metadata when the latest version is deleted or destroyed, and writes nothing', async () => {
    const { call, metadata } = mountV2();
    await call('write', 'data/k', { data: { a: 1 } });
    await call('delete', 'data/k');
    const deleted = await rejection(call('patch', 'data/k', { data: { a: 2 } }));
    expect(deleted.statusCode).toBe(404);
    expect(deleted.extra.data).toEqual({ version: 1, created_time: T0, deletion_time: T0, destroyed: false, custom_metadata: null });
    await call('write', 'data/j', { data: { a: 1 } });
    await call('write', 'destroy/j', { versions: [1] });
    expect((await rejection(call('patch', 'data/j', { data: { a: 2 } }))).extra.data).toMatchObject({ version: 1, destroyed: true });
    expect((await metadata('k')).current_version).toBe(1);
    expect((await metadata('j')).current_version).toBe(1);
  });

  it('refuses a patch without an object under data', async () => {
    const { call, metadata } = mountV2();
    await call('write', 'data/k', { data: { a: 1 } });
    expect((await rejection(call('patch', 'data/k', {}))).message).toBe('no data provided');
    expect((await rejection(call('patch', 'data/k', { data: [1] }))).statusCode).toBe(400);
    expect((await metadata('k')).current_version).toBe(1);
  });
});

describe('KV v2 metadata', () => {
  it('reads the full metadata shape', async () => {
    const { call, clock, metadata } = mountV2();
    await call('write', 'data/k', { data: { v: 1 } });
    clock.advanceSeconds(60);
    await call('write', 'data/k', { data: { v: 2 } });
    expect(await metadata('k')).toEqual({
      cas_required: false,
      created_time: T0,
      current_version: 2,
      custom_metadata: null,
      delete_version_after: '0s',
      max_versions: 0,
      oldest_version: 0,
      updated_time: '2026-01-01T00:01:00Z',
      versions: {
        '1': { created_time: T0, deletion_time: '', destroyed: false },
        '2': { created_time: '2026-01-01T00:01:00Z', deletion_time: '', destroyed: false },
      },
    });
    expect((await rejection(call('read', 'metadata/nope'))).statusCode).toBe(404);
  });

  it('writes settings and custom_metadata, which data reads and writes then report', async () => {
    const { call, data, metadata } = mountV2();
    await call('write', 'data/k', { data: { v: 1 } });
    expect(await call('write', 'metadata/k', { max_versions: 5, cas_required: true, delete_version_after: '1h', custom_metadata: { owner: 'team-a', ticket: 42 } })).toBeUndefined();
    const meta = await metadata('k');
    expect(meta).toMatchObject({ max_versions: 5, cas_required: true, delete_version_after: '1h0m0s', custom_metadata: { owner: 'team-a', ticket: '42' } });
    expect(((await data('data/k')).metadata as Record<string, unknown>).custom_metadata).toEqual({ owner: 'team-a', ticket: '42' });
    const written = await call('write', 'data/k', { data: { v: 2 }, options: { cas: 1 } });
    expect(written?.data).toMatchObject({ version: 2, custom_metadata: { owner: 'team-a', ticket: '42' } });
    // A write replaces custom_metadata as a whole and leaves unspecified settings alone.
    await call('write', 'metadata/k', { custom_metadata: { other: 'x' } });
    expect(await metadata('k')).toMatchObject({ max_versions: 5, cas_required: true, custom_metadata: { other: 'x' } });
  });

  it('a metadata write creates a key without versions; a write that sets nothing creates nothing', async () => {
    const { call, clock, metadata } = mountV2();
    await call('write', 'metadata/empty', {});
    expect((await rejection(call('read', 'metadata/empty'))).statusCode).toBe(404);
    await call('write', 'metadata/k', { max_versions: 3 });
    expect(await metadata('k')).toMatchObject({ current_version: 0, oldest_version: 0, created_time: T0, updated_time: T0, versions: {} });
    const error = await rejection(call('read', 'data/k'));
    expect(error.statusCode).toBe(404);
    expect(error.extra.data).toBeUndefined();
    clock.advanceSeconds(30);
    expect((await call('write', 'data/k', { data: { v: 1 }, options: { cas: 0 } }))?.data).toMatchObject({ version: 1 });
    expect(await metadata('k')).toMatchObject({ created_time: T0, updated_time: '2026-01-01T00:00:30Z', current_version: 1 });
  });

  it('refuses invalid settings with 400 and leaves metadata unchanged', async () => {
    const { call, metadata } = mountV2();
    await call('write', 'metadata/k', { max_versions: 3, custom_metadata: { a: 'b' } });
    const before = await metadata('k');
    const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ custom_metadata: tooMany }, /^custom_metadata validation failed: payload must contain at most 64 keys, provided 65$/],
      [{ custom_metadata: { a: '' } }, /length of value for key "a" is 0/],
      [{ custom_metadata: { ['x'.repeat(129)]: 'v' } }, /length of key "x+" is 129/],
      [{ custom_metadata: { a: 'v'.repeat(513) } }, /length of value for key "a" is 513/],
      [{ custom_metadata: { a: 'bell\u0007' } }, /value for key "a" contains unprintable characters/],
      [{ custom_metadata: { a: null } }, /length of value for key "a" is 0/],
      [{ custom_metadata: ['a'] }, /^invalid value for field "custom_metadata"/],
      [{ delete_version_after: '-1s' }, /^invalid value for field "delete_version_after"/],
      [{ max_versions: 'lots' }, /^invalid value for field "max_versions"/],
      [{ cas_required: 'perhaps', max_versions: 9 }, /^invalid value for field "cas_required"/],
    ];
    for (const [body, message] of cases) {
      const error = await rejection(call('write', 'metadata/k', body));
      expect(error.statusCode).toBe(400);
      expect(error.message).toMatch(message);
    }
    expect(await metadata('k')).toEqual(before);
    expect((await rejection(call('write', 'metadata/', { max_versions: 1 }))).message).toBe('missing path');
    expect((await rejection(call('write', 'metadata/folder/', { max_versions: 1 }))).statusCode).toBe(400);
    await rejection(call('list', 'metadata/folder/'));
  });

  it('patch merges settings and custom_metadata (null removes a key) and 404s a missing key', async () => {
    const { call, metadata } = mountV2();
    await call('write', 'metadata/k', { max_versions: 3, cas_required: true, custom_metadata: { a: '1', b: '2' } });
    expect(await call('patch', 'metadata/k', { custom_metadata: { b: null, c: '3' }, delete_version_after: '10m' })).toBeUndefined();
    expect(await metadata('k')).toMatchObject({ max_versions: 3, cas_required: true, delete_version_after: '10m0s', custom_metadata: { a: '1', c: '3' } });
    await call('patch', 'metadata/k', { max_versions: 7 });
    expect(await metadata('k')).toMatchObject({ max_versions: 7, cas_required: true, custom_metadata: { a: '1', c: '3' } });
    await call('patch', 'metadata/k', { custom_metadata: null });
    expect((await metadata('k')).custom_metadata).toBeNull();
    expect((await rejection(call('patch', 'metadata/nope', { max_versions: 1 }))).statusCode).toBe(404);
    expect((await rejection(call('patch', 'metadata/k', { custom_metadata: { x: '' } }))).statusCode).toBe(400);
  });

  it('delete removes every version and the metadata; the key then starts again at version 1', async () => {
    const { call, storage } = mountV2();
    for (let v = 1; v <= 3; v++) await call('write', 'data/k', { data: { v } });
    await call('write', 'data/k/1', { data: { other: true } });
    expect(await call('delete', 'metadata/k')).toBeUndefined();
    expect((await rejection(call('read', 'metadata/k'))).statusCode).toBe(404);
    const gone = await rejection(call('read', 'data/k', { version: 1 }));
    expect(gone.statusCode).toBe(404);
    expect(gone.extra.data).toBeUndefined();
    expect(storage.listRecursive(versionStoragePrefix('k'))).toEqual([]);
    // A key whose path extends the deleted one is untouched.
    expect(((await call('read', 'data/k/1')) as BackendResponse).data).toMatchObject({ data: { other: true } });
    expect((await call('write', 'data/k', { data: { v: 'again' } }))?.data).toMatchObject({ version: 1 });
    expect(await call('delete', 'metadata/never')).toBeUndefined();
  });

  it('lists keys under a prefix, folders ending in /, and 404s an empty prefix', async () => {
    const { call } = mountV2();
    await call('write', 'data/a', { data: { v: 1 } });
    await call('write', 'data/b/c', { data: { v: 1 } });
    await call('write', 'data/b/d/e', { data: { v: 1 } });
    await call('write', 'metadata/b/only-metadata', { max_versions: 1 });
    expect((await call('list', 'metadata/'))?.data).toEqual({ keys: ['a', 'b/'] });
    expect((await call('list', 'metadata/b/'))?.data).toEqual({ keys: ['c', 'd/', 'only-metadata'] });
    expect((await call('list', 'metadata/b'))?.data).toEqual({ keys: ['c', 'd/', 'only-metadata'] });
    const empty = await rejection(call('list', 'metadata/nope/'));
    expect(empty.statusCode).toBe(404);
    expect(empty.message).toBe('');
    // Destroyed versions keep the key listed; deleting the metadata removes it.
    await call('write', 'destroy/a', { versions: [1] });
    expect((await call('list', 'metadata/'))?.data).toEqual({ keys: ['a', 'b/'] });
    await call('delete', 'metadata/a');
    expect((await call('list', 'metadata/'))?.data).toEqual({ keys: ['b/'] });
  });
});

describe('KV v2 subkeys', () => {
  it('returns the structure with values replaced by null, limited by depth', async () => {
    const { call, data } = mountV2();
    await call('write', 'data/k', { data: { a: 1, b: { c: 2, d: { e: 3 } }, f: {} } });
    expect(await data('subkeys/k')).toEqual({
      subkeys: { a: null, b: { c: null, d: { e: null } }, f: null },
      metadata: { version: 1, created_time: T0, deletion_time: '', destroyed: false, custom_metadata: null },
    });
    expect((await data('subkeys/k', { depth: '1' })).subkeys).toEqual({ a: null, b: null, f: null });
    expect((await data('subkeys/k', { depth: 2 })).subkeys).toEqual({ a: null, b: { c: null, d: null }, f: null });
    await call('delete', 'data/k');
    expect((await rejection(call('read', 'subkeys/k'))).extra.data).toMatchObject({ subkeys: null, metadata: { version: 1, deletion_time: T0 } });
    expect((await rejection(call('read', 'subkeys/nope'))).statusCode).toBe(404);
  });
});

describe('KV v2 paths outside the API', () => {
  it('answers v1-style paths and the roots of data/ and metadata/ with 404', async () => {
    const { call } = mountV2();
    await call('write', 'data/k', { data: { v: 1 } });
    for (const [operation, path] of [
      ['read', 'k'],
      ['write', 'k'],
      ['read', 'data'],
      ['list', 'data/'],
      ['list', ''],
      ['delete', 'metadata'],
    ] as const) {
      const error = await rejection(call(operation, path, operation === 'write' ? { v: 1 } : {}));
      expect(error.statusCode).toBe(404);
      expect(error.extra.warnings?.[0]).toMatch(/K\/V v2|versioned K\/V/);
    }
    expect((await rejection(call('read', 'data/k/'))).statusCode).toBe(404);
  });

  it('answers an operation a path does not support with 405', async () => {
    const { call } = mountV2();
    expect((await rejection(call('list', 'data/k'))).statusCode).toBe(405);
    expect((await rejection(call('read', 'destroy/k'))).statusCode).toBe(405);
  });
});
