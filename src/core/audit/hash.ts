// HMAC-SHA256 of audit values under a device's key, in Vault's `hmac-sha256:<hex>` form, and the
// deep-copying walk that replaces every string in request and response data with its HMAC.
import { createHmac } from 'node:crypto';
import { setOwn } from '../../util/objects';

/** Vault's identified-HMAC prefix: operators grep for it and compare against sys/audit-hash. */
export const HMAC_PREFIX = 'hmac-sha256:';

/** One audit HMAC, byte-compatible with Vault's salt.GetIdentifiedHMAC so existing log tooling works. */
export function hmacSha256(key: Uint8Array, value: string): string {
  return HMAC_PREFIX + createHmac('sha256', key).update(value, 'utf8').digest('hex');
}

/** Replaces one string with its HMAC; bound to a device key once, then called per value. */
export type StringHasher = (value: string) => string;

/**
 * Deep copy of `value` with every string replaced by `hash(string)`, so a secret never reaches a log
 * in plaintext. Numbers, booleans and null pass through; object keys are never hashed (as in Vault).
 */
export function hashStructure(value: unknown, hash: StringHasher): unknown {
  return copyHashed(value, hash, true);
}

/**
 * Hashes a request or response `data` map. A top-level key named in `nonHmacKeys` (the mount's
 * audit_non_hmac_request_keys / audit_non_hmac_response_keys) keeps the strings directly under it,
 * and in arrays under it, in plaintext; maps nested below it are still hashed, as in Vault's walker.
 */
export function hashData(data: Record<string, unknown>, hash: StringHasher, nonHmacKeys: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(data)) {
    setOwn(out, key, copyHashed(data[key], hash, !nonHmacKeys.includes(key)));
  }
  return out;
}

function copyHashed(value: unknown, hash: StringHasher, hashStrings: boolean): unknown {
  switch (typeof value) {
    case 'string':
      return hashStrings ? hash(value) : value;
    case 'number':
    case 'boolean':
    case 'undefined':
      return value;
    case 'bigint':
      // JSON cannot carry a bigint; a number is never hashed, so log its decimal text.
      return value.toString();
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) return value.map((item) => copyHashed(item, hash, hashStrings));
      if (value instanceof Date) {
        const text = Number.isNaN(value.getTime()) ? '' : value.toISOString();
        return hashStrings ? hash(text) : text;
      }
      if (value instanceof Uint8Array) {
        const text = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
        return hashStrings ? hash(text) : text;
      }
      const source = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      // Strings inside a nested map are keyed by that map's own keys, which are never exempt.
      for (const key of Object.keys(source)) setOwn(out, key, copyHashed(source[key], hash, true));
      return out;
    }
    default:
      // Functions and symbols have no JSON form.
      return undefined;
  }
}

/** How a device treats sensitive values: Vault's `log_raw` and `hmac_accessor` options. */
export interface HashingOptions {
  /** Log tokens, accessors and data in plaintext (Vault's `log_raw`). */
  logRaw: boolean;
  /** Hash token accessors too (Vault's `hmac_accessor`, default true). Ignored when `logRaw`. */
  hmacAccessor: boolean;
}

/**
 * A device's hashing policy bound to its key, built once per device so a request pays only for
 * the HMACs themselves. `destroy()` zeroes the key bytes on seal or disable.
 */
export class AuditHasher {
  /** Hashes one string under this device's key (also what sys/audit-hash answers). */
  readonly hmac: StringHasher;
  private memo = new WeakMap<object, unknown>();
  /**
   * The empty string's HMAC: the same for every entry under this key, and frequent (KV v2's
   * `deletion_time` of every live version). It reveals nothing a log line does not already show.
   */
  private emptyHmac: string | undefined;

  constructor(
    private readonly key: Uint8Array,
    readonly options: HashingOptions,
  ) {
    this.hmac = (value) => (value === '' ? (this.emptyHmac ??= hmacSha256(this.key, '')) : hmacSha256(this.key, value));
  }

  /** A client token or wrapping token: always hashed unless `log_raw`. Empty stays absent. */
  token(value: string | undefined): string | undefined {
    if (!value) return undefined;
    return this.options.logRaw ? value : this.hmac(value);
  }

  /** A token accessor: hashed unless `log_raw` or `hmac_accessor=false`. Empty stays absent. */
  accessor(value: string | undefined): string | undefined {
    if (!value) return undefined;
    return this.options.logRaw || !this.options.hmacAccessor ? value : this.hmac(value);
  }

  /** Request or response data: a hashed deep copy, or the data itself under `log_raw` (it is only serialised). */
  data(data: Record<string, unknown> | undefined, nonHmacKeys?: readonly string[]): Record<string, unknown> | undefined {
    if (!data) return undefined;
    return this.options.logRaw ? data : hashData(data, this.hmac, nonHmacKeys);
  }

  /**
   * `hash()`'s result for `record`, computed once per record while it lives. For values that belong
   * to one long-lived object, such as a cached token's hashed token and accessor.
   */
  memoised<T>(record: object, hash: () => T): T {
    const known = this.memo.get(record) as T | undefined;
    if (known !== undefined) return known;
    const value = hash();
    this.memo.set(record, value);
    return value;
  }

  /** Zeroes the key and forgets every memoised hash; the hasher must not be used afterwards. */
  destroy(): void {
    this.key.fill(0);
    this.memo = new WeakMap();
    this.emptyHmac = undefined;
  }
}
