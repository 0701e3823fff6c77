// Vault's JWT auth method (also mounted as type `oidc`): CI jobs and workloads log in with a signed JWT
// (GitHub Actions, Kubernetes, any OIDC issuer). Only JWT login is implemented, not the OIDC browser flow.
import type { BackendFactory } from '../../core/framework';
import { configPath } from './jwt-config';
import { loginPath } from './jwt-login';
import { rolePaths } from './jwt-role';
import { KeySourceCache } from './key-source';

/** Mounts the JWT auth method: `config`, `role/`, `role/<name>` and the unauthenticated `login`. */
export const jwtBackendFactory: BackendFactory = (ctx) => {
  const keys = new KeySourceCache(ctx.clock);
  return {
    paths: [loginPath({ keys, clock: ctx.clock, logger: ctx.logger }), configPath(keys), ...rolePaths()],
  };
};
