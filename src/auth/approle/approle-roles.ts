// AppRole role management: `role/` LIST, `role/<name>` CRUD in Vault's shape, and `role/<name>/role-id`.
import { randomUUID } from 'node:crypto';
import type { BackendRequest, BackendResponse, PathDefinition } from '../../core/framework';
import { BadRequestError, NotFoundError } from '../../errors';
import { formatDurationGo } from '../../util/duration';
import { validCidrs } from './approle-cidrs';
import { ROLE_NAME_PATTERN, roleFields, roleIdFields, roleNameFields, type RoleFields, type RoleIdFields, type RoleNameFields } from './approle-fields';
import { ApproleStore, type RoleEntry } from './approle-store';

/** Vault's default system maximum lease TTL (768h): the longest token_period a role may set. */
export const MAX_TOKEN_PERIOD_SECONDS = 768 * 3600;

/** Role names are case-insensitive: Vault lower-cases them on creation and on every lookup. */
export function canonicalRoleName(name: string): string {
  return name.toLowerCase();
}

/** Loads a role named in a sub-path (secret-id, role-id, ...) or answers 404 naming it. */
export function requireRole(store: ApproleStore, name: string): RoleEntry {
  const role = store.getRole(canonicalRoleName(name));
  if (!role) throw new NotFoundError(`role "${canonicalRoleName(name)}" does not exist`);
  return role;
}

function newRole(name: string): RoleEntry {
  return {
    name,
    roleId: randomUUID(),
    bindSecretId: true,
    secretIdBoundCidrs: null,
    secretIdNumUses: 0,
    secretIdTtlSeconds: 0,
    localSecretIds: false,
    tokenPolicies: [],
    tokenTtlSeconds: 0,
    tokenMaxTtlSeconds: 0,
    tokenExplicitMaxTtlSeconds: 0,
    tokenPeriodSeconds: 0,
    tokenNoDefaultPolicy: false,
    tokenNumUses: 0,
    tokenType: 'default',
    tokenBoundCidrs: [],
    legacyPeriod: false,
  };
}

/** Vault's policyutil.ParsePolicies: trimmed, lower-cased, de-duplicated and sorted. `root` is refused up front. */
function parsePolicies(policies: string[]): string[] {
  const parsed = [...new Set(policies.map((p) => p.trim().toLowerCase()).filter((p) => p !== ''))].sort();
  if (parsed.includes('root')) throw new BadRequestError('invalid value for field "token_policies": auth methods cannot create root tokens');
  return parsed;
}

/** Accepts Vault's token_type values except batch ones: Leasehold issues service tokens only. */
function parseTokenType(value: string, warnings: string[]): RoleEntry['tokenType'] {
  switch (value) {
    case 'default':
    case 'service':
      return value;
    case 'default-service':
      warnings.push('default-service has no useful meaning; adjusting to service');
      return 'service';
    case 'batch':
    case 'default-batch':
      throw new BadRequestError('token_type "batch" is not supported: this vault issues service tokens only; use "service" or "default"');
    default:
      throw new BadRequestError(`invalid 'token_type' value "${value}"`);
  }
}

/** Applies a create or update to `role`, field by field: an absent field keeps its value (or the default on create). */
function applyRoleFields(role: RoleEntry, f: RoleFields, creating: boolean, warnings: string[]): void {
  if (f.token_type !== undefined) role.tokenType = parseTokenType(f.token_type, warnings);
  if (f.local_secret_ids !== undefined) {
    if (!creating) throw new BadRequestError('local_secret_ids can only be modified during role creation');
    role.localSecretIds = f.local_secret_ids;
  }
  if (f.role_id !== undefined) {
    if (f.role_id.trim() === '') throw new BadRequestError('invalid role_id supplied, or failed to generate a role_id');
    // Trimmed as login trims it, so a custom role_id can always log in.
    role.roleId = f.role_id.trim();
  }
  if (f.bind_secret_id !== undefined) role.bindSecretId = f.bind_secret_id;
  const secretIdCidrs = f.secret_id_bound_cidrs ?? f.bound_cidr_list;
  if (secretIdCidrs !== undefined) role.secretIdBoundCidrs = validCidrs(secretIdCidrs);
  if (f.secret_id_num_uses !== undefined) role.secretIdNumUses = f.secret_id_num_uses;
  if (f.secret_id_ttl !== undefined) role.secretIdTtlSeconds = f.secret_id_ttl;

  // Deprecated aliases, as Vault's tokenutil.UpgradeValue: the new name wins; the old one is remembered only if sent.
  const policies = f.token_policies ?? f.policies;
  if (policies !== undefined) role.tokenPolicies = parsePolicies(policies);
  const period = f.token_period ?? f.period;
  if (period !== undefined) {
    role.tokenPeriodSeconds = period;
    role.legacyPeriod = f.period !== undefined;
  }

  if (f.token_ttl !== undefined) role.tokenTtlSeconds = f.token_ttl;
  if (f.token_max_ttl !== undefined) role.tokenMaxTtlSeconds = f.token_max_ttl;
  if (f.token_explicit_max_ttl !== undefined) role.tokenExplicitMaxTtlSeconds = f.token_explicit_max_ttl;
  if (f.token_no_default_policy !== undefined) role.tokenNoDefaultPolicy = f.token_no_default_policy;
  if (f.token_num_uses !== undefined) role.tokenNumUses = f.token_num_uses;
  if (f.token_bound_cidrs !== undefined) role.tokenBoundCidrs = validCidrs(f.token_bound_cidrs);
  if (f.owner !== undefined) role.owner = f.owner === '' ? undefined : f.owner;
}

/** Vault's checks before a role is stored. */
function validateRole(role: RoleEntry): void {
  if (role.tokenMaxTtlSeconds > 0 && role.tokenTtlSeconds > role.tokenMaxTtlSeconds) {
    throw new BadRequestError("'token_ttl' cannot be greater than 'token_max_ttl'");
  }
  if (role.tokenPeriodSeconds > MAX_TOKEN_PERIOD_SECONDS) {
    throw new BadRequestError(
      `period of "${formatDurationGo(role.tokenPeriodSeconds)}" is greater than the backend's maximum lease TTL of "${formatDurationGo(MAX_TOKEN_PERIOD_SECONDS)}"`,
    );
  }
  // A role without any constraint would let anyone holding the role_id log in from anywhere.
  if (!role.bindSecretId && (role.secretIdBoundCidrs ?? []).length === 0 && role.tokenBoundCidrs.length === 0) {
    throw new BadRequestError('at least one constraint should be enabled on the role');
  }
}

function writeRole(req: BackendRequest<RoleFields>): BackendResponse | undefined {
  const store = new ApproleStore(req.storage);
  const name = canonicalRoleName(req.fields.role_name);
  return store.transaction(() => {
    const existing = store.getRole(name);
    const role: RoleEntry = existing ? { ...existing } : newRole(name);
    const warnings: string[] = [];
    applyRoleFields(role, req.fields, existing === undefined, warnings);
    validateRole(role);
    if (!store.putRole(role, existing?.roleId)) throw new BadRequestError('role_id already in use');
    return warnings.length > 0 ? { warnings } : undefined;
  });
}

/** A role in Vault's read shape: durations in seconds, tokenutil's token_* fields, and the deprecated `policies`. */
function roleData(role: RoleEntry): Record<string, unknown> {
  return {
    bind_secret_id: role.bindSecretId,
    secret_id_bound_cidrs: role.secretIdBoundCidrs,
    secret_id_num_uses: role.secretIdNumUses,
    secret_id_ttl: role.secretIdTtlSeconds,
    local_secret_ids: role.localSecretIds,
    token_bound_cidrs: role.tokenBoundCidrs,
    token_explicit_max_ttl: role.tokenExplicitMaxTtlSeconds,
    token_max_ttl: role.tokenMaxTtlSeconds,
    token_no_default_policy: role.tokenNoDefaultPolicy,
    token_num_uses: role.tokenNumUses,
    owner: role.owner ?? '',
    token_period: role.tokenPeriodSeconds,
    token_policies: role.tokenPolicies,
    token_ttl: role.tokenTtlSeconds,
    token_type: role.tokenType,
    // node-vault and older clients still read these names.
    policies: role.tokenPolicies,
    ...(role.legacyPeriod ? { period: role.tokenPeriodSeconds } : {}),
  };
}

function readRole(req: BackendRequest<RoleNameFields>): BackendResponse {
  const role = new ApproleStore(req.storage).getRole(canonicalRoleName(req.fields.role_name));
  if (!role) throw new NotFoundError();
  return { data: roleData(role) };
}

function deleteRole(req: BackendRequest<RoleNameFields>): undefined {
  const store = new ApproleStore(req.storage);
  const role = store.getRole(canonicalRoleName(req.fields.role_name));
  if (role) store.deleteRole(role);
  return undefined;
}

function listRoles(req: BackendRequest): BackendResponse {
  const keys = new ApproleStore(req.storage).listRoles();
  if (keys.length === 0) throw new NotFoundError();
  return { data: { keys } };
}

function readRoleId(req: BackendRequest<RoleIdFields>): BackendResponse {
  const role = new ApproleStore(req.storage).getRole(canonicalRoleName(req.fields.role_name));
  if (!role) throw new NotFoundError();
  return { data: { role_id: role.roleId } };
}

function updateRoleId(req: BackendRequest<RoleIdFields>): undefined {
  const roleId = (req.fields.role_id ?? '').trim();
  if (roleId === '') throw new BadRequestError('missing role_id');
  const store = new ApproleStore(req.storage);
  store.transaction(() => {
    const role = requireRole(store, req.fields.role_name);
    if (!store.putRole({ ...role, roleId }, role.roleId)) throw new BadRequestError('role_id already in use');
  });
  return undefined;
}

const roleByName = `role/(?<role_name>${ROLE_NAME_PATTERN})`;

/** The role management paths, most specific first. */
export const rolePaths: PathDefinition[] = [
  {
    pattern: 'role/?',
    operations: { list: listRoles },
    description: 'Lists the roles of this AppRole mount.',
  },
  {
    pattern: `${roleByName}/role-id`,
    fields: roleIdFields,
    operations: { read: readRoleId, update: updateRoleId },
    description: 'Reads the role_id of a role, or sets a custom one (unique across roles).',
  },
  {
    pattern: roleByName,
    fields: roleFields,
    operations: { read: readRole, create: writeRole, update: writeRole, delete: deleteRole },
    existenceCheck: (req) => new ApproleStore(req.storage).getRole(canonicalRoleName(String(req.fields.role_name))) !== undefined,
    description: 'Creates, reads, updates or deletes a role: the constraints on its secret IDs and the tokens it issues.',
  },
];
