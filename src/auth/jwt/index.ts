// Vault's JWT auth method (also mounted as type `oidc`): CI jobs and workloads log in with a signed JWT
// (GitHub Actions, Kubernetes, any OIDC issuer). Only JWT login is implemented, not the OIDC browser flow.
import type { BackendFactory } from '../../core/framework';
import { BadRequestError } from '../../errors';
import { configPath } from './jwt-config';
import { loginPath } from './jwt-login';
import { loadRole, rolePaths } from './jwt-role';
import { KeySourceCache } from './key-source';

/** Mounts the JWT auth method: `config`, `role/`, `role/<name>` and the unauthenticated `login`. */
export const jwtBackendFactory: BackendFactory = (ctx) => {
  const keys = new KeySourceCache(ctx.clock);
  return {
    paths: [loginPath({ keys, clock: ctx.clock, logger: ctx.logger }), configPath(keys), ...rolePaths()],
    // Role names are case-insensitive: the ACL checks the lowercased name the backend acts on.
    canonicalCaptures: { name: (name: string) => name.toLowerCase() },
    // The webhook receivers map a finished CI run onto each role's run_claims.
    runClaims: (roleName) => loadRole(ctx.storage, roleName.toLowerCase())?.runClaims,
    // As Vault: a token renews only while its role exists, and never past the role's current limits.
    renewLogin: ({ internalData }) => {
      const role = loadRole(ctx.storage, String(internalData.role ?? ''));
      if (!role) throw new BadRequestError('role no longer exists; the token cannot be renewed');
      const caps = [role.tokenMaxTtlSeconds, role.tokenExplicitMaxTtlSeconds].filter((n) => n > 0);
      return caps.length > 0 ? { maxTtlSeconds: Math.min(...caps) } : undefined;
    },
  };
};
