// HMAC format and the hashing walk: every string value hashed, keys and non-strings untouched.
import { createHmac } from 'node:crypto';
import { AuditHasher, hashData, hashStructure, hmacSha256 } from '../../src/core/audit/hash';

const key = new Uint8Array(32).fill(7);
const expected = (value: string) => `hmac-sha256:${createHmac('sha256', Buffer.from(key)).update(value).digest('hex')}`;
const tag = (value: string) => `H(${value})`;

describe('audit hashing', () => {
  it('produces Vault-style identified HMACs', () => {
    expect(hmacSha256(key, 'hvs.secret')).toBe(expected('hvs.secret'));
    expect(hmacSha256(key, 'hvs.secret')).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
  });

  it('hashes every string in a deep copy and leaves numbers, booleans, null and keys alone', () => {
    const input = { a: 'x', n: 3, b: true, z: null, nested: { list: ['y', 4, { deep: 'z' }] } };
    const out = hashStructure(input, tag);
    expect(out).toEqual({ a: 'H(x)', n: 3, b: true, z: null, nested: { list: ['H(y)', 4, { deep: 'H(z)' }] } });
    expect(input.a).toBe('x');
    expect(input.nested.list[0]).toBe('y');
  });

  it('keeps a `__proto__` key as data, never as a prototype', () => {
    const input = JSON.parse('{"__proto__": {"polluted": "yes"}, "ok": "v"}') as Record<string, unknown>;
    const out = hashData(input, tag) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(out)).toBe('{"__proto__":{"polluted":"H(yes)"},"ok":"H(v)"}');
  });

  it('honours non-HMAC keys at the top level of data only', () => {
    const out = hashData({ plain: 'a', plainList: ['b', 'c'], nested: { plain: 'd' }, secret: 'e', deep: { x: 'f' } }, tag, ['plain', 'plainList', 'deep']);
    expect(out).toEqual({ plain: 'a', plainList: ['b', 'c'], nested: { plain: 'H(d)' }, secret: 'H(e)', deep: { x: 'H(f)' } });
  });

  it('hashes tokens always and accessors only with hmac_accessor, unless log_raw', () => {
    const hashed = new AuditHasher(new Uint8Array(key), { logRaw: false, hmacAccessor: true });
    expect(hashed.token('t')).toBe(expected('t'));
    expect(hashed.accessor('a')).toBe(expected('a'));
    expect(hashed.token('')).toBeUndefined();
    const plainAccessor = new AuditHasher(new Uint8Array(key), { logRaw: false, hmacAccessor: false });
    expect(plainAccessor.token('t')).toBe(expected('t'));
    expect(plainAccessor.accessor('a')).toBe('a');
    const raw = new AuditHasher(new Uint8Array(key), { logRaw: true, hmacAccessor: true });
    expect(raw.token('t')).toBe('t');
    expect(raw.accessor('a')).toBe('a');
    expect(raw.data({ s: 'v' })).toEqual({ s: 'v' });
    // audit-hash still hashes under log_raw.
    expect(raw.hmac('t')).toBe(expected('t'));
  });

  it('memoises a hash per record object, separately for each record, and forgets on destroy', () => {
    const hasher = new AuditHasher(new Uint8Array(key), { logRaw: false, hmacAccessor: true });
    const first = {};
    const second = {};
    let computed = 0;
    const compute = (value: string) => () => (computed++, hasher.token(value));
    expect(hasher.memoised(first, compute('hvs.one'))).toBe(expected('hvs.one'));
    expect(hasher.memoised(first, compute('hvs.one'))).toBe(expected('hvs.one'));
    expect(computed).toBe(1);
    expect(hasher.memoised(second, compute('hvs.two'))).toBe(expected('hvs.two'));
    expect(computed).toBe(2);
    hasher.destroy();
    hasher.memoised(first, () => ++computed);
    expect(computed).toBe(3);
  });

  it("hashes the empty string under each hasher's own key, every time it is asked", () => {
    const other = new Uint8Array(32).fill(8);
    const a = new AuditHasher(new Uint8Array(key), { logRaw: false, hmacAccessor: true });
    const b = new AuditHasher(new Uint8Array(other), { logRaw: false, hmacAccessor: true });
    for (let i = 0; i < 2; i++) {
      expect(a.hmac('')).toBe(expected(''));
      expect(b.hmac('')).toBe(hmacSha256(other, ''));
    }
    expect(a.hmac('')).not.toBe(b.hmac(''));
    expect(a.data({ deletion_time: '', note: 'x' })).toEqual({ deletion_time: expected(''), note: expected('x') });
  });

  it('zeroes its key on destroy', () => {
    const bytes = new Uint8Array(32).fill(9);
    new AuditHasher(bytes, { logRaw: false, hmacAccessor: true }).destroy();
    expect(bytes.every((b) => b === 0)).toBe(true);
  });
});
