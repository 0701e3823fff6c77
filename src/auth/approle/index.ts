// The AppRole auth method (Vault's `approle`): roles, role_ids, secret IDs stored only as HMACs, and login.
import { BadRequestError } from '../../errors';
import type { BackendFactory } from '../../core/framework';
import { loginPath } from './approle-login';
import { canonicalRoleName, rolePaths } from './approle-roles';
import { secretIdPaths } from './approle-secret-ids';
import { ApproleStore } from './approle-store';

/** Mounts AppRole: the registry maps type `approle` to this; the core mints tokens from the login's AuthDescriptor. */
export const approleBackendFactory: BackendFactory = (ctx) => ({
  paths: [loginPath(ctx), ...secretIdPaths(ctx), ...rolePaths],
  // Role names are case-insensitive: the ACL checks the lowercased name the backend acts on.
  canonicalCaptures: { role_name: canonicalRoleName },
  // As Vault: a token renews only while its role exists, and never past the role's current limits.
  renewLogin: ({ internalData }) => {
    const role = new ApproleStore(ctx.storage).getRole(canonicalRoleName(String(internalData.roleName ?? '')));
    if (!role) throw new BadRequestError('role no longer exists; the token cannot be renewed');
    const caps = [role.tokenMaxTtlSeconds, role.tokenExplicitMaxTtlSeconds].filter((n) => n > 0);
    return caps.length > 0 ? { maxTtlSeconds: Math.min(...caps) } : undefined;
  },
});
