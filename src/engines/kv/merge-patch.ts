// JSON Merge Patch (RFC 7386), used by KV v2's PATCH on data/ and metadata/.
import { setOwn } from '../../util/objects';

/** True for a JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Applies `patch` to `target` per RFC 7386: objects merge recursively, `null` removes a key, anything else
 * (arrays included) replaces. Neither input is modified.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return patch;
  const result: Record<string, unknown> = {};
  if (isJsonObject(target)) for (const [k, v] of Object.entries(target)) setOwn(result, k, v);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else setOwn(result, k, mergePatch(Object.prototype.hasOwnProperty.call(result, k) ? result[k] : undefined, v));
  }
  return result;
}
