// JWT login: verify a signed JWT against a role and return an AuthDescriptor; the core mints the Vault token.
import { z } from 'zod';
import { addressInCidrs } from '../../core/cidr';
import { str } from '../../core/fields';
import type { AuthDescriptor, BackendRequest, BackendResponse, PathDefinition } from '../../core/framework';
import type { Clock } from '../../util/clock';
import { BadRequestError, PermissionDeniedError } from '../../errors';
import { DocumentFetchError } from './bounded-fetch';
import { audienceFailure, boundClaimsFailure, ClaimError, type Claims, getClaim, metadataFromClaims, runClaimValues } from './claims';
import { effectiveAlgorithms, type JwtConfig, loadConfig } from './jwt-config';
import {
  DEFAULT_CLOCK_SKEW_LEEWAY_SECONDS,
  DEFAULT_EXPIRATION_LEEWAY_SECONDS,
  DEFAULT_NOT_BEFORE_LEEWAY_SECONDS,
  effectiveLeeway,
  type JwtRole,
  loadRole,
} from './jwt-role';
import { TokenRejectedError, verifyJwt } from './jwt-verify';
import type { KeySourceCache, LoadedKeys } from './key-source';

/** Largest JWT accepted; real ones (GitHub Actions, Kubernetes) are 1-2 KiB. */
export const MAX_JWT_CHARS = 16 * 1024;

/** The shape of a role name (as `name()` in core/fields, lower-cased). */
const ROLE_NAME = /^[a-z0-9][a-z0-9_.@-]{0,127}$/;

const loginFields = z.object({
  role: str(128).optional().describe('The role to log in against; the configured default_role if empty.'),
  jwt: str(MAX_JWT_CHARS).optional().describe('The signed JWT to validate.'),
});

type LoginFields = z.infer<typeof loginFields>;

/** What the login needs from the backend around it. */
export interface LoginDeps {
  keys: KeySourceCache;
  clock: Clock;
  logger: { warn: (obj: object, msg?: string) => void };
}

function rejectToken(reason: string): never {
  throw new BadRequestError(`error validating token: ${reason}`);
}

function rejectClaims(reason: string): never {
  throw new BadRequestError(`error validating claims: ${reason}`);
}

/** Verifies the signature and times, refetching a URL key set once when the token names an unknown key id. */
async function verifyWithKeys(token: string, config: JwtConfig, role: JwtRole, deps: LoginDeps): Promise<{ claims: Claims; keys: LoadedKeys }> {
  const input = {
    algorithms: effectiveAlgorithms(config),
    nowMs: deps.clock.nowMs(),
    leeways: {
      clockSkewSeconds: effectiveLeeway(role.clockSkewLeewaySeconds, DEFAULT_CLOCK_SKEW_LEEWAY_SECONDS),
      expirationSeconds: effectiveLeeway(role.expirationLeewaySeconds, DEFAULT_EXPIRATION_LEEWAY_SECONDS),
      notBeforeSeconds: effectiveLeeway(role.notBeforeLeewaySeconds, DEFAULT_NOT_BEFORE_LEEWAY_SECONDS),
    },
  };
  let keys: LoadedKeys;
  try {
    keys = await deps.keys.get(config);
  } catch (error) {
    rejectToken(`could not load verification keys: ${error instanceof DocumentFetchError ? error.message : 'invalid key configuration'}`);
  }
  try {
    return { claims: (await verifyJwt(token, keys.getKey, input)).payload, keys };
  } catch (error) {
    if (!(error instanceof TokenRejectedError)) throw error;
    if (!error.unknownKeyId || !keys.refreshable) rejectToken(error.message);
    let refreshed: LoadedKeys | undefined;
    try {
      refreshed = await deps.keys.refreshForUnknownKid(config);
    } catch (fetchError) {
      deps.logger.warn({ reason: fetchError instanceof DocumentFetchError ? fetchError.message : 'unknown' }, 'jwt: refetching the key set failed');
    }
    if (!refreshed) rejectToken(error.message);
    try {
      return { claims: (await verifyJwt(token, refreshed.getKey, input)).payload, keys: refreshed };
    } catch (retryError) {
      if (retryError instanceof TokenRejectedError) rejectToken(retryError.message);
      throw retryError;
    }
  }
}

/** Checks issuer, subject, audiences and bound claims; throws a 400 naming the failed check. */
function checkClaims(claims: Claims, config: JwtConfig, role: JwtRole, keys: LoadedKeys): void {
  const iss = claims.iss;
  if (keys.discoveredIssuer !== undefined && iss !== keys.discoveredIssuer) rejectClaims('iss claim does not match the discovered issuer');
  if (config.boundIssuer !== '' && iss !== config.boundIssuer) rejectClaims('iss claim does not match the bound issuer');
  if (role.boundSubject !== '' && claims.sub !== role.boundSubject) rejectClaims('sub claim does not match bound subject');
  const audience = audienceFailure(role.boundAudiences, claims.aud);
  if (audience) rejectClaims(audience);
  const bound = boundClaimsFailure(role.boundClaims, role.boundClaimsType, claims);
  if (bound) rejectClaims(bound);
}

/** The user claim's value (the token's display name), as Vault requires: present and a string. */
function userName(claims: Claims, role: JwtRole): string {
  const raw = role.userClaimJsonPointer ? getClaim(claims, role.userClaim) : Object.hasOwn(claims, role.userClaim) ? claims[role.userClaim] : undefined;
  if (raw === undefined || raw === null) rejectClaims(`claim "${role.userClaim}" not found in token`);
  if (typeof raw !== 'string') rejectClaims(`claim "${role.userClaim}" could not be converted to string`);
  if (raw.length > 1024) rejectClaims(`claim "${role.userClaim}" is too long`);
  return raw;
}

/** Vault requires a configured groups claim to be present and a string or a list of strings. */
function checkGroups(claims: Claims, role: JwtRole): void {
  if (role.groupsClaim === '') return;
  const raw = getClaim(claims, role.groupsClaim);
  if (raw === undefined || raw === null) rejectClaims(`claim "${role.groupsClaim}" not found in token`);
  const items = Array.isArray(raw) ? raw : [raw];
  if (!items.every((g) => typeof g === 'string')) {
    rejectClaims(`claim "${role.groupsClaim}" could not be converted to string list`);
  }
}

/** The `login` path: unauthenticated, exactly what hashicorp/vault-action and `vault write auth/jwt/login` send. */
export function loginPath(deps: LoginDeps): PathDefinition<LoginFields> {
  const login = async (req: BackendRequest<LoginFields>): Promise<BackendResponse> => {
    const config = loadConfig(req.storage);
    if (!config) throw new BadRequestError('could not load configuration');
    const roleName = (req.fields.role ?? '').trim().toLowerCase() || config.defaultRole;
    if (roleName === '') throw new BadRequestError('missing role');
    // Only a well-formed role name becomes a storage key or appears in an error.
    if (!ROLE_NAME.test(roleName)) throw new BadRequestError('role could not be found');
    const role = loadRole(req.storage, roleName);
    if (!role) throw new BadRequestError(`role "${roleName}" could not be found`);
    const token = (req.fields.jwt ?? '').trim();
    if (token === '') throw new BadRequestError('missing token');
    // Vault answers a login from outside the role's CIDRs with a plain permission denied.
    if (role.tokenBoundCidrs.length > 0 && !addressInCidrs(req.clientAddress, role.tokenBoundCidrs)) throw new PermissionDeniedError();

    const { claims, keys } = await verifyWithKeys(token, config, role, deps);
    checkClaims(claims, config, role, keys);
    const displayName = userName(claims, role);
    checkGroups(claims, role);
    let metadata: Record<string, string>;
    let run: Record<string, string> | undefined;
    try {
      metadata = metadataFromClaims(claims, role.claimMappings);
      if (role.runClaims && role.runClaims.length > 0) run = runClaimValues(claims, role.runClaims);
    } catch (error) {
      if (error instanceof ClaimError) rejectClaims(error.message);
      throw error;
    }

    const maxTtlCandidates = [role.tokenMaxTtlSeconds, role.tokenExplicitMaxTtlSeconds].filter((s) => s > 0);
    const auth: AuthDescriptor = {
      policies: role.tokenPolicies,
      displayName,
      metadata: { ...metadata, role: roleName },
      ttlSeconds: role.tokenTtlSeconds,
      maxTtlSeconds: maxTtlCandidates.length > 0 ? Math.min(...maxTtlCandidates) : 0,
      explicitMaxTtlSeconds: role.tokenExplicitMaxTtlSeconds,
      periodSeconds: role.tokenPeriodSeconds > 0 ? role.tokenPeriodSeconds : undefined,
      numUses: role.tokenNumUses > 0 ? role.tokenNumUses : undefined,
      renewable: true,
      boundCidrs: role.tokenBoundCidrs.length > 0 ? role.tokenBoundCidrs : undefined,
      internalData: { role: roleName },
      // Vault's JWT alias is the user_claim value.
      alias: { name: displayName },
      roleName,
      owner: role.owner,
      // The claims named in claim_mappings: kept (encrypted) with the token as its request context.
      context: metadata,
      ...(run ? { run: { claims: run } } : {}),
    };
    return { auth };
  };
  return {
    pattern: 'login',
    fields: loginFields,
    unauthenticated: true,
    operations: { create: login, update: login },
    description: 'Authenticates with a signed JWT against a role and returns a Vault token.',
  };
}
