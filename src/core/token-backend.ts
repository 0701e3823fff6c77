// The `auth/token/` backend: create, look up, renew and revoke tokens with Vault's fields and rules.
// Built into the core because it works on the token store itself.
import { z } from 'zod';
import { BadRequestError, NotFoundError, PermissionDeniedError } from '../errors';
import type { Clock } from '../util/clock';
import { merged } from '../util/objects';
import { formatRfc3339 } from '../util/time';
import { bool, durationSeconds, int, str, policyList, stringList, stringMap } from './fields';
import type { Backend, BackendRequest, BackendResponse, PathDefinition, RequestIdentity } from './framework';
import { requestActor } from './governance/events';
import { normalisePolicyNames } from './policy/policy-store';
import type { StorageView } from './storage-view';
import type { TokenEntry, TokenRecord, TokenStore } from './tokens';

/** System limits applied to tokens without their own. */
export interface TokenLimits {
  defaultTtlSeconds: number;
  maxTtlSeconds: number;
}

/** A token role (auth/token/roles/:name). */
interface TokenRole {
  name: string;
  allowedPolicies: string[];
  disallowedPolicies: string[];
  orphan: boolean;
  renewable: boolean;
  pathSuffix: string;
  explicitMaxTtlSeconds: number;
  periodSeconds: number;
  noDefaultPolicy: boolean;
  /** The accountable owner of tokens created through this role (Leasehold governance). */
  owner?: string;
  numUses: number;
  boundCidrs: string[];
  ttlSeconds: number;
  maxTtlSeconds: number;
}

/** Deps of the token backend. `hasSudo` asks the ACL whether the caller holds sudo on a path. */
export interface TokenBackendDeps {
  tokens: TokenStore;
  clock: Clock;
  limits: () => TokenLimits;
  hasSudo: (identity: RequestIdentity, path: string) => boolean;
  /** Asks the issuing auth method whether a login token may still be renewed (its role may be gone). */
  beforeRenew: (entry: TokenEntry) => Promise<{ maxTtlSeconds?: number } | undefined>;
  /** The identity (entity and group) policies of a token's entity, shown in lookups. */
  identityPolicies?: (entityId: string) => string[];
  /** This mount's accessor, recorded (indexed) on the tokens it creates. */
  mountAccessor?: () => string | undefined;
}

const createFields = z.object({
  id: str(256).optional().describe('Custom token value; root only.'),
  role_name: str(128).optional(),
  policies: policyList().optional().describe('Policies for the token; a subset of the parent\'s unless created through a role.'),
  meta: stringMap().optional(),
  no_parent: bool().optional(),
  no_default_policy: bool().optional(),
  renewable: bool().optional(),
  ttl: durationSeconds().optional().describe('Initial TTL in seconds or as a duration.'),
  lease: durationSeconds().optional().describe('Deprecated alias of ttl.'),
  type: z.enum(['service', 'batch', 'default', '']).optional(),
  explicit_max_ttl: durationSeconds().optional(),
  display_name: str(256).optional(),
  num_uses: int(0, 1_000_000).optional(),
  period: durationSeconds().optional(),
  entity_alias: str(256).optional(),
  owner: str(256).optional().describe('Accountable owner recorded with the token (Leasehold governance).'),
});

const roleFields = z.object({
  role_name: str(128),
  owner: str(256).optional().describe('Accountable owner (person or team) of tokens created through this role.'),
  allowed_policies: policyList().optional(),
  disallowed_policies: policyList().optional(),
  orphan: bool().optional(),
  renewable: bool().optional(),
  path_suffix: z.string().max(128).regex(/^[A-Za-z0-9_.-]*$/).optional(),
  explicit_max_ttl: durationSeconds().optional(),
  token_explicit_max_ttl: durationSeconds().optional(),
  period: durationSeconds().optional(),
  token_period: durationSeconds().optional(),
  token_no_default_policy: bool().optional(),
  token_num_uses: int(0, 1_000_000).optional(),
  bound_cidrs: stringList().optional(),
  token_bound_cidrs: stringList().optional(),
  token_ttl: durationSeconds().optional(),
  token_max_ttl: durationSeconds().optional(),
  token_type: z.enum(['service', 'default', 'default-service', 'batch', 'default-batch']).optional(),
  allowed_entity_aliases: stringList().optional(),
});

function sanitiseDisplayName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.@:/-]/g, '-').slice(0, 128);
}

/** Vault's `auth` block for a newly created or renewed token. */
export function authBlock(token: string | undefined, record: TokenRecord, nowMs: number, identityPolicies?: string[]): Record<string, unknown> {
  const e = record.entry;
  const identity = identityPolicies && identityPolicies.length > 0 ? identityPolicies : undefined;
  return {
    client_token: token ?? '',
    accessor: e.accessor,
    policies: identity ? [...new Set([...e.policies, ...identity])] : e.policies,
    token_policies: e.policies,
    identity_policies: identity ?? null,
    metadata: Object.keys(e.meta).length > 0 ? e.meta : null,
    lease_duration: record.expireAtMs === null ? 0 : Math.max(0, Math.round((record.expireAtMs - nowMs) / 1000)),
    renewable: e.renewable,
    entity_id: e.entityId ?? '',
    token_type: 'service',
    orphan: e.orphan,
    mfa_requirement: null,
    num_uses: e.numUses,
  };
}

/** Vault's lookup data for a token. `id` is only known when the caller supplied the token. */
export function lookupData(record: TokenRecord, nowMs: number, token?: string, identityPolicies?: string[]): Record<string, unknown> {
  const e = record.entry;
  return {
    accessor: e.accessor,
    creation_time: Math.floor(e.createdAtMs / 1000),
    creation_ttl: e.ttlSeconds,
    display_name: e.displayName,
    entity_id: e.entityId ?? '',
    expire_time: record.expireAtMs === null ? null : formatRfc3339(record.expireAtMs),
    explicit_max_ttl: e.explicitMaxTtlSeconds,
    id: token ?? '',
    issue_time: formatRfc3339(e.createdAtMs),
    ...(e.lastRenewedAtMs ? { last_renewal: formatRfc3339(e.lastRenewedAtMs), last_renewal_time: Math.floor(e.lastRenewedAtMs / 1000) } : {}),
    meta: Object.keys(e.meta).length > 0 ? e.meta : null,
    num_uses: record.usesRemaining ?? 0,
    orphan: e.orphan,
    path: e.role ? `auth/token/create/${e.role}` : e.authPath === 'auth/token/' ? 'auth/token/create' : `${e.authPath}login`,
    policies: e.policies,
    renewable: e.renewable,
    ttl: record.expireAtMs === null ? 0 : Math.max(0, Math.round((record.expireAtMs - nowMs) / 1000)),
    type: 'service',
    ...(e.periodSeconds ? { period: e.periodSeconds } : {}),
    ...(e.owner ? { owner: e.owner } : {}),
    // Leasehold: the reason its login gave, which applies to its requests.
    ...(typeof e.internalData?.justification === 'string' ? { justification: e.internalData.justification } : {}),
    ...(identityPolicies && identityPolicies.length > 0 ? { identity_policies: identityPolicies } : {}),
    ...(e.boundCidrs && e.boundCidrs.length > 0 ? { bound_cidrs: e.boundCidrs } : {}),
  };
}

/**
 * Renews a token: the new TTL is `increment` (or its original TTL, or its period) from now,
 * never past its explicit max TTL or the system max measured from creation.
 */
export function renewToken(tokens: TokenStore, record: TokenRecord, incrementSeconds: number | undefined, nowMs: number, limits: TokenLimits, roleMaxTtlSeconds?: number): TokenRecord {
  const e = record.entry;
  if (record.expireAtMs === null) return record;
  if (!e.renewable) throw new BadRequestError('token is not renewable');
  let ttlSeconds = e.periodSeconds > 0 ? e.periodSeconds : incrementSeconds && incrementSeconds > 0 ? incrementSeconds : e.ttlSeconds;
  if (e.periodSeconds > 0 && incrementSeconds && incrementSeconds > 0) ttlSeconds = Math.min(incrementSeconds, e.periodSeconds);
  let expireAtMs = nowMs + ttlSeconds * 1000;
  const caps: number[] = [];
  if (e.explicitMaxTtlSeconds > 0) caps.push(e.createdAtMs + e.explicitMaxTtlSeconds * 1000);
  if (e.periodSeconds === 0) caps.push(e.createdAtMs + limits.maxTtlSeconds * 1000);
  if (roleMaxTtlSeconds && e.periodSeconds === 0) caps.push(e.createdAtMs + roleMaxTtlSeconds * 1000);
  for (const cap of caps) expireAtMs = Math.min(expireAtMs, cap);
  if (expireAtMs <= nowMs) throw new BadRequestError('token has reached its maximum TTL and cannot be renewed');
  const entry: TokenEntry = merged(e, { lastRenewedAtMs: nowMs } satisfies Partial<TokenEntry>);
  tokens.setExpiry(entry, expireAtMs);
  return { ...record, entry, expireAtMs };
}

/** The token backend over a token store. */
export function tokenBackend(deps: TokenBackendDeps, storage: StorageView): Backend {
  const { tokens, clock } = deps;
  const now = () => clock.nowMs();

  const callerRecord = (req: BackendRequest): TokenRecord => {
    const accessor = req.identity?.accessor;
    const record = accessor ? tokens.lookupByAccessor(accessor) : undefined;
    if (!record) throw new PermissionDeniedError();
    return record;
  };

  const readRole = (name: string) => storage.getJSON<TokenRole>(`roles/${name}`);
  const idPolicies = (record: TokenRecord) => (record.entry.entityId && deps.identityPolicies ? deps.identityPolicies(record.entry.entityId) : undefined);

  /** The `token` body field, required. */
  const bodyToken = (req: BackendRequest): string => {
    const token = req.fields.token as string | undefined;
    if (!token) throw new BadRequestError('missing field "token"');
    return token;
  };

  const renew = async (record: TokenRecord, incrementSeconds: number | undefined): Promise<TokenRecord> => {
    const limits = await deps.beforeRenew(record.entry);
    // A token role's current max TTL applies on every renewal, as Vault does.
    const role = record.entry.role ? readRole(record.entry.role) : undefined;
    const caps = [limits?.maxTtlSeconds ?? 0, role?.maxTtlSeconds ?? 0].filter((n) => n > 0);
    return renewToken(tokens, record, incrementSeconds, now(), deps.limits(), caps.length > 0 ? Math.min(...caps) : undefined);
  };

  const createToken = (req: BackendRequest, mode: 'create' | 'orphan' | 'role'): BackendResponse => {
    const f = req.fields as z.infer<typeof createFields>;
    const parent = callerRecord(req);
    const parentIsRoot = parent.entry.policies.includes('root');
    const identity = req.identity as RequestIdentity;
    if (f.type === 'batch') throw new BadRequestError('batch tokens are not supported; use type "service"');
    if (f.id !== undefined && !parentIsRoot) throw new BadRequestError('root or sudo privileges required to specify token id');

    let role: TokenRole | undefined;
    if (mode === 'role') {
      role = readRole(String(f.role_name));
      if (!role) throw new BadRequestError(`unknown role ${String(f.role_name).slice(0, 128)}`);
    }

    const limits = deps.limits();
    let policies = f.policies !== undefined ? normalisePolicyNames(f.policies) : undefined;
    const noDefault = f.no_default_policy ?? role?.noDefaultPolicy ?? false;

    if (role) {
      if (policies === undefined) policies = role.allowedPolicies.length > 0 ? [...role.allowedPolicies] : parent.entry.policies.filter((p) => p !== 'root');
      const disallowed = policies.filter((p) => role.disallowedPolicies.includes(p));
      if (disallowed.length > 0) throw new BadRequestError(`token policies (${disallowed.join(', ')}) are disallowed by the role`);
      if (role.allowedPolicies.length > 0) {
        const extra = policies.filter((p) => p !== 'default' && !role.allowedPolicies.includes(p));
        if (extra.length > 0) throw new BadRequestError(`token policies (${extra.join(', ')}) must be a subset of the role's allowed policies`);
      } else if (!parentIsRoot) {
        const extra = policies.filter((p) => p !== 'default' && !parent.entry.policies.includes(p));
        if (extra.length > 0) throw new BadRequestError('child policies must be subset of parent');
      }
      if (policies.includes('root') && !parentIsRoot) throw new BadRequestError('root policy can only be granted by a root token');
    } else {
      if (policies === undefined) policies = [...parent.entry.policies];
      if (!parentIsRoot) {
        const extra = policies.filter((p) => p !== 'default' && !parent.entry.policies.includes(p));
        if (extra.length > 0) throw new BadRequestError('child policies must be subset of parent');
      }
    }
    if (policies.includes('response-wrapping')) throw new BadRequestError('the response-wrapping policy cannot be assigned');
    if (!noDefault && !policies.includes('root') && !policies.includes('default')) policies.push('default');
    if (noDefault) policies = policies.filter((p) => p !== 'default');
    if (policies.length === 0) throw new BadRequestError('token must have at least one policy');
    const isRootToken = policies.includes('root');

    let orphan = mode === 'orphan' || (role?.orphan ?? false);
    if (f.no_parent) {
      if (!parentIsRoot && !deps.hasSudo(identity, 'auth/token/create')) throw new BadRequestError('root or sudo privileges required to create orphan token');
      orphan = true;
    }

    // A requested period always needs root or sudo, role or not (a periodic token escapes every max TTL).
    if (f.period && !parentIsRoot && !deps.hasSudo(identity, 'auth/token/create')) {
      throw new BadRequestError('root or sudo privileges required to create periodic token');
    }
    const periodCandidates = [role?.periodSeconds ?? 0, f.period ?? 0].filter((p) => p > 0);
    const periodSeconds = periodCandidates.length > 0 ? Math.min(...periodCandidates) : 0;
    let explicitMaxTtlSeconds = f.explicit_max_ttl ?? 0;
    if (role?.explicitMaxTtlSeconds) explicitMaxTtlSeconds = explicitMaxTtlSeconds ? Math.min(explicitMaxTtlSeconds, role.explicitMaxTtlSeconds) : role.explicitMaxTtlSeconds;

    const requestedTtl = f.ttl ?? f.lease ?? role?.ttlSeconds ?? 0;
    let ttlSeconds: number;
    if (periodSeconds > 0) ttlSeconds = periodSeconds;
    else if (requestedTtl > 0) ttlSeconds = requestedTtl;
    else if (isRootToken && parentIsRoot) ttlSeconds = 0; // Only a root token may live without expiry.
    else ttlSeconds = limits.defaultTtlSeconds;
    if (ttlSeconds > 0 && periodSeconds === 0) ttlSeconds = Math.min(ttlSeconds, role?.maxTtlSeconds || limits.maxTtlSeconds);
    if (explicitMaxTtlSeconds > 0) ttlSeconds = ttlSeconds === 0 ? explicitMaxTtlSeconds : Math.min(ttlSeconds, explicitMaxTtlSeconds);
    // A non-root parent's child never outlives the parent, as in Vault.
    if (!orphan && parent.expireAtMs !== null) {
      const parentRemaining = Math.floor((parent.expireAtMs - now()) / 1000);
      if (ttlSeconds === 0 || ttlSeconds > parentRemaining) ttlSeconds = Math.max(1, parentRemaining);
    }

    const numUses = f.num_uses ?? role?.numUses ?? 0;
    const baseName = f.display_name ? `token-${sanitiseDisplayName(f.display_name)}` : 'token';
    const { token, record } = tokens.create(
      {
        policies,
        meta: f.meta ?? {},
        displayName: baseName,
        authPath: 'auth/token/',
        parentAccessor: orphan ? null : parent.entry.accessor,
        ttlSeconds,
        explicitMaxTtlSeconds,
        periodSeconds,
        numUses,
        // A role that says "not renewable" cannot be overridden by the request.
        renewable: (f.renewable ?? true) && (role?.renewable ?? true),
        orphan,
        type: 'service',
        role: role?.name,
        // The role's owner is the accountable one; a child token keeps its parent's holder.
        owner: role?.owner ?? f.owner ?? parent.entry.owner,
        entityId: parent.entry.entityId,
        // A child of a CI run's token is that run's too (orphans included): it ends with the run.
        runKey: parent.entry.runKey,
        mountAccessor: deps.mountAccessor?.(),
        boundCidrs: role?.boundCidrs.length ? role.boundCidrs : undefined,
      },
      f.id,
      requestActor(identity),
    );
    return { authBlock: authBlock(token, record, now()) };
  };

  const renewFields = z.object({ token: str(512).optional(), increment: durationSeconds().optional() });
  const tokenFields = z.object({ token: str(512).optional() });
  const accessorFields = z.object({ accessor: str(128).optional() });

  const paths: PathDefinition[] = [
    {
      pattern: 'create',
      description: 'Create a child token (or an orphan with no_parent, root or sudo only).',
      fields: createFields,
      operations: { update: (req) => createToken(req, 'create') },
    },
    {
      pattern: 'create-orphan',
      description: 'Create a token with no parent: it survives the revocation of its creator.',
      fields: createFields,
      operations: { update: (req) => createToken(req, 'orphan') },
    },
    {
      pattern: 'create/(?<role_name>[^/]+)',
      description: 'Create a token through a token role.',
      fields: createFields,
      operations: { update: (req) => createToken(req, 'role') },
    },
    {
      pattern: 'lookup-self',
      description: 'Look up the calling token.',
      operations: {
        read: (req) => ({ data: lookupData(callerRecord(req), now(), req.clientToken, idPolicies(callerRecord(req))) }),
        update: (req) => ({ data: lookupData(callerRecord(req), now(), req.clientToken, idPolicies(callerRecord(req))) }),
      },
    },
    {
      pattern: 'lookup',
      description: 'Look up a token given in the body.',
      fields: tokenFields,
      operations: {
        update: (req) => {
          const token = bodyToken(req);
          const record = tokens.lookup(token);
          if (!record) throw new BadRequestError('bad token');
          return { data: lookupData(record, now(), token, idPolicies(record)) };
        },
      },
    },
    {
      pattern: 'lookup-accessor',
      description: 'Look up a token by its accessor (the token itself is never returned).',
      fields: accessorFields,
      operations: {
        update: (req) => {
          const accessor = req.fields.accessor as string | undefined;
          if (!accessor) throw new BadRequestError('missing field "accessor"');
          const record = tokens.lookupByAccessor(accessor);
          if (!record) throw new BadRequestError('invalid accessor');
          return { data: lookupData(record, now(), undefined, idPolicies(record)) };
        },
      },
    },
    {
      pattern: 'renew-self',
      description: 'Renew the calling token.',
      fields: renewFields,
      operations: {
        update: async (req) => {
          const renewed = await renew(callerRecord(req), req.fields.increment as number | undefined);
          return { authBlock: authBlock(req.clientToken, renewed, now()) };
        },
      },
    },
    {
      pattern: 'renew',
      description: 'Renew a token given in the body.',
      fields: renewFields,
      operations: {
        update: async (req) => {
          const token = bodyToken(req);
          const record = tokens.lookup(token);
          if (!record) throw new BadRequestError('invalid token');
          const renewed = await renew(record, req.fields.increment as number | undefined);
          return { authBlock: authBlock(token, renewed, now()) };
        },
      },
    },
    {
      pattern: 'renew-accessor',
      description: 'Renew a token by its accessor.',
      fields: z.object({ accessor: str(128).optional(), increment: durationSeconds().optional() }),
      operations: {
        update: async (req) => {
          const record = tokens.lookupByAccessor(String(req.fields.accessor ?? ''));
          if (!record) throw new BadRequestError('invalid accessor');
          const renewed = await renew(record, req.fields.increment as number | undefined);
          return { authBlock: authBlock(undefined, renewed, now()) };
        },
      },
    },
    {
      pattern: 'revoke-self',
      description: 'Revoke the calling token, its children and their leases.',
      operations: {
        update: (req) => {
          tokens.revokeTree(callerRecord(req).entry.accessor, { actor: requestActor(req.identity) });
          return undefined;
        },
      },
    },
    {
      pattern: 'revoke',
      description: 'Revoke a token, its children and their leases.',
      fields: tokenFields,
      operations: {
        update: (req) => {
          const record = tokens.lookup(bodyToken(req));
          if (record) tokens.revokeTree(record.entry.accessor, { actor: requestActor(req.identity) });
          return undefined;
        },
      },
    },
    {
      pattern: 'revoke-orphan',
      description: 'Revoke a token but not its children, which become orphans. Root-protected.',
      sudo: true,
      fields: tokenFields,
      operations: {
        update: (req) => {
          const record = tokens.lookup(bodyToken(req));
          if (record) tokens.revokeOrphan(record.entry.accessor, { actor: requestActor(req.identity) });
          return undefined;
        },
      },
    },
    {
      pattern: 'revoke-accessor',
      description: 'Revoke the token with this accessor, its children and their leases.',
      fields: accessorFields,
      operations: {
        update: (req) => {
          const accessor = req.fields.accessor as string | undefined;
          if (!accessor) throw new BadRequestError('missing field "accessor"');
          if (!tokens.lookupByAccessor(accessor)) throw new BadRequestError('invalid accessor');
          tokens.revokeTree(accessor, { actor: requestActor(req.identity) });
          return undefined;
        },
      },
    },
    {
      pattern: 'accessors/?',
      description: 'List token accessors. Root-protected.',
      sudo: true,
      operations: { list: () => ({ data: { keys: tokens.listAccessors() } }) },
    },
    {
      pattern: 'tidy',
      description: 'Remove expired tokens and their leases from storage.',
      operations: {
        update: (req) => {
          let removed = 0;
          for (;;) {
            const batch = tokens.expiredAccessors(500);
            if (batch.length === 0) break;
            for (const accessor of batch) removed += tokens.revokeTree(accessor, { actor: requestActor(req.identity), expired: true }).length;
          }
          return { data: { removed }, warnings: ['Tidy operation successfully started. Any information from the operation will be printed to Vault\'s server logs.'] };
        },
      },
    },
    {
      pattern: 'roles/?',
      description: 'List token roles.',
      operations: {
        list: () => {
          const keys = storage.list('roles/');
          if (keys.length === 0) throw new NotFoundError();
          return { data: { keys } };
        },
      },
    },
    {
      pattern: 'roles/(?<role_name>[^/]+)',
      description: 'Create, read or delete a token role.',
      fields: roleFields,
      existenceCheck: (req) => readRole(String(req.fields.role_name)) !== undefined,
      operations: {
        read: (req) => {
          const role = readRole(String(req.fields.role_name));
          if (!role) throw new NotFoundError();
          return {
            data: {
              name: role.name,
              allowed_policies: role.allowedPolicies,
              disallowed_policies: role.disallowedPolicies,
              orphan: role.orphan,
              renewable: role.renewable,
              path_suffix: role.pathSuffix,
              explicit_max_ttl: role.explicitMaxTtlSeconds,
              token_explicit_max_ttl: role.explicitMaxTtlSeconds,
              period: role.periodSeconds,
              token_period: role.periodSeconds,
              token_no_default_policy: role.noDefaultPolicy,
              token_num_uses: role.numUses,
              token_bound_cidrs: role.boundCidrs,
              token_ttl: role.ttlSeconds,
              token_max_ttl: role.maxTtlSeconds,
              token_type: 'service',
              owner: role.owner ?? '',
            },
          };
        },
        create: (req) => writeRole(req),
        update: (req) => writeRole(req),
        delete: (req) => {
          storage.delete(`roles/${String(req.fields.role_name)}`);
          return undefined;
        },
      },
    },
  ];

  const writeRole = (req: BackendRequest): undefined => {
    const f = req.fields as z.infer<typeof roleFields>;
    if (f.token_type === 'batch' || f.token_type === 'default-batch') throw new BadRequestError('batch tokens are not supported; use token_type "service"');
    const existing = readRole(f.role_name);
    const role: TokenRole = {
      name: f.role_name,
      allowedPolicies: f.allowed_policies ? normalisePolicyNames(f.allowed_policies) : (existing?.allowedPolicies ?? []),
      disallowedPolicies: f.disallowed_policies ? normalisePolicyNames(f.disallowed_policies) : (existing?.disallowedPolicies ?? []),
      orphan: f.orphan ?? existing?.orphan ?? false,
      renewable: f.renewable ?? existing?.renewable ?? true,
      pathSuffix: f.path_suffix ?? existing?.pathSuffix ?? '',
      explicitMaxTtlSeconds: f.token_explicit_max_ttl ?? f.explicit_max_ttl ?? existing?.explicitMaxTtlSeconds ?? 0,
      periodSeconds: f.token_period ?? f.period ?? existing?.periodSeconds ?? 0,
      noDefaultPolicy: f.token_no_default_policy ?? existing?.noDefaultPolicy ?? false,
      numUses: f.token_num_uses ?? existing?.numUses ?? 0,
      boundCidrs: f.token_bound_cidrs ?? f.bound_cidrs ?? existing?.boundCidrs ?? [],
      ttlSeconds: f.token_ttl ?? existing?.ttlSeconds ?? 0,
      maxTtlSeconds: f.token_max_ttl ?? existing?.maxTtlSeconds ?? 0,
      owner: f.owner !== undefined ? f.owner || undefined : existing?.owner,
    };
    if (role.allowedPolicies.includes('root')) throw new BadRequestError('a token role cannot allow the root policy');
    storage.putJSON(`roles/${role.name}`, role);
    return undefined;
  };

  return { paths };
}
