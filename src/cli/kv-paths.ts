// Finds a KV path's mount and version (as Vault's CLI does) and builds the v1 or v2 API path.
import { ApiError, isRecord, sanitizePath, type VaultClient, type VaultResponse } from './client';

/** A KV path split into its mount ("secret/") and the part below it, with the engine version. */
export interface KvTarget {
  mountPath: string;
  relativePath: string;
  version: 1 | 2;
}

/** The sub-trees of a KV v2 mount: `secret/data/x`, `secret/metadata/x`, ... */
export type KvV2Prefix = 'data' | 'metadata' | 'delete' | 'undelete' | 'destroy';

/** Joins path parts with single slashes, dropping empty parts; a trailing slash on the last part is kept. */
export function joinPath(...parts: string[]): string {
  const kept = parts.filter((part) => part.replace(/\/+/g, '') !== '');
  const trailing = kept.length > 0 && (kept[kept.length - 1] as string).endsWith('/');
  const joined = kept.map((part) => part.replace(/^\/+|\/+$/g, '')).join('/');
  return trailing ? `${joined}/` : joined;
}

/**
 * Reads the answer of `GET sys/internal/ui/mounts/<path>`: `data.path` is the mount, and
 * `data.options.version` "2" means KV v2; anything else is v1, as in Vault's CLI.
 */
export function parseMountPreflight(response: VaultResponse | undefined): { mountPath: string; version: 1 | 2 } {
  const data = isRecord(response?.data) ? response.data : {};
  const mountPath = typeof data.path === 'string' ? data.path : '';
  const options = isRecord(data.options) ? data.options : {};
  const version = String(options.version ?? '') === '2' ? 2 : 1;
  return { mountPath: mountPath === '' || mountPath.endsWith('/') ? mountPath : `${mountPath}/`, version };
}

/** Splits `path` into the mount and what lies below it; a path outside the mount is kept whole. */
export function splitMountPath(path: string, mountPath: string): string {
  if (mountPath === '') return path;
  if (path === mountPath || path === mountPath.replace(/\/$/, '')) return '';
  return path.startsWith(mountPath) ? path.slice(mountPath.length) : path;
}

/** The API path of an operation: `<mount>/<rel>` on v1, `<mount>/<prefix>/<rel>` on v2. */
export function kvApiPath(target: KvTarget, prefix: KvV2Prefix): string {
  return target.version === 2 ? joinPath(target.mountPath, prefix, target.relativePath) : joinPath(target.mountPath, target.relativePath);
}

/**
 * Resolves a `kv` command's path. With `-mount`, the path is relative to that mount; without it
 * the mount is found by the server. A 404 from the preflight means "not a known mount" and is
 * treated as KV v1, as Vault's CLI does for old servers.
 */
export async function resolveKvTarget(client: VaultClient, path: string, mountFlag?: string): Promise<KvTarget> {
  const cleanPath = sanitizePath(path);
  const lookup = mountFlag !== undefined ? sanitizePath(mountFlag).replace(/\/*$/, '/') : cleanPath;
  let preflight: { mountPath: string; version: 1 | 2 };
  try {
    preflight = parseMountPreflight(await client.request('GET', `sys/internal/ui/mounts/${lookup}`, { noWrap: true }));
  } catch (error) {
    if (!(error instanceof ApiError) || error.statusCode !== 404) throw error;
    preflight = { mountPath: '', version: 1 };
  }
  if (mountFlag !== undefined) {
    return { mountPath: preflight.mountPath || lookup, relativePath: cleanPath, version: preflight.version };
  }
  return { mountPath: preflight.mountPath, relativePath: splitMountPath(cleanPath, preflight.mountPath), version: preflight.version };
}
