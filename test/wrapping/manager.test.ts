// Response wrapping at the manager level on real encrypted storage and a real token store: single use, expiry, lookup, rewrap, tidy, nothing in plaintext.
import { TokenStore } from '../../src/core/tokens';
import {
  INVALID_WRAPPING_TOKEN_MESSAGE,
  MAX_WRAP_TTL_SECONDS,
  parseWrapTtl,
  WrappingManager,
} from '../../src/core/wrapping/manager';
import { VaultError } from '../../src/errors';
import { ManualClock } from '../../src/util/clock';
import { memoryStorage } from '../helpers/backend';

const START_MS = Date.UTC(2026, 0, 1);

function setup() {
  const store = memoryStorage();
  const clock = new ManualClock(START_MS);
  const tokens = new TokenStore({ db: store.db, barrier: store.barrier, clock });
  const storage = store.view('core/wrapping/');
  const manager = new WrappingManager({ db: store.db, tokens, storage, clock });
  return { store, clock, tokens, storage, manager };
}

/** The VaultError a synchronous call throws (fails the test if it returns). */
function thrown(fn: () => unknown): VaultError {
  try {
    fn();
  } catch (error) {
    if (error instanceof VaultError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

function expectInvalid(fn: () => unknown, token?: string): void {
  const error = thrown(fn);
  expect(error.statusCode).toBe(400);
  expect(error.message).toBe(INVALID_WRAPPING_TOKEN_MESSAGE);
  if (token) expect(error.message).not.toContain(token);
}

/** A Vault envelope as the core would have sent it. */
function kvEnvelope(secret = 'hunter2'): Record<string, unknown> {
  return {
    request_id: 'original-request',
    lease_id: '',
    renewable: false,
    lease_duration: 2764800,
    data: { password: secret, nested: { list: [1, 'two', null], flag: true } },
    wrap_info: null,
    warnings: null,
    auth: null,
    mount_type: 'kv',
  };
}

describe('wrap and unwrap', () => {
  it('returns Vault wrap_info and a single-use, non-renewable, orphan wrapping token', () => {
    const { manager, tokens } = setup();
    const info = manager.wrap({ response: kvEnvelope(), ttlSeconds: 300, creationPath: 'secret/app', creatorAccessor: 'creatorAcc' });
    expect(info).toEqual({
      token: expect.stringMatching(/^hvs\./),
      accessor: expect.any(String),
      ttl: 300,
      creation_time: '2026-01-01T00:00:00Z',
      creation_path: 'secret/app',
    });
    expect('wrapped_accessor' in info).toBe(false);
    const record = tokens.lookup(info.token);
    expect(record?.entry).toMatchObject({
      accessor: info.accessor,
      policies: ['response-wrapping'],
      numUses: 1,
      renewable: false,
      orphan: true,
      parentAccessor: null,
      displayName: 'response-wrapping',
    });
    expect(record?.expireAtMs).toBe(START_MS + 300_000);
    expect(record?.usesRemaining).toBe(1);
  });

  it('reports the accessor of a wrapped token as wrapped_accessor', () => {
    const { manager } = setup();
    const response = { ...kvEnvelope(), data: null, auth: { client_token: 'hvs.inner', accessor: 'innerAccessor', policies: ['default'] } };
    const info = manager.wrap({ response, ttlSeconds: 60, creationPath: 'auth/token/create' });
    expect(info.wrapped_accessor).toBe('innerAccessor');
    expect(manager.unwrap(info.token)).toEqual(response);
  });

  it('unwraps the exact body once; the token is revoked and a second unwrap is a 400', () => {
    const { manager, tokens, storage } = setup();
    const body = kvEnvelope();
    const info = manager.wrap({ response: body, ttlSeconds: 300, creationPath: 'secret/app' });
    expect(manager.unwrap(info.token)).toEqual(body);
    // Durable before returning: the token row and the stored response are already gone.
    expect(tokens.lookup(info.token)).toBeUndefined();
    expect(tokens.lookupByAccessor(info.accessor)).toBeUndefined();
    expect(storage.get(info.accessor)).toBeUndefined();
    expectInvalid(() => manager.unwrap(info.token), info.token);
    expectInvalid(() => manager.lookup(info.token), info.token);
    expectInvalid(() => manager.rewrap(info.token), info.token);
  });

  it('refuses an expired wrapping token even before any tidy has run', () => {
    const { manager, clock } = setup();
    const info = manager.wrap({ response: kvEnvelope(), ttlSeconds: 60, creationPath: 'secret/app' });
    clock.advanceSeconds(59);
    expect(manager.lookup(info.token).creation_ttl).toBe(60);
    clock.advanceSeconds(1);
    expectInvalid(() => manager.unwrap(info.token), info.token);
    expectInvalid(() => manager.lookup(info.token), info.token);
  });

  it('refuses tokens that are not wrapping tokens, and garbage, with the same message', () => {
    const { manager, tokens } = setup();
    const ordinary = tokens.create({
      policies: ['default'],
      meta: {},
      displayName: 'token',
      authPath: 'auth/token/',
      parentAccessor: null,
      ttlSeconds: 3600,
      explicitMaxTtlSeconds: 0,
      periodSeconds: 0,
      numUses: 0,
      renewable: true,
      orphan: true,
      type: 'service',
    }).token;
    for (const token of [ordinary, 'hvs.doesnotexist', '', 'x'.repeat(10_000)]) {
      expectInvalid(() => manager.unwrap(token));
      expectInvalid(() => manager.lookup(token));
      expectInvalid(() => manager.rewrap(token));
    }
  });

  it('a token with the response-wrapping policy but no stored response is not a wrapping token', () => {
    const { manager, tokens } = setup();
    const forged = tokens.create({
      policies: ['response-wrapping'],
      meta: {},
      displayName: 'response-wrapping',
      authPath: 'auth/token/',
      parentAccessor: null,
      ttlSeconds: 60,
      explicitMaxTtlSeconds: 0,
      periodSeconds: 0,
      numUses: 1,
      renewable: false,
      orphan: true,
      type: 'service',
    }).token;
    expectInvalid(() => manager.unwrap(forged));
    expectInvalid(() => manager.lookup(forged));
  });

  it('a wrapping token revoked through the token store can no longer be unwrapped', () => {
    const { manager, tokens } = setup();
    const info = manager.wrap({ response: kvEnvelope(), ttlSeconds: 60, creationPath: 'secret/app' });
    tokens.revokeTree(info.accessor);
    expectInvalid(() => manager.unwrap(info.token));
  });

  it('refuses wrap TTLs below 1s, fractional, or above the maximum', () => {
    const { manager } = setup();
    for (const ttlSeconds of [0, -1, 1.5, Number.NaN, MAX_WRAP_TTL_SECONDS + 1]) {
      const error = thrown(() => manager.wrap({ response: kvEnvelope(), ttlSeconds, creationPath: 'secret/app' }));
      expect(error.statusCode).toBe(400);
    }
    expect(manager.wrap({ response: kvEnvelope(), ttlSeconds: MAX_WRAP_TTL_SECONDS, creationPath: 'p' }).ttl).toBe(MAX_WRAP_TTL_SECONDS);
    expect(manager.wrap({ response: kvEnvelope(), ttlSeconds: 1, creationPath: 'p' }).ttl).toBe(1);
  });
});

describe('the wrapping token as the client token', () => {
  it('unwraps by accessor after the pipeline has spent and revoked the single use', () => {
    const { manager, tokens } = setup();
    const body = kvEnvelope();
    const info = manager.wrap({ response: body, ttlSeconds: 60, creationPath: 'secret/app' });
    // What the pipeline does for a limited-use client token before running the handler.
    const record = tokens.lookup(info.token);
    expect(tokens.consumeUse(info.token)).toEqual({ allowed: true, exhausted: true });
    tokens.revokeTree(info.accessor);
    const caller = { accessor: info.accessor, policies: record?.entry.policies ?? [] };
    expect(manager.unwrapAsCaller(caller)).toEqual(body);
    expectInvalid(() => manager.unwrapAsCaller(caller));
  });

  it('refuses callers that are not wrapping tokens', () => {
    const { manager } = setup();
    const info = manager.wrap({ response: kvEnvelope(), ttlSeconds: 60, creationPath: 'secret/app' });
    expectInvalid(() => manager.unwrapAsCaller({ accessor: info.accessor, policies: ['default'] }));
    expectInvalid(() => manager.unwrapAsCaller({ accessor: info.accessor, policies: ['response-wrapping', 'default'] }));
    expectInvalid(() => manager.unwrapAsCaller({ accessor: 'someOtherAccessor', policies: ['response-wrapping'] }));
    // The refused attempts consumed nothing.
    expect(manager.unwrap(info.token)).toEqual(kvEnvelope());
  });

  it('rewraps by accessor', () => {
    const { manager } = setup();
    const info = manager.wrap({ response: kvEnvelope(), ttlSeconds: 60, creationPath: 'secret/app' });
    const next = manager.rewrapAsCaller({ accessor: info.accessor, policies: ['response-wrapping'] });
    expectInvalid(() => manager.unwrap(info.token));
    expect(manager.unwrap(next.token)).toEqual(kvEnvelope());
  });
});

describe('lookup and rewrap', () => {
  it('lookup does not consume the token', () => {
    const { manager, clock, tokens } = setup();
    const info = manager.wrap({ response: kvEnvelope(), ttlSeconds: 120, creationPath: 'secret/app' });
    clock.advanceSeconds(10);
    const expected = { creation_path: 'secret/app', creation_time: '2026-01-01T00:00:00Z', creation_ttl: 120 };
    expect(manager.lookup(info.token)).toEqual(expected);
    expect(manager.lookup(info.token)).toEqual(expected);
    expect(tokens.lookup(info.token)?.usesRemaining).toBe(1);
    expect(manager.unwrap(info.token)).toEqual(kvEnvelope());
  });

  it('rewrap moves the response to a new token with the original creation TTL and path; the old token is dead', () => {
    const { manager, clock, tokens } = setup();
    const info = manager.wrap({ response: kvEnvelope(), ttlSeconds: 300, creationPath: 'secret/app' });
    clock.advanceSeconds(200);
    const next = manager.rewrap(info.token);
    expect(next.token).not.toBe(info.token);
    expect(next.accessor).not.toBe(info.accessor);
    expect(next).toMatchObject({ ttl: 300, creation_path: 'secret/app', creation_time: '2026-01-01T00:03:20Z' });
    expect(tokens.lookup(info.token)).toBeUndefined();
    expectInvalid(() => manager.unwrap(info.token));
    expectInvalid(() => manager.rewrap(info.token));
    // The TTL restarts from the rewrap: valid past the original expiry.
    clock.advanceSeconds(250);
    expect(manager.lookup(next.token)).toEqual({ creation_path: 'secret/app', creation_time: '2026-01-01T00:03:20Z', creation_ttl: 300 });
    expect(manager.unwrap(next.token)).toEqual(kvEnvelope());
  });

  it('rewrap keeps wrapped_accessor', () => {
    const { manager } = setup();
    const response = { ...kvEnvelope(), auth: { accessor: 'innerAccessor' } };
    const info = manager.wrap({ response, ttlSeconds: 60, creationPath: 'auth/approle/login' });
    expect(manager.rewrap(info.token).wrapped_accessor).toBe('innerAccessor');
  });
});

describe('tidy', () => {
  it('deletes responses whose token expired or was revoked, keeps live ones', async () => {
    const { manager, clock, tokens, storage } = setup();
    const short = manager.wrap({ response: kvEnvelope(), ttlSeconds: 10, creationPath: 'a' });
    const revoked = manager.wrap({ response: kvEnvelope(), ttlSeconds: 100, creationPath: 'b' });
    const live = manager.wrap({ response: kvEnvelope(), ttlSeconds: 100, creationPath: 'c' });
    tokens.revokeTree(revoked.accessor);
    clock.advanceSeconds(10);
    expect(await manager.tidy()).toBe(2);
    expect(storage.get(short.accessor)).toBeUndefined();
    expect(storage.get(revoked.accessor)).toBeUndefined();
    expect(tokens.lookupByAccessor(short.accessor)).toBeUndefined();
    expect(manager.unwrap(live.token)).toEqual(kvEnvelope());
    expect(await manager.tidy()).toBe(0);
  });
});

describe('at rest', () => {
  it('stores neither the wrapped response nor the wrapping token in plaintext', () => {
    const { manager, store } = setup();
    const planted = 'planted-secret-7f3a9c1e';
    const info = manager.wrap({ response: kvEnvelope(planted), ttlSeconds: 300, creationPath: 'secret/app' });
    const rows = store.db.prepare('SELECT path, value FROM entries').all() as { path: string; value: Buffer }[];
    expect(rows.some((r) => r.path === `core/wrapping/${info.accessor}`)).toBe(true);
    for (const row of rows) {
      const raw = Buffer.from(row.value).toString('latin1');
      expect(raw).not.toContain(planted);
      expect(raw).not.toContain(info.token);
    }
    const tokenRows = store.db.prepare('SELECT * FROM tokens').all() as Record<string, unknown>[];
    for (const row of tokenRows) {
      for (const value of Object.values(row)) {
        const text = Buffer.isBuffer(value) ? value.toString('latin1') : String(value);
        expect(text).not.toContain(planted);
        expect(text).not.toContain(info.token);
      }
    }
    // The record is bound to its location: moved under another accessor it does not decrypt.
    const row = rows.find((r) => r.path === `core/wrapping/${info.accessor}`) as { value: Buffer };
    store.db.prepare('INSERT INTO entries (path, value) VALUES (?, ?)').run('core/wrapping/movedAccessor', row.value);
    expect(() => store.view('core/wrapping/').get('movedAccessor')).toThrow();
  });
});

describe('parseWrapTtl', () => {
  it('accepts seconds and Vault durations', () => {
    expect(parseWrapTtl('60')).toBe(60);
    expect(parseWrapTtl(' 60s ')).toBe(60);
    expect(parseWrapTtl('5m')).toBe(300);
    expect(parseWrapTtl('1h30m')).toBe(5400);
    expect(parseWrapTtl('768h')).toBe(MAX_WRAP_TTL_SECONDS);
  });

  it('fails closed on anything else with a 400', () => {
    for (const header of ['', 'abc', '-5', '-5m', '0', '0s', '500ms', '769h', '99999999999999999999', '5 m', '1e3', 'x'.repeat(100)]) {
      const error = thrown(() => parseWrapTtl(header));
      expect(error.statusCode).toBe(400);
    }
    expect(thrown(() => parseWrapTtl('-5')).message).toBe('requested wrap ttl cannot be negative');
  });
});
