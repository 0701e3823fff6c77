// Bounded zod field builders shared by every backend: each string has a maximum, each duration a unit.
// Vault's API is lenient about JSON types ("5" for 5, "true" for true); these accept what Vault accepts.
import { z } from 'zod';
import { parseDurationSeconds } from '../util/duration';

const MAX_STRING = 4096;

/** A bounded string. */
export const str = (max = MAX_STRING) => z.string().max(max);

/** A name used in a path (role, policy, mount): printable, no slashes or control characters. */
export const name = (max = 128) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]*$/, 'must be letters, digits, or ._@- and start with a letter or digit');

/** An integer that may arrive as a JSON number or a numeric string. */
export const int = (min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess((v) => (typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v), z.number().int().min(min).max(max));

/** A boolean that may arrive as `true`, `"true"`, `1` or `"1"`. */
export const bool = () =>
  z.preprocess((v) => {
    if (v === 'true' || v === '1' || v === 1) return true;
    if (v === 'false' || v === '0' || v === 0 || v === '') return false;
    return v;
  }, z.boolean());

/** A duration in seconds: a number of seconds or a string like "1h30m". */
export const durationSeconds = () =>
  z.preprocess((v) => {
    const seconds = parseDurationSeconds(v);
    return seconds === undefined ? v : seconds;
  }, z.number({ error: 'must be a duration such as 30s, 1h or 3600' }).int().min(0).max(100 * 365 * 86400));

/** A list of strings: a JSON array or a comma-separated string, as Vault's TypeCommaStringSlice. */
export const stringList = (maxItems = 256, maxItem = 512) =>
  z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '')
        : v,
    z.array(z.string().max(maxItem)).max(maxItems),
  );

/**
 * A list of policy names, trimmed and lower-cased here as every backend does, so the ACL's
 * parameter constraints see `["BROAD"]` and `[" Broad "]` as the `broad` the backend will store.
 */
export const policyList = (maxItems = 256, maxItem = 512) =>
  stringList(maxItems, maxItem).transform((names) => names.map((n) => n.trim().toLowerCase()).filter((n) => n !== ''));

/**
 * A flat string map (metadata, custom_metadata), as Vault's TypeKVPairs takes it: an object, a list of
 * "k=v" strings (what `vault write ... metadata=a=1 metadata=b=2` sends), or one "k=v" string. Each
 * pair splits on its first "=" only, so a value keeps its commas and "=" (`metadata=desc=a,b`).
 */
export const stringMap = (maxKeys = 64, maxKey = 128, maxValue = 512) =>
  z.preprocess(
    (v) => {
      const pairs = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(pairs) || !pairs.every((item) => typeof item === 'string' && item.indexOf('=') > 0)) return v;
      // Through entries, so "__proto__" is an ordinary key.
      return Object.fromEntries((pairs as string[]).map((item) => [item.slice(0, item.indexOf('=')), item.slice(item.indexOf('=') + 1)]));
    },
    z.record(z.string().max(maxKey), z.string().max(maxValue)).refine((m) => Object.keys(m).length <= maxKeys, `at most ${maxKeys} keys`),
  );

/** A duration in seconds that may be negative ("-1s" switches some features off, as in Vault). */
export const signedDurationSeconds = (maxAbsSeconds: number, message: string) =>
  z.preprocess(
    (v) => {
      if (typeof v === 'string' && v.trim().startsWith('-')) {
        const magnitude = parseDurationSeconds(v.trim().slice(1));
        return magnitude === undefined ? v : -magnitude;
      }
      if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
      const seconds = parseDurationSeconds(v);
      return seconds === undefined ? v : seconds;
    },
    z.number({ error: message }).int().min(-maxAbsSeconds).max(maxAbsSeconds),
  );
