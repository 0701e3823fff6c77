// The sys/wrapping/* paths as the router calls them, and the built-in response-wrapping policy.
import { resolveRequest } from '../../src/core/dispatch';
import { compilePaths, type Operation, type RequestIdentity } from '../../src/core/framework';
import { Acl, parsePolicy } from '../../src/core/policy/acl';
import { TokenStore } from '../../src/core/tokens';
import { WrappingManager } from '../../src/core/wrapping/manager';
import { RESPONSE_WRAPPING_POLICY, requireWrapTtl, wrappingPaths } from '../../src/core/wrapping/paths';
import { VaultError } from '../../src/errors';
import { ManualClock } from '../../src/util/clock';
import { memoryStorage, rejection } from '../helpers/backend';

function setup() {
  const store = memoryStorage();
  const clock = new ManualClock();
  const tokens = new TokenStore({ db: store.db, barrier: store.barrier, clock });
  const manager = new WrappingManager({ db: store.db, tokens, storage: store.view('core/wrapping/'), clock });
  const compiled = compilePaths(wrappingPaths(manager));
  const call = async (
    operation: Operation | 'write',
    path: string,
    data: Record<string, unknown> = {},
    as: { identity?: RequestIdentity; clientToken?: string } = {},
  ) => {
    const resolved = await resolveRequest(compiled, {
      operation,
      path,
      mountPath: 'sys/',
      rawData: data,
      clientAddress: '127.0.0.1',
      requestId: 'req-1',
      storage: store.view('logical/sys/'),
      ...as,
    });
    return resolved.run();
  };
  return { manager, tokens, clock, compiled, call };
}

function identity(accessor: string, policies: string[]): RequestIdentity {
  return { accessor, policies, displayName: 'token', metadata: {}, authPath: 'auth/token/', isRoot: false };
}


const ORIGINAL = {
  request_id: 'orig',
  lease_id: '',
  renewable: false,
  lease_duration: 0,
  data: { foo: 'bar', zip: 'zap' },
  wrap_info: null,
  warnings: null,
  auth: null,
  mount_type: '',
};

describe('sys/wrapping/wrap', () => {
  it('answers with the body as data, for the core to wrap', async () => {
    const { call } = setup();
    const body = { foo: 'bar', nested: { a: [1, 2] } };
    expect(await call('write', 'wrapping/wrap', body, { identity: identity('a', ['default']) })).toEqual({ data: body });
  });

  it('requireWrapTtl refuses sys/wrapping/wrap without a wrap TTL, with Vault\'s message, and ignores other paths', () => {
    expect(() => requireWrapTtl('sys/wrapping/wrap', undefined)).toThrow('endpoint requires response wrapping to be used');
    expect(() => requireWrapTtl('sys/wrapping/wrap', 0)).toThrow(VaultError);
    expect(() => requireWrapTtl('sys/wrapping/wrap', 60)).not.toThrow();
    expect(() => requireWrapTtl('secret/data/app', undefined)).not.toThrow();
  });
});

describe('sys/wrapping/unwrap', () => {
  it('with the token in the body: the original body, raw, once', async () => {
    const { call, manager } = setup();
    const info = manager.wrap({ response: ORIGINAL, ttlSeconds: 60, creationPath: 'sys/wrapping/wrap' });
    const as = { identity: identity('otherAccessor', ['default']), clientToken: 'hvs.other' };
    expect(await call('write', 'wrapping/unwrap', { token: info.token }, as)).toEqual({ raw: { statusCode: 200, body: ORIGINAL } });
    const again = await rejection(call('write', 'wrapping/unwrap', { token: info.token }, as));
    expect(again.statusCode).toBe(400);
    expect(again.message).toBe('wrapping token is not valid or does not exist');
  });

  it('with the wrapping token as the client token', async () => {
    const { call, manager, tokens } = setup();
    const info = manager.wrap({ response: ORIGINAL, ttlSeconds: 60, creationPath: 'sys/wrapping/wrap' });
    tokens.consumeUse(info.token);
    const as = { identity: identity(info.accessor, ['response-wrapping']), clientToken: info.token };
    expect(await call('write', 'wrapping/unwrap', {}, as)).toEqual({ raw: { statusCode: 200, body: ORIGINAL } });
    expect((await rejection(call('write', 'wrapping/unwrap', {}, as))).statusCode).toBe(400);
  });

  it('an empty body token means the client token; an ordinary client token is refused', async () => {
    const { call, manager } = setup();
    const info = manager.wrap({ response: ORIGINAL, ttlSeconds: 60, creationPath: 'sys/wrapping/wrap' });
    const as = { identity: identity('ordinary', ['default']), clientToken: 'hvs.ordinary' };
    expect((await rejection(call('write', 'wrapping/unwrap', { token: '' }, as))).statusCode).toBe(400);
    expect((await call('write', 'wrapping/unwrap', { token: info.token }, as))?.raw?.statusCode).toBe(200);
  });

  it('a wrapped response with nothing in it unwraps to a 204', async () => {
    const { call, manager } = setup();
    const info = manager.wrap({ response: {}, ttlSeconds: 60, creationPath: 'sys/wrapping/wrap' });
    expect(await call('write', 'wrapping/unwrap', { token: info.token }, { identity: identity('x', ['default']) })).toEqual({
      raw: { statusCode: 204, body: undefined },
    });
  });

  it('refuses an overlong token field with a 400 naming the field', async () => {
    const { call } = setup();
    const error = await rejection(call('write', 'wrapping/unwrap', { token: 'x'.repeat(600) }, { identity: identity('x', ['default']) }));
    expect(error.statusCode).toBe(400);
    expect(error.message).toContain('"token"');
  });
});

describe('sys/wrapping/lookup', () => {
  it('is unauthenticated, answers read and update, and consumes nothing', async () => {
    const { call, manager, compiled } = setup();
    expect(compiled.find((c) => c.definition.pattern === 'wrapping/lookup')?.definition.unauthenticated).toBe(true);
    const info = manager.wrap({ response: ORIGINAL, ttlSeconds: 90, creationPath: 'secret/app' });
    const expected = { data: { creation_path: 'secret/app', creation_time: '2026-01-01T00:00:00Z', creation_ttl: 90 } };
    expect(await call('write', 'wrapping/lookup', { token: info.token })).toEqual(expected);
    expect(await call('read', 'wrapping/lookup', { token: info.token })).toEqual(expected);
    expect(await call('write', 'wrapping/lookup', {}, { clientToken: info.token })).toEqual(expected);
    expect(manager.unwrap(info.token)).toEqual(ORIGINAL);
  });

  it('refuses a missing or invalid token with a 400', async () => {
    const { call } = setup();
    expect((await rejection(call('write', 'wrapping/lookup', {}))).message).toBe('missing "token" value in input');
    expect((await rejection(call('write', 'wrapping/lookup', { token: 'hvs.nope' }))).statusCode).toBe(400);
  });
});

describe('sys/wrapping/rewrap', () => {
  it('answers a Vault envelope with only wrap_info; the old token is dead', async () => {
    const { call, manager } = setup();
    const info = manager.wrap({ response: ORIGINAL, ttlSeconds: 60, creationPath: 'secret/app' });
    const res = await call('write', 'wrapping/rewrap', { token: info.token }, { identity: identity('x', ['default']) });
    expect(res?.raw?.statusCode).toBe(200);
    const body = res?.raw?.body as Record<string, unknown>;
    expect(body).toMatchObject({ request_id: 'req-1', data: null, auth: null, lease_id: '', lease_duration: 0, renewable: false });
    const wrapInfo = body.wrap_info as { token: string; ttl: number; creation_path: string };
    expect(wrapInfo).toMatchObject({ ttl: 60, creation_path: 'secret/app' });
    expect(wrapInfo.token).not.toBe(info.token);
    expect((await rejection(call('write', 'wrapping/unwrap', { token: info.token }, { identity: identity('x', ['default']) }))).statusCode).toBe(400);
    expect(manager.unwrap(wrapInfo.token)).toEqual(ORIGINAL);
  });
});

describe('RESPONSE_WRAPPING_POLICY', () => {
  it('allows update on unwrap, lookup and rewrap, and nothing else', () => {
    const acl = new Acl([parsePolicy('response-wrapping', RESPONSE_WRAPPING_POLICY)]);
    for (const path of ['sys/wrapping/unwrap', 'sys/wrapping/lookup', 'sys/wrapping/rewrap']) {
      expect(acl.allowOperation(path, 'update', {}, false)).toBe(true);
      expect(acl.allowOperation(path, 'read', {}, false)).toBe(false);
      expect(acl.allowOperation(path, 'delete', {}, false)).toBe(false);
    }
    for (const path of ['sys/wrapping/wrap', 'cubbyhole/response', 'auth/token/lookup-self', 'auth/token/create', 'secret/data/app', 'sys/wrapping/unwrap/x']) {
      for (const op of ['read', 'update', 'create', 'list', 'delete'] as const) expect(acl.allowOperation(path, op, {}, false)).toBe(false);
    }
  });
});
