// AppRole login: role_id + secret_id in, an AuthDescriptor out (the core mints the token). One answer for every failure.
import { addressInCidrs } from '../../core/cidr';
import type { AuthDescriptor, BackendContext, BackendRequest, BackendResponse, PathDefinition } from '../../core/framework';
import { BadRequestError } from '../../errors';
import { cidrsWithin } from './approle-cidrs';
import { loginFields, type LoginFields } from './approle-fields';
import { liveSecretId } from './approle-secret-ids';
import { ApproleStore, NO_SUCH_ROLE, digestsEqual, type RoleEntry, type SecretIdEntry } from './approle-store';

/** The one message for every failed login, whichever part was wrong, so a caller cannot probe role_ids or secret IDs. */
export const INVALID_LOGIN_MESSAGE = 'invalid role or secret ID';

interface LoginSuccess {
  role: RoleEntry;
  secretId: SecretIdEntry | undefined;
}

/**
 * Checks the credentials and consumes one use of the secret ID, atomically. Runs inside a transaction and never throws
 * for a bad credential: it returns undefined, so the removal of an expired secret ID still commits. Every attempt does
 * the same work: both HMACs, the role_id index, a role read, one secret-ID lookup and a constant-time comparison.
 */
function attemptLogin(store: ApproleStore, roleId: string, secretId: string, clientAddress: string, nowMs: number): LoginSuccess | undefined {
  const roleIdHmac = store.hmac('role_id', roleId);
  const secretIdHmac = store.hmac('secret_id', secretId);
  const roleName = store.roleNameForRoleId(roleIdHmac);
  const role = store.getRole(roleName ?? NO_SUCH_ROLE);
  // The index is keyed by HMAC; confirm the role still holds this role_id (the index could be stale).
  const roleIdHolds = digestsEqual(store.hmac('role_id', role?.roleId ?? ''), roleIdHmac);
  const entry = liveSecretId(store, role?.name ?? NO_SUCH_ROLE, secretIdHmac, nowMs);
  if (!role || !roleIdHolds) return undefined;

  if (role.bindSecretId) {
    if (secretId === '' || !entry) return undefined;
    // The role's bounds may have narrowed since the secret ID was issued.
    if (!cidrsWithin(entry.cidrList, role.secretIdBoundCidrs)) return undefined;
    if (!addressInCidrs(clientAddress, entry.cidrList)) return undefined;
  }
  if (!addressInCidrs(clientAddress, role.secretIdBoundCidrs ?? [])) return undefined;

  if (!role.bindSecretId || !entry) return { role, secretId: undefined };
  // Every check passed: only now spend a use, so a refused attempt never burns one.
  if (entry.numUses === 1) {
    store.deleteSecretId(role.name, entry.secretIdHmac, entry.accessor);
  } else if (entry.numUses > 1) {
    store.updateSecretId(role.name, { ...entry, numUses: entry.numUses - 1, lastUpdatedAtMs: nowMs });
  }
  return { role, secretId: entry };
}

/** The smallest positive of the given limits, or 0 when none is set. */
function tightest(...limits: number[]): number {
  const set = limits.filter((l) => l > 0);
  return set.length > 0 ? Math.min(...set) : 0;
}

/** What the core needs to mint the token, after Vault's tokenutil.PopulateTokenAuth and the AppRole login handler. */
function authFor({ role, secretId }: LoginSuccess): AuthDescriptor {
  const tokenBoundCidrs = secretId && secretId.tokenBoundCidrs.length > 0 ? secretId.tokenBoundCidrs : role.tokenBoundCidrs;
  return {
    policies: role.tokenPolicies,
    // Vault leaves the display name empty for AppRole, so tokens read "approle" (the mount's name); who asked is in metadata.
    displayName: '',
    // role_name last: a secret ID's metadata cannot pose as another role.
    metadata: { ...(secretId?.metadata ?? {}), role_name: role.name },
    ttlSeconds: role.tokenTtlSeconds,
    maxTtlSeconds: tightest(role.tokenMaxTtlSeconds, role.tokenExplicitMaxTtlSeconds),
    explicitMaxTtlSeconds: role.tokenExplicitMaxTtlSeconds,
    noDefaultPolicy: role.tokenNoDefaultPolicy,
    ...(role.tokenPeriodSeconds > 0 ? { periodSeconds: role.tokenPeriodSeconds } : {}),
    numUses: role.tokenNumUses,
    renewable: true,
    boundCidrs: tokenBoundCidrs,
    internalData: { roleName: role.name },
    // Vault's AppRole alias is the role_id: one entity per role, whatever secret ID logs in.
    alias: { name: role.roleId },
    roleName: role.name,
    owner: role.owner,
  };
}

/** The unauthenticated `login` path. */
export function loginPath(ctx: Pick<BackendContext, 'clock'>): PathDefinition<LoginFields> {
  const login = (req: BackendRequest<LoginFields>): BackendResponse => {
    const roleId = (req.fields.role_id ?? '').trim();
    if (roleId === '') throw new BadRequestError('missing role_id');
    const secretId = (req.fields.secret_id ?? '').trim();
    const store = new ApproleStore(req.storage);
    const success = store.transaction(() => attemptLogin(store, roleId, secretId, req.clientAddress, ctx.clock.nowMs()));
    if (!success) throw new BadRequestError(INVALID_LOGIN_MESSAGE);
    return { auth: authFor(success) };
  };
  return {
    pattern: 'login',
    fields: loginFields,
    operations: { update: login },
    unauthenticated: true,
    description: 'Logs in with a role_id and a secret ID; answers with a token carrying the role\'s policies.',
  };
}
