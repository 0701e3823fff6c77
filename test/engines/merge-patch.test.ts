// RFC 7386 merge patch as KV v2's PATCH applies it, including keys that must never reach a prototype.
import { mergePatch } from '../../src/engines/kv/merge-patch';

describe('mergePatch', () => {
  it('merges objects recursively, removes keys patched to null and replaces everything else', () => {
    const target = { a: 1, nested: { keep: true, drop: 'x' }, list: [1, 2] };
    expect(mergePatch(target, { nested: { drop: null, add: 2 }, list: [3], b: 'new' })).toEqual({ a: 1, nested: { keep: true, add: 2 }, list: [3], b: 'new' });
    expect(target).toEqual({ a: 1, nested: { keep: true, drop: 'x' }, list: [1, 2] });
  });

  it('keeps a __proto__ key from either side as data, never as the result prototype', () => {
    const target = JSON.parse('{"__proto__": {"fromTarget": true}}') as unknown;
    const patch = JSON.parse('{"__proto__": {"fromPatch": true}, "x": 1}') as unknown;
    const out = mergePatch(target, patch) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect((out as { fromTarget?: unknown; fromPatch?: unknown }).fromPatch).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ fromTarget: true, fromPatch: true });
    expect(out.x).toBe(1);
  });
});
