// The cubbyhole secrets engine: per-token private key/value storage, scoped to the caller's token accessor and destroyed with the token.
import { z } from 'zod';
import { str } from '../../core/fields';
import type { Backend, BackendRequest, BackendResponse, PathDefinition } from '../../core/framework';
import type { StorageView } from '../../core/storage-view';
import { BadRequestError, NotFoundError, PermissionDeniedError } from '../../errors';

/** Longest cubbyhole path we accept (relative to the mount); it becomes a storage key. */
export const MAX_CUBBYHOLE_PATH_CHARS = 1024;

/** Largest serialized secret a cubbyhole stores (the same 1 MiB bound as KV). */
export const MAX_CUBBYHOLE_SECRET_BYTES = 1024 * 1024;

/** Most top-level keys in one cubbyhole secret. */
export const MAX_CUBBYHOLE_SECRET_KEYS = 1024;

/** Accessors are base62 (TokenStore); a separator or dot could widen the prefix to another token's cubbyhole. */
const ACCESSOR_RE = /^[A-Za-z0-9]{1,128}$/;

const fields = z.object({
  path: str(MAX_CUBBYHOLE_PATH_CHARS).describe('Location of the secret, inside the calling token\'s own cubbyhole.'),
});

type CubbyholeFields = z.infer<typeof fields>;

/** The storage prefix of one token's cubbyhole; refuses anything that is not a plain accessor. */
function accessorPrefix(accessor: string): string {
  if (!ACCESSOR_RE.test(accessor)) throw new Error('cubbyhole: invalid token accessor');
  return `${accessor}/`;
}

/** The caller's own cubbyhole. Without an identity there is no cubbyhole to use. */
function callerCubbyhole(storage: StorageView, req: BackendRequest<CubbyholeFields>): StorageView {
  const accessor = req.identity?.accessor;
  if (!accessor || !ACCESSOR_RE.test(accessor)) throw new PermissionDeniedError();
  return storage.sub(accessorPrefix(accessor));
}

function requirePath(req: BackendRequest<CubbyholeFields>): string {
  const path = req.fields.path;
  if (path === '') throw new BadRequestError('missing path');
  return path;
}

/**
 * Builds the cubbyhole backend over the mount's storage. Every key is stored as `<accessor>/<path>`,
 * so no token (not even root) can read, list or overwrite another token's cubbyhole.
 */
export function cubbyholeBackend(storage: StorageView): Backend {
  const read = (req: BackendRequest<CubbyholeFields>): BackendResponse => {
    const data = callerCubbyhole(storage, req).getJSON<Record<string, unknown>>(requirePath(req));
    if (data === undefined) throw new NotFoundError();
    // Values in a cubbyhole live as long as the token: no TTL, lease_duration 0 (Vault's answer).
    return { data };
  };

  const write = (req: BackendRequest<CubbyholeFields>): undefined => {
    const own = callerCubbyhole(storage, req);
    const path = requirePath(req);
    // A key ending in "/" would be indistinguishable from a folder in LIST output.
    if (path.endsWith('/')) throw new BadRequestError('invalid value for field "path": a secret path must not end with "/"');
    const data = req.rawData;
    const keyCount = Object.keys(data).length;
    if (keyCount === 0) throw new BadRequestError('missing data fields');
    if (keyCount > MAX_CUBBYHOLE_SECRET_KEYS) throw new BadRequestError(`a secret has at most ${MAX_CUBBYHOLE_SECRET_KEYS} keys, got ${keyCount}`);
    const bytes = Buffer.byteLength(JSON.stringify(data), 'utf8');
    if (bytes > MAX_CUBBYHOLE_SECRET_BYTES) throw new BadRequestError(`secret is ${bytes} bytes, at most ${MAX_CUBBYHOLE_SECRET_BYTES} are allowed`);
    own.putJSON(path, data);
    return undefined;
  };

  const remove = (req: BackendRequest<CubbyholeFields>): undefined => {
    callerCubbyhole(storage, req).delete(requirePath(req));
    return undefined;
  };

  const list = (req: BackendRequest<CubbyholeFields>): BackendResponse => {
    const path = req.fields.path;
    const prefix = path === '' || path.endsWith('/') ? path : `${path}/`;
    const keys = callerCubbyhole(storage, req).list(prefix);
    if (keys.length === 0) throw new NotFoundError();
    return { data: { keys } };
  };

  const path: PathDefinition<CubbyholeFields> = {
    pattern: '(?<path>.*)',
    fields,
    acceptsAnyFields: true,
    operations: { read, create: write, update: write, delete: remove, list },
    existenceCheck: (req) => {
      const accessor = req.identity?.accessor;
      if (!accessor || !ACCESSOR_RE.test(accessor) || req.fields.path === '') return false;
      return storage.sub(accessorPrefix(accessor)).get(req.fields.path) !== undefined;
    },
    description: "Reads, writes, deletes and lists secrets in the calling token's private cubbyhole.",
  };

  return { paths: [path] };
}

/**
 * Destroys one token's cubbyhole. The core calls it when the token is revoked or expires, inside
 * the revoking transaction where possible, so a cubbyhole never outlives its token.
 */
export function purgeCubbyhole(storage: StorageView, accessor: string): void {
  // An empty or slash-bearing accessor would widen the prefix to other tokens' cubbyholes.
  const prefix = accessorPrefix(accessor);
  storage.transaction(() => {
    for (const key of storage.listRecursive(prefix)) storage.delete(key);
  });
}
