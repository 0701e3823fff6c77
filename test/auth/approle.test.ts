// AppRole on real encrypted in-memory storage: roles, role_ids, secret IDs (HMAC-only), num_uses, expiry, CIDRs, login.
import { approleBackendFactory } from '../../src/auth/approle';
import type { BackendResponse, Operation } from '../../src/core/framework';
import { compilePaths } from '../../src/core/framework';
import { resolveRequest } from '../../src/core/dispatch';
import { mountForTest, rejection } from '../helpers/backend';


function mount() {
  const m = mountForTest(approleBackendFactory, {}, 'auth/approle/');
  const compiled = compilePaths(m.backend.paths);
  /** Calls the backend as a given client address (mountForTest always uses 127.0.0.1). */
  const callFrom = async (clientAddress: string, operation: Operation | 'write', path: string, data: Record<string, unknown> = {}) => {
    const resolved = await resolveRequest(compiled, { operation, path, mountPath: 'auth/approle/', rawData: data, clientAddress, requestId: 't', storage: m.storage });
    return resolved.run();
  };
  const secretId = async (role: string, data: Record<string, unknown> = {}) => {
    const res = await m.call('write', `role/${role}/secret-id`, data);
    return res?.data as { secret_id: string; secret_id_accessor: string; secret_id_ttl: number; secret_id_num_uses: number };
  };
  const roleId = async (role: string) => (await m.call('read', `role/${role}/role-id`))?.data?.role_id as string;
  const login = (role_id: string, secret_id?: string) => m.call('write', 'login', secret_id === undefined ? { role_id } : { role_id, secret_id });
  return { ...m, callFrom, secretId, roleId, login };
}

const INVALID = 'invalid role or secret ID';

async function expectInvalidLogin(promise: Promise<BackendResponse | undefined>): Promise<void> {
  const error = await rejection(promise);
  expect(error.statusCode).toBe(400);
  expect(error.message).toBe(INVALID);
}

describe('roles', () => {
  it('creates a role with Vault\'s defaults and reads it back in Vault\'s shape', async () => {
    const { call } = mount();
    expect(await call('write', 'role/app', { token_policies: 'reader, Writer', token_ttl: '1h', token_max_ttl: 7200 })).toBeUndefined();
    const read = await call('read', 'role/app');
    expect(read?.data).toEqual({
      bind_secret_id: true,
      secret_id_bound_cidrs: null,
      secret_id_num_uses: 0,
      secret_id_ttl: 0,
      local_secret_ids: false,
      token_bound_cidrs: [],
      token_explicit_max_ttl: 0,
      token_max_ttl: 7200,
      token_no_default_policy: false,
      token_num_uses: 0,
      owner: '',
      token_period: 0,
      token_policies: ['reader', 'writer'],
      token_ttl: 3600,
      token_type: 'default',
      policies: ['reader', 'writer'],
    });
  });

  it('resolves writes to create then update, and an update keeps fields it does not name', async () => {
    const { backend, call, storage } = mount();
    const compiled = compilePaths(backend.paths);
    const resolve = () =>
      resolveRequest(compiled, { operation: 'write', path: 'role/app', mountPath: 'auth/approle/', rawData: {}, clientAddress: '127.0.0.1', requestId: 't', storage });
    expect((await resolve()).operation).toBe('create');
    await call('write', 'role/app', { token_policies: ['a'], secret_id_ttl: '10m' });
    expect((await resolve()).operation).toBe('update');
    await call('write', 'role/app', { token_ttl: 60 });
    const data = (await call('read', 'role/app'))?.data;
    expect(data).toMatchObject({ token_policies: ['a'], secret_id_ttl: 600, token_ttl: 60 });
  });

  it('accepts the deprecated aliases node-vault still sends', async () => {
    const { call } = mount();
    await call('write', 'role/legacy', { policies: 'p1,p2', period: '1h', bound_cidr_list: '10.0.0.0/8' });
    const data = (await call('read', 'role/legacy'))?.data;
    expect(data).toMatchObject({ token_policies: ['p1', 'p2'], policies: ['p1', 'p2'], token_period: 3600, period: 3600, secret_id_bound_cidrs: ['10.0.0.0/8'] });
    // The new names win over the deprecated ones.
    await call('write', 'role/both', { policies: 'old', token_policies: 'new', secret_id_bound_cidrs: ['192.168.0.0/16'], bound_cidr_list: '10.0.0.0/8' });
    expect((await call('read', 'role/both'))?.data).toMatchObject({ token_policies: ['new'], secret_id_bound_cidrs: ['192.168.0.0/16'] });
  });

  it('lists roles, treats names case-insensitively, and deletes a role with its secret IDs', async () => {
    const { call, secretId, store } = mount();
    expect((await rejection(call('list', 'role/'))).statusCode).toBe(404);
    await call('write', 'role/Beta', {});
    await call('write', 'role/alpha', {});
    expect((await call('list', 'role/'))?.data).toEqual({ keys: ['alpha', 'beta'] });
    expect((await call('read', 'role/BETA'))?.data?.bind_secret_id).toBe(true);
    await secretId('beta');
    expect(await call('delete', 'role/beta')).toBeUndefined();
    expect((await rejection(call('read', 'role/beta'))).statusCode).toBe(404);
    expect((await call('list', 'role/'))?.data).toEqual({ keys: ['alpha'] });
    const leftovers = store.db.prepare("SELECT path FROM entries WHERE path LIKE '%beta%'").all();
    expect(leftovers).toEqual([]);
    // Deleting a missing role is not an error, as in Vault.
    expect(await call('delete', 'role/nope')).toBeUndefined();
  });

  it('refuses batch tokens, root policies, invalid CIDRs, bad names and a role without any constraint', async () => {
    const { call } = mount();
    const batch = await rejection(call('write', 'role/b', { token_type: 'batch' }));
    expect(batch.statusCode).toBe(400);
    expect(batch.message).toContain('batch');
    expect((await rejection(call('write', 'role/b', { token_type: 'default-batch' }))).statusCode).toBe(400);
    expect((await rejection(call('write', 'role/b', { token_type: 'weird' }))).statusCode).toBe(400);
    expect((await call('write', 'role/s', { token_type: 'default-service' }))?.warnings).toEqual(['default-service has no useful meaning; adjusting to service']);
    expect((await call('read', 'role/s'))?.data?.token_type).toBe('service');
    expect((await rejection(call('write', 'role/r', { token_policies: 'a,root' }))).statusCode).toBe(400);
    expect((await rejection(call('write', 'role/c', { secret_id_bound_cidrs: 'not-a-cidr' }))).message).toContain('invalid CIDR');
    expect((await rejection(call('write', 'role/c', { token_bound_cidrs: '10.0.0.0/99' }))).statusCode).toBe(400);
    expect((await rejection(call('write', 'role/t', { token_ttl: '2h', token_max_ttl: '1h' }))).message).toBe("'token_ttl' cannot be greater than 'token_max_ttl'");
    expect((await rejection(call('write', 'role/p', { token_period: '769h' }))).statusCode).toBe(400);
    expect((await rejection(call('write', 'role/n', { secret_id_num_uses: -1 }))).statusCode).toBe(400);
    expect((await rejection(call('write', 'role/n', { token_ttl: 'forever' }))).message).toContain('token_ttl');
    expect((await rejection(call('write', 'role/open', { bind_secret_id: false }))).message).toBe('at least one constraint should be enabled on the role');
    expect((await rejection(call('write', `role/${'x'.repeat(300)}`, {}))).statusCode).toBe(400);
    expect((await rejection(call('write', 'role/bad$name', {}))).statusCode).toBe(404);
    // local_secret_ids is fixed at creation.
    await call('write', 'role/local', { local_secret_ids: true });
    expect((await call('read', 'role/local'))?.data?.local_secret_ids).toBe(true);
    expect((await rejection(call('write', 'role/local', { local_secret_ids: false }))).message).toBe('local_secret_ids can only be modified during role creation');
  });
});

describe('role-id', () => {
  it('reads a generated role_id and sets a custom one that must be unique across roles', async () => {
    const { call, roleId } = mount();
    await call('write', 'role/a', {});
    await call('write', 'role/b', { role_id: 'custom-b' });
    expect(await roleId('a')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await roleId('b')).toBe('custom-b');

    expect(await call('write', 'role/a/role-id', { role_id: 'custom-a' })).toBeUndefined();
    expect(await roleId('a')).toBe('custom-a');
    const taken = await rejection(call('write', 'role/a/role-id', { role_id: 'custom-b' }));
    expect(taken.statusCode).toBe(400);
    expect(taken.message).toBe('role_id already in use');
    expect((await rejection(call('write', 'role/c', { role_id: 'custom-a' }))).message).toBe('role_id already in use');
    expect((await rejection(call('read', 'role/c'))).statusCode).toBe(404);
    expect((await rejection(call('write', 'role/a/role-id', {}))).message).toBe('missing role_id');
    expect((await rejection(call('write', 'role/zzz/role-id', { role_id: 'x' }))).statusCode).toBe(404);
    expect((await rejection(call('read', 'role/zzz/role-id'))).statusCode).toBe(404);
  });

  it('logs in only with the current role_id after a change, and frees the old one', async () => {
    const { call, secretId, login } = mount();
    await call('write', 'role/a', { role_id: 'first' });
    const { secret_id } = await secretId('a');
    await call('write', 'role/a/role-id', { role_id: 'second' });
    await expectInvalidLogin(login('first', secret_id));
    expect((await login('second', secret_id))?.auth?.metadata).toEqual({ role_name: 'a' });
    // The old role_id can now be taken by another role.
    expect(await call('write', 'role/b', { role_id: 'first' })).toBeUndefined();
  });
});

describe('secret IDs', () => {
  it('generates a secret ID and an accessor, lists accessors, and looks it up by either', async () => {
    const { call, secretId } = mount();
    await call('write', 'role/app', { secret_id_ttl: '1h', secret_id_num_uses: 5 });
    const generated = await secretId('app', { metadata: '{"team":"payments","env":"prod"}', cidr_list: '127.0.0.0/8' });
    expect(generated.secret_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.secret_id_accessor).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.secret_id_accessor).not.toBe(generated.secret_id);
    expect(generated.secret_id_ttl).toBe(3600);
    expect(generated.secret_id_num_uses).toBe(5);

    const list = await call('list', 'role/app/secret-id/');
    expect(list?.data).toEqual({ keys: [generated.secret_id_accessor] });

    const expected = {
      secret_id_accessor: generated.secret_id_accessor,
      secret_id_num_uses: 5,
      secret_id_ttl: 3600,
      creation_time: '2026-01-01T00:00:00Z',
      expiration_time: '2026-01-01T01:00:00Z',
      last_updated_time: '2026-01-01T00:00:00Z',
      metadata: { team: 'payments', env: 'prod' },
      cidr_list: ['127.0.0.0/8'],
      token_bound_cidrs: [],
    };
    expect((await call('write', 'role/app/secret-id/lookup', { secret_id: generated.secret_id }))?.data).toEqual(expected);
    expect((await call('write', 'role/app/secret-id-accessor/lookup', { secret_id_accessor: generated.secret_id_accessor }))?.data).toEqual(expected);
    // A secret ID that does not exist looks up to nothing (204), as in Vault.
    expect(await call('write', 'role/app/secret-id/lookup', { secret_id: 'nope' })).toBeUndefined();
  });

  it('never stores a secret ID in plaintext', async () => {
    const { call, secretId, store } = mount();
    await call('write', 'role/app', {});
    const { secret_id } = await secretId('app');
    await call('write', 'role/app/custom-secret-id', { secret_id: 'my-very-own-secret-id-0123456789' });
    const rows = store.db.prepare('SELECT path, value FROM entries').all() as { path: string; value: Buffer }[];
    expect(rows.length).toBeGreaterThan(0);
    for (const needle of [secret_id, 'my-very-own-secret-id-0123456789']) {
      for (const row of rows) {
        expect(row.path).not.toContain(needle);
        expect(Buffer.from(row.value).includes(Buffer.from(needle))).toBe(false);
      }
    }
    // Nor in decrypted storage: only an HMAC (the key) identifies it.
    for (const row of rows) {
      const plain = store.get(row.path);
      expect(plain && Buffer.from(plain).toString('utf8').includes(secret_id)).toBeFalsy();
      expect(plain && Buffer.from(plain).toString('utf8').includes('my-very-own-secret-id-0123456789')).toBeFalsy();
    }
    // The role_id is not a storage key either (it is a credential): its index is keyed by HMAC.
    const { role_id } = ((await call('read', 'role/app/role-id'))?.data ?? {}) as { role_id: string };
    for (const row of rows) expect(row.path).not.toContain(role_id);
  });

  it('registers a custom secret ID once per role and refuses an empty one', async () => {
    const { call, roleId, login } = mount();
    await call('write', 'role/app', {});
    const res = await call('write', 'role/app/custom-secret-id', { secret_id: 'custom-1', num_uses: 2, ttl: 60 });
    expect(res?.data).toMatchObject({ secret_id: 'custom-1', secret_id_num_uses: 2, secret_id_ttl: 60 });
    expect((await rejection(call('write', 'role/app/custom-secret-id', { secret_id: 'custom-1' }))).message).toBe('SecretID is already registered');
    expect((await rejection(call('write', 'role/app/custom-secret-id', {}))).message).toBe('missing secret_id');
    expect((await login(await roleId('app'), 'custom-1'))?.auth).toBeDefined();
  });

  it('keeps num_uses and ttl within the role\'s limits', async () => {
    const { call, secretId } = mount();
    await call('write', 'role/app', { secret_id_num_uses: 3, secret_id_ttl: '10m' });
    expect((await secretId('app')).secret_id_num_uses).toBe(3);
    expect((await secretId('app', { num_uses: 2, ttl: 60 })).secret_id_ttl).toBe(60);
    expect((await rejection(call('write', 'role/app/secret-id', { num_uses: 4 }))).message).toBe("num_uses cannot be higher than the role's secret_id_num_uses");
    expect((await rejection(call('write', 'role/app/secret-id', { num_uses: 0 }))).statusCode).toBe(400);
    expect((await rejection(call('write', 'role/app/secret-id', { ttl: '11m' }))).message).toBe("ttl cannot be longer than the role's secret_id_ttl");
    expect((await rejection(call('write', 'role/app/secret-id', { ttl: 0 }))).statusCode).toBe(400);
    // An unlimited role lets each secret ID choose, capped at 768h.
    await call('write', 'role/free', {});
    expect((await secretId('free', { ttl: '1000h' })).secret_id_ttl).toBe(768 * 3600);
    expect((await secretId('free')).secret_id_ttl).toBe(0);
  });

  it('validates metadata and CIDRs, and requires the CIDRs to be inside the role\'s', async () => {
    const { call } = mount();
    await call('write', 'role/app', { secret_id_bound_cidrs: '10.0.0.0/8', token_bound_cidrs: '10.1.0.0/16' });
    expect((await call('write', 'role/app/secret-id', { cidr_list: '10.2.0.0/16,10.3.0.1', token_bound_cidrs: '10.1.2.0/24' }))?.data).toBeDefined();
    expect((await rejection(call('write', 'role/app/secret-id', { cidr_list: '192.168.0.0/16' }))).message).toContain('subset');
    expect((await rejection(call('write', 'role/app/secret-id', { cidr_list: '0.0.0.0/0' }))).message).toContain('subset');
    expect((await rejection(call('write', 'role/app/secret-id', { token_bound_cidrs: '10.2.0.0/16' }))).message).toContain('subset');
    expect((await rejection(call('write', 'role/app/secret-id', { cidr_list: 'bogus' }))).statusCode).toBe(400);
    for (const metadata of ['{"a":1}', '[1]', '{"__proto__":"x"}', 'novalue', JSON.stringify({ k: 'v'.repeat(600) })]) {
      const error = await rejection(call('write', 'role/app/secret-id', { metadata }));
      expect(error.statusCode).toBe(400);
      expect(error.message).toMatch(/^failed to parse metadata/);
    }
    const kv = await call('write', 'role/app/secret-id', { metadata: 'a=1,b=2' });
    const looked = await call('write', 'role/app/secret-id/lookup', { secret_id: kv?.data?.secret_id });
    expect(looked?.data?.metadata).toEqual({ a: '1', b: '2' });
  });

  it('refuses secret IDs for a role without bind_secret_id and for a missing role', async () => {
    const { call } = mount();
    await call('write', 'role/cidronly', { bind_secret_id: false, secret_id_bound_cidrs: '127.0.0.1/32' });
    expect((await rejection(call('write', 'role/cidronly/secret-id', {}))).message).toBe('bind_secret_id is not set on the role');
    const missing = await rejection(call('write', 'role/nope/secret-id', {}));
    expect(missing.statusCode).toBe(404);
    expect(missing.message).toBe('role "nope" does not exist');
  });

  it('destroys by secret ID or accessor', async () => {
    const { call, secretId, roleId, login } = mount();
    await call('write', 'role/app', {});
    const first = await secretId('app');
    const second = await secretId('app');
    expect(await call('write', 'role/app/secret-id/destroy', { secret_id: first.secret_id })).toBeUndefined();
    expect(await call('write', 'role/app/secret-id-accessor/destroy', { secret_id_accessor: second.secret_id_accessor })).toBeUndefined();
    const id = await roleId('app');
    await expectInvalidLogin(login(id, first.secret_id));
    await expectInvalidLogin(login(id, second.secret_id));
    expect((await rejection(call('list', 'role/app/secret-id/'))).statusCode).toBe(404);
    expect((await rejection(call('write', 'role/app/secret-id-accessor/lookup', { secret_id_accessor: second.secret_id_accessor }))).statusCode).toBe(404);
    // Destroying again is idempotent for secret IDs; an unknown accessor is a 404.
    expect(await call('delete', 'role/app/secret-id/destroy', { secret_id: first.secret_id })).toBeUndefined();
    expect((await rejection(call('write', 'role/app/secret-id-accessor/destroy', { secret_id_accessor: second.secret_id_accessor }))).statusCode).toBe(404);
    expect((await rejection(call('write', 'role/app/secret-id/destroy', {}))).message).toBe('missing secret_id');
    expect((await rejection(call('write', 'role/app/secret-id-accessor/destroy', {}))).message).toBe('missing secret_id_accessor');
  });

  it('looks up and destroys accessors only within the same role', async () => {
    const { call, secretId, roleId, login } = mount();
    await call('write', 'role/a', {});
    await call('write', 'role/b', {});
    const ofA = await secretId('a');
    const viaB = await rejection(call('write', 'role/b/secret-id-accessor/lookup', { secret_id_accessor: ofA.secret_id_accessor }));
    expect(viaB.statusCode).toBe(404);
    expect((await rejection(call('write', 'role/b/secret-id-accessor/destroy', { secret_id_accessor: ofA.secret_id_accessor }))).statusCode).toBe(404);
    // Secret IDs are scoped too: lookup and destroy through role b do nothing to a's secret ID.
    expect(await call('write', 'role/b/secret-id/lookup', { secret_id: ofA.secret_id })).toBeUndefined();
    await call('write', 'role/b/secret-id/destroy', { secret_id: ofA.secret_id });
    expect((await call('write', 'role/a/secret-id-accessor/lookup', { secret_id_accessor: ofA.secret_id_accessor }))?.data?.secret_id_accessor).toBe(
      ofA.secret_id_accessor,
    );
    // And a's secret ID does not log in to b.
    await expectInvalidLogin(login(await roleId('b'), ofA.secret_id));
    expect((await login(await roleId('a'), ofA.secret_id))?.auth).toBeDefined();
  });

  it('tidy removes expired secret IDs and leaves live ones', async () => {
    const { call, clock, secretId, store } = mount();
    await call('write', 'role/app', {});
    const short = await secretId('app', { ttl: 60 });
    const long = await secretId('app', { ttl: 3600 });
    clock.advanceSeconds(61);
    // An expired secret ID no longer lists, even before tidy.
    expect((await call('list', 'role/app/secret-id/'))?.data).toEqual({ keys: [long.secret_id_accessor] });
    const res = await call('write', 'tidy/secret-id');
    expect(res?.warnings?.[0]).toContain('1 ');
    const paths = (store.db.prepare('SELECT path FROM entries').all() as { path: string }[]).map((r) => r.path);
    expect(paths.some((p) => p.includes(short.secret_id_accessor))).toBe(false);
    expect(paths.some((p) => p.includes(long.secret_id_accessor))).toBe(true);
    expect((await call('write', 'role/app/secret-id-accessor/lookup', { secret_id_accessor: long.secret_id_accessor }))?.data).toBeDefined();
  });
});

describe('login', () => {
  it('answers an AuthDescriptor with the role\'s token settings and the role name in the metadata', async () => {
    const { call, secretId, roleId, login } = mount();
    await call('write', 'role/ci', {
      token_policies: 'deploy',
      token_ttl: '20m',
      token_max_ttl: '1h',
      token_explicit_max_ttl: '30m',
      token_num_uses: 10,
      token_bound_cidrs: '127.0.0.0/8',
    });
    const { secret_id } = await secretId('ci', { metadata: JSON.stringify({ pipeline: 'build', role_name: 'admin' }) });
    const res = await login(await roleId('ci'), secret_id);
    expect(res?.data).toBeUndefined();
    expect(res?.auth).toEqual({
      policies: ['deploy'],
      displayName: '',
      metadata: { pipeline: 'build', role_name: 'ci' },
      ttlSeconds: 1200,
      maxTtlSeconds: 1800,
      explicitMaxTtlSeconds: 1800,
      noDefaultPolicy: false,
      numUses: 10,
      renewable: true,
      boundCidrs: ['127.0.0.0/8'],
      internalData: { roleName: 'ci' },
      // The identity alias is the role_id (one entity per role), as in Vault.
      alias: { name: await roleId('ci') },
      roleName: 'ci',
    });
  });

  it('uses the secret ID\'s token_bound_cidrs over the role\'s, and passes a period', async () => {
    const { call, secretId, roleId, login } = mount();
    await call('write', 'role/p', { token_period: '1h', token_bound_cidrs: '127.0.0.0/8' });
    const { secret_id } = await secretId('p', { token_bound_cidrs: '127.0.0.1' });
    const auth = (await login(await roleId('p'), secret_id))?.auth;
    expect(auth?.periodSeconds).toBe(3600);
    expect(auth?.boundCidrs).toEqual(['127.0.0.1']);
  });

  it('a secret ID with num_uses=1 allows exactly one login', async () => {
    const { call, secretId, roleId, login } = mount();
    await call('write', 'role/once', {});
    const { secret_id, secret_id_accessor } = await secretId('once', { num_uses: 1 });
    const id = await roleId('once');
    expect((await login(id, secret_id))?.auth).toBeDefined();
    await expectInvalidLogin(login(id, secret_id));
    // It is gone, accessor included.
    expect((await rejection(call('write', 'role/once/secret-id-accessor/lookup', { secret_id_accessor }))).statusCode).toBe(404);
  });

  it('num_uses counts down on each login and concurrent logins cannot overspend it', async () => {
    const { call, secretId, roleId, login } = mount();
    await call('write', 'role/few', { secret_id_num_uses: 3 });
    const { secret_id } = await secretId('few');
    const id = await roleId('few');
    await login(id, secret_id);
    expect((await call('write', 'role/few/secret-id/lookup', { secret_id }))?.data?.secret_id_num_uses).toBe(2);
    const results = await Promise.allSettled([login(id, secret_id), login(id, secret_id), login(id, secret_id), login(id, secret_id)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
  });

  it('refuses an expired secret ID and removes it', async () => {
    const { call, clock, secretId, roleId, login, store } = mount();
    await call('write', 'role/short', { secret_id_ttl: '5m' });
    const { secret_id, secret_id_accessor } = await secretId('short');
    const id = await roleId('short');
    clock.advanceSeconds(299);
    expect((await login(id, secret_id))?.auth).toBeDefined();
    clock.advanceSeconds(1);
    await expectInvalidLogin(login(id, secret_id));
    const paths = (store.db.prepare('SELECT path FROM entries').all() as { path: string }[]).map((r) => r.path);
    expect(paths.some((p) => p.includes(secret_id_accessor))).toBe(false);
    expect(paths.some((p) => p.includes('/secret-id/short/'))).toBe(false);
  });

  it('answers every failure with the same 400 message', async () => {
    const { call, secretId, roleId, login, callFrom } = mount();
    await call('write', 'role/app', {});
    await call('write', 'role/other', {});
    const { secret_id } = await secretId('app');
    const ofOther = await secretId('other');
    const id = await roleId('app');
    await expectInvalidLogin(login('no-such-role-id', secret_id));
    await expectInvalidLogin(login(id, 'wrong-secret-id'));
    await expectInvalidLogin(login(id, ''));
    await expectInvalidLogin(login(id));
    await expectInvalidLogin(login(id, ofOther.secret_id));
    await expectInvalidLogin(login('no-such-role-id', ''));
    // CIDR mismatch on the secret ID and on the role.
    const bound = await secretId('app', { cidr_list: '10.0.0.0/8' });
    await expectInvalidLogin(login(id, bound.secret_id));
    expect((await callFrom('10.1.2.3', 'write', 'login', { role_id: id, secret_id: bound.secret_id }))?.auth).toBeDefined();
    await call('write', 'role/netbound', { secret_id_bound_cidrs: '10.0.0.0/8' });
    const nb = await secretId('netbound');
    await expectInvalidLogin(login(await roleId('netbound'), nb.secret_id));
    expect((await callFrom('::ffff:10.0.0.7', 'write', 'login', { role_id: await roleId('netbound'), secret_id: nb.secret_id }))?.auth).toBeDefined();
    // A missing role_id is a plain input error, as in Vault.
    expect((await rejection(call('write', 'login', {}))).message).toBe('missing role_id');
  });

  it('a refused attempt (wrong address) does not spend a use', async () => {
    const { call, secretId, roleId, login, callFrom } = mount();
    await call('write', 'role/app', {});
    const { secret_id } = await secretId('app', { num_uses: 1, cidr_list: '10.0.0.0/8' });
    const id = await roleId('app');
    await expectInvalidLogin(login(id, secret_id));
    expect((await callFrom('10.0.0.1', 'write', 'login', { role_id: id, secret_id }))?.auth).toBeDefined();
  });

  it('a role without bind_secret_id logs in with the role_id from its bound CIDRs only', async () => {
    const { call, roleId, login, callFrom } = mount();
    await call('write', 'role/net', { bind_secret_id: false, secret_id_bound_cidrs: '10.0.0.0/8' });
    const id = await roleId('net');
    await expectInvalidLogin(login(id));
    const res = await callFrom('10.9.9.9', 'write', 'login', { role_id: id });
    expect(res?.auth?.metadata).toEqual({ role_name: 'net' });
  });

  it('refuses a secret ID once the role\'s CIDRs no longer contain it', async () => {
    const { call, secretId, roleId, callFrom } = mount();
    await call('write', 'role/app', { secret_id_bound_cidrs: '10.0.0.0/8' });
    const { secret_id } = await secretId('app', { cidr_list: '10.1.0.0/16' });
    await call('write', 'role/app', { secret_id_bound_cidrs: '10.2.0.0/16,10.1.5.0/24' });
    const error = await rejection(callFrom('10.1.5.5', 'write', 'login', { role_id: await roleId('app'), secret_id }));
    expect(error.message).toBe(INVALID);
  });

  it('is the only unauthenticated path', () => {
    const { backend } = mount();
    expect(backend.paths.filter((p) => p.unauthenticated).map((p) => p.pattern)).toEqual(['login']);
  });
});
