// Building per-request objects without V8's spread-then-extend cliff, and own-property writes that never touch a prototype.

/** Assigns an own property even for the key `__proto__`, which plain assignment would treat as a prototype. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * `{ ...base, ...extra }` for objects built on every request. On Node 20 (V8 11), once the code is
 * optimised, an object made by spread that then gets a key it did not copy (`{ ...a, newKey }`,
 * `{ ...a, ...b }`, or `{ ...a }` followed by `o.newKey = v`) is given a hidden class of its own every
 * time: 1-3 us per object, and every function that reads such objects turns megamorphic. Copying onto
 * a fresh literal shares hidden classes. Own enumerable string keys are copied (`__proto__` as an own
 * property, as spread does); unlike spread, symbol keys are not. Like any object built key by key,
 * one of ~20 keys or more comes out in V8's dictionary mode: for wide objects write a literal.
 * Write `extra` as `{ ... } satisfies Partial<Target>` so that a misspelt key fails to compile.
 */
export function merged<A extends object, B extends object>(base: A, extra: B): Omit<A, keyof B> & B {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(base)) setOwn(out, key, (base as Record<string, unknown>)[key]);
  for (const key of Object.keys(extra)) setOwn(out, key, (extra as Record<string, unknown>)[key]);
  return out as Omit<A, keyof B> & B;
}

/**
 * `T` with every key required but allowed to be undefined: `{ ... } satisfies Complete<T>` makes an
 * object literal list every key of `T`, optional ones included, so a key added to `T` later cannot be
 * silently left out where objects are written key by key for speed.
 */
export type Complete<T> = { [K in keyof Required<T>]: T[K] | undefined };
