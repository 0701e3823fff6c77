import v8 from 'node:v8';
import { merged, setOwn } from '../../src/util/objects';

// V8's own test hooks, to see hidden classes: the property merged() exists for cannot be observed otherwise.
v8.setFlagsFromString('--allow-natives-syntax');
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
const optimiseOnNextCall = new Function('f', '%OptimizeFunctionOnNextCall(f)') as (f: unknown) => void;
const prepareForOptimisation = new Function('f', '%PrepareFunctionForOptimization(f)') as (f: unknown) => void;
/** Bit 4 of V8's optimisation status: the function runs optimised code. */
const isOptimised = new Function('f', 'return (%GetOptimizationStatus(f) & 16) !== 0') as (f: unknown) => boolean;
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

describe('merged', () => {
  it('gives what spread gives: keys of both in order, the second winning', () => {
    const base = { a: 1, b: 'two', c: undefined };
    const out = merged(base, { b: 'three', d: null });
    expect(out).toEqual({ a: 1, b: 'three', c: undefined, d: null });
    expect(Object.keys(out)).toEqual(['a', 'b', 'c', 'd']);
    expect(base).toEqual({ a: 1, b: 'two', c: undefined });
  });

  it('skips symbol keys, unlike spread', () => {
    const tag = Symbol('tag');
    expect(Object.getOwnPropertySymbols(merged({ [tag]: 1, a: 1 }, { b: 2 }))).toEqual([]);
  });

  it('copies an own __proto__ key as data, never as the prototype', () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as Record<string, unknown>;
    const out = merged({ y: 2 }, hostile) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out.polluted).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ polluted: true });
    expect(out.x).toBe(1);
  });

  it('keeps one hidden class for every object it builds at a site, once optimised', () => {
    const source = () => ({ requestId: 'r', operation: 'read', path: 'secret/data/app', port: 5555 });
    const build = () => merged(source(), { identity: { accessor: 'a' } });
    // The cliff is in optimised code only: optimise merged itself, as a hot request path would.
    prepareForOptimisation(merged);
    build();
    build();
    optimiseOnNextCall(merged);
    const first = build();
    const second = build();
    // Without this the test could pass on interpreted code, where spread shares classes too.
    expect(isOptimised(merged)).toBe(true);
    expect(haveSameMap(first, second)).toBe(true);
    expect(hasFastProperties(first)).toBe(true);
  });
});

describe('setOwn', () => {
  it('defines __proto__ as an own property and assigns any other key', () => {
    const target: Record<string, unknown> = {};
    setOwn(target, '__proto__', { evil: true });
    setOwn(target, 'k', 'v');
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
    expect(Object.keys(target)).toEqual(['__proto__', 'k']);
  });
});
