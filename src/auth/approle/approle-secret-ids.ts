// AppRole secret IDs: generate, register custom, list accessors, lookup/destroy by secret ID or accessor, and tidy.
import { randomUUID } from 'node:crypto';
import type { BackendContext, BackendRequest, BackendResponse, PathDefinition } from '../../core/framework';
import { BadRequestError, NotFoundError } from '../../errors';
import type { Clock } from '../../util/clock';
import { formatRfc3339Nano } from '../../util/time';
import { requireCidrSubset, validCidrs } from './approle-cidrs';
import {
  ROLE_NAME_PATTERN,
  accessorFields,
  customSecretIdFields,
  generateSecretIdFields,
  secretIdFields,
  type AccessorFields,
  type CustomSecretIdFields,
  type GenerateSecretIdFields,
  type RoleNameFields,
  type SecretIdFields,
} from './approle-fields';
import { requireRole } from './approle-roles';
import { ApproleStore, digestsEqual, type SecretIdEntry } from './approle-store';

/** Vault caps a secret ID's lifetime at the mount's maximum lease TTL (768h by default) when its TTL is longer. */
export const MAX_SECRET_ID_TTL_SECONDS = 768 * 3600;

const MAX_METADATA_KEYS = 64;
const MAX_METADATA_KEY_CHARS = 128;
const MAX_METADATA_VALUE_CHARS = 512;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** True once a secret ID's expiry time has come. */
export function secretIdExpired(entry: SecretIdEntry, nowMs: number): boolean {
  return entry.expireAtMs > 0 && nowMs >= entry.expireAtMs;
}

/**
 * The secret ID stored under `secretIdHmac` for a role, if it may still be used. An expired one, or one whose accessor
 * is missing (a half-written record), is removed and treated as absent. Must run inside a transaction.
 */
export function liveSecretId(store: ApproleStore, roleName: string, secretIdHmac: string, nowMs: number): SecretIdEntry | undefined {
  const entry = store.getSecretId(roleName, secretIdHmac);
  if (!entry || !digestsEqual(entry.secretIdHmac, secretIdHmac)) return undefined;
  const accessorTarget = store.secretIdHmacForAccessor(roleName, entry.accessor);
  if (accessorTarget === undefined || !digestsEqual(accessorTarget, secretIdHmac)) {
    store.deleteSecretId(roleName, secretIdHmac, undefined);
    return undefined;
  }
  if (secretIdExpired(entry, nowMs)) {
    store.deleteSecretId(roleName, secretIdHmac, entry.accessor);
    return undefined;
  }
  return entry;
}

function badMetadata(reason: string): never {
  throw new BadRequestError(`failed to parse metadata: ${reason}`);
}

/** Vault's "k1=v1,k2=v2" form of metadata. */
function parseKeyValuePairs(text: string): Record<string, unknown> {
  const pairs: [string, string][] = [];
  for (const part of text.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) badMetadata('expected a JSON object of strings or key=value pairs');
    pairs.push([part.slice(0, i).trim(), part.slice(i + 1).trim()]);
  }
  return Object.fromEntries(pairs);
}

/** Secret ID metadata as Vault's strutil.ParseArbitraryKeyValues takes it: a JSON object of strings (or key=value pairs). */
export function parseSecretIdMetadata(raw: string | Record<string, unknown> | undefined): Record<string, string> {
  if (raw === undefined) return {};
  let parsed: unknown = raw;
  if (typeof raw === 'string') {
    const text = raw.trim();
    if (text === '') return {};
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = parseKeyValuePairs(text);
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) badMetadata('expected a JSON object of strings');
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length > MAX_METADATA_KEYS) badMetadata(`at most ${MAX_METADATA_KEYS} keys are allowed`);
  const out: [string, string][] = [];
  for (const [key, value] of entries) {
    if (key === '' || key.length > MAX_METADATA_KEY_CHARS || FORBIDDEN_KEYS.has(key)) badMetadata(`invalid key "${key.slice(0, 32)}"`);
    if (typeof value !== 'string') badMetadata(`the value of "${key}" is not a string`);
    if (value.length > MAX_METADATA_VALUE_CHARS) badMetadata(`the value of "${key}" is longer than ${MAX_METADATA_VALUE_CHARS} characters`);
    out.push([key, value]);
  }
  return Object.fromEntries(out);
}

/** Go's time.Time JSON form (RFC 3339, trailing fractional zeros dropped); 0 is Go's zero time, as Vault shows "never". */
function goTime(ms: number): string {
  if (ms === 0) return '0001-01-01T00:00:00Z';
  return formatRfc3339Nano(ms);
}

/** A secret ID's properties in Vault's lookup shape (never the secret ID itself). */
function secretIdData(entry: SecretIdEntry): Record<string, unknown> {
  return {
    secret_id_accessor: entry.accessor,
    secret_id_num_uses: entry.numUses,
    secret_id_ttl: entry.ttlSeconds,
    creation_time: goTime(entry.createdAtMs),
    expiration_time: goTime(entry.expireAtMs),
    last_updated_time: goTime(entry.lastUpdatedAtMs),
    metadata: entry.metadata,
    cidr_list: entry.cidrList,
    token_bound_cidrs: entry.tokenBoundCidrs,
  };
}

/** Issues `secretId` for the role named in the request, within the role's limits; returns Vault's generate response. */
function issueSecretId(req: BackendRequest<GenerateSecretIdFields>, secretId: string, clock: Clock): BackendResponse {
  const f = req.fields;
  const store = new ApproleStore(req.storage);
  return store.transaction(() => {
    const role = requireRole(store, f.role_name);
    if (!role.bindSecretId) throw new BadRequestError('bind_secret_id is not set on the role');

    const cidrList = validCidrs(f.cidr_list ?? []);
    requireCidrSubset(cidrList, role.secretIdBoundCidrs, 'CIDR blocks on the secret ID');
    const tokenBoundCidrs = validCidrs(f.token_bound_cidrs ?? []);
    requireCidrSubset(tokenBoundCidrs, role.tokenBoundCidrs, 'token CIDR blocks on the secret ID');

    let numUses = role.secretIdNumUses;
    if (f.num_uses !== undefined) {
      if ((f.num_uses === 0 && role.secretIdNumUses > 0) || (role.secretIdNumUses > 0 && f.num_uses > role.secretIdNumUses)) {
        throw new BadRequestError("num_uses cannot be higher than the role's secret_id_num_uses");
      }
      numUses = f.num_uses;
    }
    let ttlSeconds = role.secretIdTtlSeconds;
    if (f.ttl !== undefined) {
      if ((f.ttl === 0 && role.secretIdTtlSeconds > 0) || (role.secretIdTtlSeconds > 0 && f.ttl > role.secretIdTtlSeconds)) {
        throw new BadRequestError("ttl cannot be longer than the role's secret_id_ttl");
      }
      ttlSeconds = f.ttl;
    }
    ttlSeconds = Math.min(ttlSeconds, MAX_SECRET_ID_TTL_SECONDS);
    const metadata = parseSecretIdMetadata(f.metadata);

    const secretIdHmac = store.hmac('secret_id', secretId);
    if (store.getSecretId(role.name, secretIdHmac)) throw new BadRequestError('SecretID is already registered');
    const nowMs = clock.nowMs();
    const entry: SecretIdEntry = {
      secretIdHmac,
      accessor: randomUUID(),
      numUses,
      ttlSeconds,
      createdAtMs: nowMs,
      expireAtMs: ttlSeconds > 0 ? nowMs + ttlSeconds * 1000 : 0,
      lastUpdatedAtMs: nowMs,
      metadata,
      cidrList,
      tokenBoundCidrs,
    };
    store.putSecretId(role.name, entry);
    return {
      data: { secret_id: secretId, secret_id_accessor: entry.accessor, secret_id_ttl: ttlSeconds, secret_id_num_uses: numUses },
    };
  });
}

function listSecretIds(req: BackendRequest<RoleNameFields>, clock: Clock): BackendResponse {
  const store = new ApproleStore(req.storage);
  const role = requireRole(store, req.fields.role_name);
  const nowMs = clock.nowMs();
  const keys: string[] = [];
  for (const secretIdHmac of store.listSecretIdHmacs(role.name)) {
    const entry = store.getSecretId(role.name, secretIdHmac);
    if (entry && !secretIdExpired(entry, nowMs)) keys.push(entry.accessor);
  }
  if (keys.length === 0) throw new NotFoundError();
  return { data: { keys: keys.sort() } };
}

/** The secret_id field, trimmed exactly as login trims it, so a registered value can always log in. */
function requiredSecretId(value: string | undefined): string {
  if (value === undefined || value.trim() === '') throw new BadRequestError('missing secret_id');
  return value.trim();
}

function requiredAccessor(value: string | undefined): string {
  if (value === undefined || value === '') throw new BadRequestError('missing secret_id_accessor');
  return value;
}

function accessorNotFound(accessor: string): NotFoundError {
  return new NotFoundError(`failed to find accessor entry for secret_id_accessor: "${accessor}"`);
}

function lookupSecretId(req: BackendRequest<SecretIdFields>, clock: Clock): BackendResponse | undefined {
  const secretId = requiredSecretId(req.fields.secret_id);
  const store = new ApproleStore(req.storage);
  return store.transaction(() => {
    const role = requireRole(store, req.fields.role_name);
    const entry = liveSecretId(store, role.name, store.hmac('secret_id', secretId), clock.nowMs());
    return entry ? { data: secretIdData(entry) } : undefined;
  });
}

function destroySecretId(req: BackendRequest<SecretIdFields>): undefined {
  const secretId = requiredSecretId(req.fields.secret_id);
  const store = new ApproleStore(req.storage);
  store.transaction(() => {
    const role = requireRole(store, req.fields.role_name);
    const secretIdHmac = store.hmac('secret_id', secretId);
    const entry = store.getSecretId(role.name, secretIdHmac);
    if (entry) store.deleteSecretId(role.name, secretIdHmac, entry.accessor);
  });
  return undefined;
}

function lookupByAccessor(req: BackendRequest<AccessorFields>, clock: Clock): BackendResponse | undefined {
  const accessor = requiredAccessor(req.fields.secret_id_accessor);
  const store = new ApproleStore(req.storage);
  return store.transaction(() => {
    const role = requireRole(store, req.fields.role_name);
    // Accessors are indexed under their role, so another role's accessor is simply not found here.
    const secretIdHmac = store.secretIdHmacForAccessor(role.name, accessor);
    if (secretIdHmac === undefined) throw accessorNotFound(accessor);
    const entry = liveSecretId(store, role.name, secretIdHmac, clock.nowMs());
    return entry ? { data: secretIdData(entry) } : undefined;
  });
}

function destroyByAccessor(req: BackendRequest<AccessorFields>): undefined {
  const accessor = requiredAccessor(req.fields.secret_id_accessor);
  const store = new ApproleStore(req.storage);
  store.transaction(() => {
    const role = requireRole(store, req.fields.role_name);
    const secretIdHmac = store.secretIdHmacForAccessor(role.name, accessor);
    if (secretIdHmac === undefined) throw accessorNotFound(accessor);
    store.deleteSecretId(role.name, secretIdHmac, accessor);
  });
  return undefined;
}

/** Removes expired secret IDs, records missing their accessor or secret ID, and leftovers of deleted roles. */
export function tidySecretIds(store: ApproleStore, nowMs: number): number {
  let removed = 0;
  const roles = store.listRoles();
  for (const roleName of roles) {
    removed += store.transaction(() => {
      let count = 0;
      for (const secretIdHmac of store.listSecretIdHmacs(roleName)) {
        const entry = store.getSecretId(roleName, secretIdHmac);
        if (!entry) continue;
        const target = store.secretIdHmacForAccessor(roleName, entry.accessor);
        const dangling = target === undefined || target !== secretIdHmac;
        if (dangling || secretIdExpired(entry, nowMs)) {
          store.deleteSecretId(roleName, secretIdHmac, dangling ? undefined : entry.accessor);
          count += 1;
        }
      }
      for (const accessor of store.listAccessors(roleName)) {
        const target = store.secretIdHmacForAccessor(roleName, accessor);
        if (target === undefined || !store.getSecretId(roleName, target)) {
          store.deleteAccessor(roleName, accessor);
          count += 1;
        }
      }
      return count;
    });
  }
  const live = new Set(roles);
  for (const roleName of store.rolesWithSecretIds()) if (!live.has(roleName)) removed += store.purgeSecretIds(roleName);
  return removed;
}

const roleByName = `role/(?<role_name>${ROLE_NAME_PATTERN})`;

/** The secret-ID paths; `ctx` supplies the clock (expiry) and the logger (tidy). */
export function secretIdPaths(ctx: Pick<BackendContext, 'clock' | 'logger'>): PathDefinition[] {
  const { clock } = ctx;
  return [
    {
      pattern: `${roleByName}/secret-id/lookup/?`,
      fields: secretIdFields,
      operations: { update: (req: BackendRequest<SecretIdFields>) => lookupSecretId(req, clock) },
      description: 'Reads the properties of a secret ID (never the secret ID itself).',
    },
    {
      pattern: `${roleByName}/secret-id/destroy/?`,
      fields: secretIdFields,
      operations: { update: destroySecretId, delete: destroySecretId },
      description: 'Destroys a secret ID.',
    },
    {
      pattern: `${roleByName}/secret-id-accessor/lookup/?`,
      fields: accessorFields,
      operations: { update: (req: BackendRequest<AccessorFields>) => lookupByAccessor(req, clock) },
      description: 'Reads the properties of a secret ID of this role by its accessor.',
    },
    {
      pattern: `${roleByName}/secret-id-accessor/destroy/?`,
      fields: accessorFields,
      operations: { update: destroyByAccessor, delete: destroyByAccessor },
      description: 'Destroys a secret ID of this role by its accessor.',
    },
    {
      pattern: `${roleByName}/secret-id/?`,
      fields: generateSecretIdFields,
      operations: {
        update: (req: BackendRequest<GenerateSecretIdFields>) => issueSecretId(req, randomUUID(), clock),
        list: (req: BackendRequest<RoleNameFields>) => listSecretIds(req, clock),
      },
      description: 'Generates a secret ID for the role, or lists the accessors of its secret IDs.',
    },
    {
      pattern: `${roleByName}/custom-secret-id`,
      fields: customSecretIdFields,
      operations: {
        update: (req: BackendRequest<CustomSecretIdFields>) => issueSecretId(req, requiredSecretId(req.fields.secret_id), clock),
      },
      description: 'Registers a secret ID of the caller\'s choosing for the role.',
    },
    {
      pattern: 'tidy/secret-id',
      operations: {
        update: (req: BackendRequest): BackendResponse => {
          const removed = tidySecretIds(new ApproleStore(req.storage), clock.nowMs());
          ctx.logger.info({ removed }, 'approle: tidied secret IDs');
          return { warnings: [`Tidy operation completed: ${removed} expired or dangling secret ID entries removed.`] };
        },
      },
      description: 'Removes expired secret IDs and dangling records.',
    },
  ];
}
