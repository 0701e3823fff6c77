// Vault's router (Go's ServeMux) answers a path with empty segments with `301 Moved Permanently`
// to the cleaned path, and clients follow it (vault-action sends `/v1//kv/data/app`). Only empty
// segments are cleaned this way: dot segments and encoded separators are still refused by
// canonicalPath, on the cleaned target, before anything is answered.
import { canonicalPath } from './request-parsing';

/** The target to redirect to when `rawTarget` has empty path segments under `/v1/`; undefined otherwise. Throws 400 as canonicalPath does when the cleaned path is still invalid. */
export function emptySegmentRedirect(rawTarget: string): string | undefined {
  const q = rawTarget.indexOf('?');
  const rawPath = q < 0 ? rawTarget : rawTarget.slice(0, q);
  const query = q < 0 ? '' : rawTarget.slice(q);
  if (!rawPath.startsWith('/v1/')) return undefined;
  const rest = rawPath.slice('/v1/'.length);
  if (!rest.startsWith('/') && !rest.includes('//')) return undefined;
  // Collapse runs of slashes and drop a leading one; a trailing slash is kept (it marks a list prefix).
  const cleaned = `/v1/${rest.replace(/\/{2,}/g, '/').replace(/^\//, '')}`;
  canonicalPath(cleaned + query);
  return cleaned + query;
}
