// KV secrets engine version 1: unversioned secrets stored as-is at their path (Vault's "passthrough" backend).
import { z } from 'zod';
import type { Backend, BackendContext, BackendRequest, BackendResponse, PathDefinition } from '../../core/framework';
import { BadRequestError, NotFoundError } from '../../errors';
import { parseDurationSeconds } from '../../util/duration';
import { MAX_SECRET_BYTES, MAX_SECRET_KEYS, secretPath } from './kv-fields';

/** Vault's system default lease TTL (768h), which KV v1 reports as lease_duration unless the secret has a `ttl`. */
export const KV_V1_DEFAULT_TTL_SECONDS = 768 * 3600;

const v1Fields = z.object({ path: secretPath() });

type V1Fields = z.infer<typeof v1Fields>;

/** The lease_duration a read reports: the secret's own `ttl` (or legacy `lease`) if it parses as a duration. */
function reportedTtlSeconds(data: Record<string, unknown>): number {
  const raw = 'ttl' in data ? data.ttl : 'lease' in data ? data.lease : undefined;
  if (raw === undefined) return KV_V1_DEFAULT_TTL_SECONDS;
  return parseDurationSeconds(raw) ?? KV_V1_DEFAULT_TTL_SECONDS;
}

function read(req: BackendRequest<V1Fields>): BackendResponse {
  const data = req.storage.getJSON<Record<string, unknown>>(req.fields.path);
  if (data === undefined) throw new NotFoundError();
  return { data, leaseDurationSeconds: reportedTtlSeconds(data) };
}

function write(req: BackendRequest<V1Fields>): undefined {
  const key = req.fields.path;
  if (key === '') throw new BadRequestError('missing path');
  // A key ending in "/" would be indistinguishable from a folder in LIST output.
  if (key.endsWith('/')) throw new BadRequestError('invalid value for field "path": a secret path must not end with "/"');
  const data = req.rawData;
  const keyCount = Object.keys(data).length;
  if (keyCount === 0) throw new BadRequestError('missing data fields');
  if (keyCount > MAX_SECRET_KEYS) throw new BadRequestError(`a secret has at most ${MAX_SECRET_KEYS} keys, got ${keyCount}`);
  const bytes = Buffer.byteLength(JSON.stringify(data), 'utf8');
  if (bytes > MAX_SECRET_BYTES) throw new BadRequestError(`secret is ${bytes} bytes, at most ${MAX_SECRET_BYTES} are allowed`);
  req.storage.putJSON(key, data);
  return undefined;
}

function remove(req: BackendRequest<V1Fields>): undefined {
  req.storage.delete(req.fields.path);
  return undefined;
}

function list(req: BackendRequest<V1Fields>): BackendResponse {
  const path = req.fields.path;
  const prefix = path === '' || path.endsWith('/') ? path : `${path}/`;
  const keys = req.storage.list(prefix);
  if (keys.length === 0) throw new NotFoundError();
  return { data: { keys } };
}

const v1Path: PathDefinition<V1Fields> = {
  pattern: '(?<path>.*)',
  fields: v1Fields,
  acceptsAnyFields: true,
  operations: { read, create: write, update: write, delete: remove, list },
  existenceCheck: (req) => req.storage.get(req.fields.path) !== undefined,
  description: 'Reads, writes, deletes and lists arbitrary secrets stored as-is.',
};

/** Builds a KV v1 backend: each secret is one JSON record at its own path in the mount's storage. */
export function kvV1Backend(_ctx: BackendContext): Backend {
  return { paths: [v1Path] };
}
