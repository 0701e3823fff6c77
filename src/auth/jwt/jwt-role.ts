// The JWT auth method's roles: which tokens a role accepts (audiences, subject, bound claims, CIDRs), how claims
// become metadata, and the Vault token parameters of the tokens it grants.
import { z } from 'zod';
import { parseCidrs } from '../../core/cidr';
import { bool, durationSeconds, int, name, policyList, str, stringList, stringMap } from '../../core/fields';
import type { BackendRequest, BackendResponse, PathDefinition } from '../../core/framework';
import type { StorageView } from '../../core/storage-view';
import { BadRequestError, NotFoundError } from '../../errors';
import { CI_METADATA_CLAIMS } from './claims';
import { boundClaims, leewaySeconds, MAX_RUN_CLAIMS } from './jwt-fields';

/** A stored role. Durations are whole seconds; a negative leeway is disabled, zero means Vault's default. */
export interface JwtRole {
  roleType: 'jwt';
  boundAudiences: string[];
  boundSubject: string;
  boundClaims: Record<string, string | string[]>;
  boundClaimsType: 'string' | 'glob';
  userClaim: string;
  userClaimJsonPointer: boolean;
  claimMappings: Record<string, string>;
  groupsClaim: string;
  clockSkewLeewaySeconds: number;
  expirationLeewaySeconds: number;
  notBeforeLeewaySeconds: number;
  verboseOidcLogging: boolean;
  tokenPolicies: string[];
  tokenTtlSeconds: number;
  tokenMaxTtlSeconds: number;
  tokenExplicitMaxTtlSeconds: number;
  tokenPeriodSeconds: number;
  tokenNumUses: number;
  tokenBoundCidrs: string[];
  /** The accountable owner of tokens and leases issued through this role (Leasehold governance). */
  owner?: string;
  /** Claims whose values identify one CI run: logins are bound to that run (Leasehold governance). */
  runClaims?: string[];
  tokenType: 'default' | 'service';
}

/** Vault's default clock skew leeway (go-jose's DefaultLeeway), used when a role stores 0. */
export const DEFAULT_CLOCK_SKEW_LEEWAY_SECONDS = 60;
/** Vault's default lifetime of a token without `exp` (claimDefaultLeeway), used when a role stores 0. */
export const DEFAULT_EXPIRATION_LEEWAY_SECONDS = 150;
/** Vault's default start of a token without `nbf` or `iat`, before its exp (claimDefaultLeeway), used when a role stores 0. */
export const DEFAULT_NOT_BEFORE_LEEWAY_SECONDS = 150;

/** A leeway as used: negative disables it, zero takes the default. */
export function effectiveLeeway(stored: number, fallback: number): number {
  if (stored < 0) return 0;
  return stored === 0 ? fallback : stored;
}

/** Storage key of a role. Role names are case-insensitive, as in Vault. */
export function roleKey(roleName: string): string {
  return `role/${roleName.toLowerCase()}`;
}

/** Reads a stored role. */
export function loadRole(storage: StorageView, roleName: string): JwtRole | undefined {
  return storage.getJSON<JwtRole>(roleKey(roleName));
}

const tokenFields = {
  token_policies: policyList(256, 128).optional().describe('Policies of the tokens this role grants.'),
  policies: policyList(256, 128).optional().describe('Deprecated: use token_policies.'),
  token_ttl: durationSeconds().optional().describe('Initial TTL of granted tokens, in seconds or as a duration.'),
  ttl: durationSeconds().optional().describe('Deprecated: use token_ttl.'),
  token_max_ttl: durationSeconds().optional().describe('Maximum lifetime of granted tokens, in seconds or as a duration.'),
  max_ttl: durationSeconds().optional().describe('Deprecated: use token_max_ttl.'),
  token_explicit_max_ttl: durationSeconds().optional().describe('A hard cap on the lifetime of granted tokens.'),
  token_period: durationSeconds().optional().describe('Makes granted tokens periodic with this period.'),
  period: durationSeconds().optional().describe('Deprecated: use token_period.'),
  owner: str(256).optional().describe('Accountable owner (person or team) of tokens and leases issued through this role.'),
  token_num_uses: int(0, 1_000_000).optional().describe('Uses allowed per granted token; 0 is unlimited.'),
  num_uses: int(0, 1_000_000).optional().describe('Deprecated: use token_num_uses.'),
  token_bound_cidrs: stringList(64, 64).optional().describe('Client CIDRs allowed to log in and to use granted tokens.'),
  bound_cidrs: stringList(64, 64).optional().describe('Deprecated: use token_bound_cidrs.'),
  token_type: z.enum(['default', 'service', 'batch', 'default-service', 'default-batch']).optional().describe('Type of granted tokens; only service tokens exist here.'),
  token_no_default_policy: bool().optional().describe('Leave out the default policy (not supported: it is always attached).'),
};

const roleFields = z.object({
  name: name(),
  role_type: z.enum(['jwt', 'oidc']).optional().describe('Only "jwt" is supported; the OIDC browser flow is not.'),
  bound_audiences: stringList(64, 1024).optional().describe('Audiences, one of which the aud claim must contain.'),
  bound_subject: str(1024).optional().describe('The value the sub claim must equal.'),
  bound_claims: boundClaims().optional().describe('Claims (names or JSON pointers) and the values they must have.'),
  bound_claims_type: z.enum(['string', 'glob']).optional().describe('How bound_claims values match: exactly, or as globs where * matches any run of characters.'),
  user_claim: str(256).optional().describe('The claim whose value names the user (token display name); default "sub".'),
  user_claim_json_pointer: bool().optional().describe('Read user_claim as a JSON pointer.'),
  claim_mappings: stringMap(64, 256, 128).optional().describe('Claims (names or JSON pointers) copied into token metadata under the given keys.'),
  groups_claim: str(256).optional().describe('The claim listing the user\'s groups; it must be present when set.'),
  clock_skew_leeway: leewaySeconds().optional().describe('Clock skew tolerated on exp/nbf/iat, in seconds; 0 is 60s, -1 disables.'),
  expiration_leeway: leewaySeconds().optional().describe('Lifetime given to a token without exp, in seconds; 0 is 150s, -1 disables.'),
  not_before_leeway: leewaySeconds().optional().describe('Leeway for a token without nbf, in seconds; 0 is 150s, -1 disables.'),
  verbose_oidc_logging: bool().optional().describe('Accepted and ignored: claims are never logged.'),
  run_claims: stringList(MAX_RUN_CLAIMS, 256)
    .optional()
    .describe('Claims (names or JSON pointers) whose values identify one CI run, e.g. repository,run_id,run_attempt; tokens and leases are bound to that run.'),
  ...tokenFields,
});

type RoleFields = z.infer<typeof roleFields>;

const listFields = z.object({});

function newRole(): JwtRole {
  return {
    roleType: 'jwt',
    boundAudiences: [],
    boundSubject: '',
    boundClaims: {},
    boundClaimsType: 'string',
    userClaim: 'sub',
    userClaimJsonPointer: false,
    claimMappings: {},
    groupsClaim: '',
    clockSkewLeewaySeconds: 0,
    expirationLeewaySeconds: 0,
    notBeforeLeewaySeconds: 0,
    verboseOidcLogging: false,
    tokenPolicies: [],
    tokenTtlSeconds: 0,
    tokenMaxTtlSeconds: 0,
    tokenExplicitMaxTtlSeconds: 0,
    tokenPeriodSeconds: 0,
    tokenNumUses: 0,
    tokenBoundCidrs: [],
    tokenType: 'default',
  };
}

/** Policy names as Vault stores them: trimmed, lower-case, unique, no empties. */
function normalizePolicies(policies: string[]): string[] {
  return [...new Set(policies.map((p) => p.trim().toLowerCase()).filter((p) => p !== ''))];
}

/** The value of a token parameter given either as `token_x` or as its legacy name; both at once is refused. */
function tokenParam<T>(fields: RoleFields, current: keyof RoleFields, legacy: keyof RoleFields): T | undefined {
  const a = fields[current] as T | undefined;
  const b = fields[legacy] as T | undefined;
  if (a !== undefined && b !== undefined) throw new BadRequestError(`"${String(current)}" and its deprecated form "${String(legacy)}" cannot both be set`);
  return a ?? b;
}

/** Applies a write to an existing (or new) role: fields not sent keep their value, as in Vault. */
function applyFields(role: JwtRole, fields: RoleFields): JwtRole {
  const next: JwtRole = { ...role };
  if (fields.role_type === 'oidc') {
    throw new BadRequestError('role_type "oidc" is not supported: the OIDC browser flow is not implemented, use role_type "jwt"');
  }
  if (fields.bound_audiences !== undefined) next.boundAudiences = [...new Set(fields.bound_audiences.filter((a) => a !== ''))];
  if (fields.bound_subject !== undefined) next.boundSubject = fields.bound_subject;
  if (fields.bound_claims !== undefined) next.boundClaims = fields.bound_claims;
  if (fields.bound_claims_type !== undefined) next.boundClaimsType = fields.bound_claims_type;
  if (fields.user_claim !== undefined) next.userClaim = fields.user_claim;
  if (fields.user_claim_json_pointer !== undefined) next.userClaimJsonPointer = fields.user_claim_json_pointer;
  if (fields.claim_mappings !== undefined) next.claimMappings = fields.claim_mappings;
  if (fields.groups_claim !== undefined) next.groupsClaim = fields.groups_claim;
  if (fields.clock_skew_leeway !== undefined) next.clockSkewLeewaySeconds = fields.clock_skew_leeway;
  if (fields.expiration_leeway !== undefined) next.expirationLeewaySeconds = fields.expiration_leeway;
  if (fields.not_before_leeway !== undefined) next.notBeforeLeewaySeconds = fields.not_before_leeway;
  if (fields.verbose_oidc_logging !== undefined) next.verboseOidcLogging = fields.verbose_oidc_logging;
  if (fields.run_claims !== undefined) {
    const claims = [...new Set(fields.run_claims.map((c) => c.trim()).filter((c) => c !== ''))];
    next.runClaims = claims.length > 0 ? claims : undefined;
  }

  const policies = tokenParam<string[]>(fields, 'token_policies', 'policies');
  if (policies !== undefined) next.tokenPolicies = normalizePolicies(policies);
  const ttl = tokenParam<number>(fields, 'token_ttl', 'ttl');
  if (ttl !== undefined) next.tokenTtlSeconds = ttl;
  const maxTtl = tokenParam<number>(fields, 'token_max_ttl', 'max_ttl');
  if (maxTtl !== undefined) next.tokenMaxTtlSeconds = maxTtl;
  if (fields.token_explicit_max_ttl !== undefined) next.tokenExplicitMaxTtlSeconds = fields.token_explicit_max_ttl;
  const period = tokenParam<number>(fields, 'token_period', 'period');
  if (period !== undefined) next.tokenPeriodSeconds = period;
  if (fields.owner !== undefined) next.owner = fields.owner === '' ? undefined : fields.owner;
  const numUses = tokenParam<number>(fields, 'token_num_uses', 'num_uses');
  if (numUses !== undefined) next.tokenNumUses = numUses;
  const cidrs = tokenParam<string[]>(fields, 'token_bound_cidrs', 'bound_cidrs');
  if (cidrs !== undefined) {
    parseCidrs(cidrs);
    next.tokenBoundCidrs = cidrs;
  }
  if (fields.token_type !== undefined) {
    if (fields.token_type === 'batch' || fields.token_type === 'default-batch') {
      throw new BadRequestError('invalid value for field "token_type": batch tokens are not supported, use "service" or "default"');
    }
    next.tokenType = fields.token_type === 'default-service' ? 'service' : fields.token_type;
  }
  if (fields.token_no_default_policy === true) {
    throw new BadRequestError('invalid value for field "token_no_default_policy": the default policy is always attached to login tokens');
  }
  return next;
}

/** The checks Vault makes on a role before saving it. */
function validateRole(role: JwtRole): void {
  if (role.userClaim.trim() === '') throw new BadRequestError('a user claim must be defined on the role');
  if (role.boundAudiences.length === 0 && role.boundSubject === '' && Object.keys(role.boundClaims).length === 0 && role.tokenBoundCidrs.length === 0) {
    throw new BadRequestError('must have at least one bound constraint when creating/updating a role: bound_audiences, bound_subject, bound_claims or token_bound_cidrs');
  }
  if (role.tokenMaxTtlSeconds > 0 && role.tokenTtlSeconds > role.tokenMaxTtlSeconds) {
    throw new BadRequestError('ttl should not be greater than max ttl');
  }
  const targets = new Map<string, string>();
  for (const [source, target] of Object.entries(role.claimMappings)) {
    if (target === '') throw new BadRequestError(`claim_mappings: claim "${source}" is mapped to an empty metadata key`);
    if (target === 'role') throw new BadRequestError('claim_mappings: metadata key "role" is reserved');
    // The CI identity keys are filled from their own claims; another claim must not overwrite them.
    if (CI_METADATA_CLAIMS.includes(target) && source !== target) {
      throw new BadRequestError(`claim_mappings: metadata key "${target}" is reserved for the "${target}" claim`);
    }
    const previous = targets.get(target);
    if (previous !== undefined) throw new BadRequestError(`claim_mappings: multiple keys are mapped to metadata key "${target}"`);
    targets.set(target, source);
  }
}

/** A role as Vault's read returns it (durations in seconds, legacy names mirrored when set). */
function renderRole(role: JwtRole): Record<string, unknown> {
  const data: Record<string, unknown> = {
    role_type: role.roleType,
    bound_audiences: role.boundAudiences,
    bound_subject: role.boundSubject,
    bound_claims: Object.keys(role.boundClaims).length > 0 ? role.boundClaims : null,
    bound_claims_type: role.boundClaimsType,
    user_claim: role.userClaim,
    user_claim_json_pointer: role.userClaimJsonPointer,
    claim_mappings: Object.keys(role.claimMappings).length > 0 ? role.claimMappings : null,
    groups_claim: role.groupsClaim,
    clock_skew_leeway: role.clockSkewLeewaySeconds,
    expiration_leeway: role.expirationLeewaySeconds,
    not_before_leeway: role.notBeforeLeewaySeconds,
    verbose_oidc_logging: role.verboseOidcLogging,
    oidc_scopes: [],
    allowed_redirect_uris: [],
    max_age: 0,
    token_policies: role.tokenPolicies,
    token_ttl: role.tokenTtlSeconds,
    token_max_ttl: role.tokenMaxTtlSeconds,
    token_explicit_max_ttl: role.tokenExplicitMaxTtlSeconds,
    token_period: role.tokenPeriodSeconds,
    token_num_uses: role.tokenNumUses,
    token_bound_cidrs: role.tokenBoundCidrs,
    token_type: role.tokenType,
    owner: role.owner ?? '',
    run_claims: role.runClaims ?? [],
    token_no_default_policy: false,
  };
  if (role.tokenPolicies.length > 0) data.policies = role.tokenPolicies;
  if (role.tokenTtlSeconds > 0) data.ttl = role.tokenTtlSeconds;
  if (role.tokenMaxTtlSeconds > 0) data.max_ttl = role.tokenMaxTtlSeconds;
  if (role.tokenPeriodSeconds > 0) data.period = role.tokenPeriodSeconds;
  if (role.tokenNumUses > 0) data.num_uses = role.tokenNumUses;
  if (role.tokenBoundCidrs.length > 0) data.bound_cidrs = role.tokenBoundCidrs;
  return data;
}

function write(req: BackendRequest<RoleFields>): undefined {
  const key = roleKey(req.fields.name);
  const role = applyFields(req.storage.getJSON<JwtRole>(key) ?? newRole(), req.fields);
  validateRole(role);
  req.storage.putJSON(key, role);
  return undefined;
}

function read(req: BackendRequest<RoleFields>): BackendResponse {
  const role = loadRole(req.storage, req.fields.name);
  if (!role) throw new NotFoundError();
  return { data: renderRole(role) };
}

function remove(req: BackendRequest<RoleFields>): undefined {
  req.storage.delete(roleKey(req.fields.name));
  return undefined;
}

function list(req: BackendRequest): BackendResponse {
  const keys = req.storage.list('role/').filter((k) => !k.endsWith('/'));
  if (keys.length === 0) throw new NotFoundError();
  return { data: { keys } };
}

/** `role/` (LIST) and `role/<name>` (read, write, delete). */
export function rolePaths(): PathDefinition[] {
  return [
    {
      pattern: 'role/?',
      fields: listFields,
      operations: { list },
      description: 'Lists the JWT roles.',
    },
    {
      pattern: 'role/(?<name>[^/]+)',
      fields: roleFields,
      operations: { read, create: write, update: write, delete: remove },
      existenceCheck: (req) => loadRole(req.storage, String(req.fields.name)) !== undefined,
      description: 'Manages a JWT role: what a token must prove and what the granted Vault token may do.',
    },
  ];
}
