// The AppRole auth method (Vault's `approle`): roles, role_ids, secret IDs stored only as HMACs, and login.
import type { BackendFactory } from '../../core/framework';
import { loginPath } from './approle-login';
import { rolePaths } from './approle-roles';
import { secretIdPaths } from './approle-secret-ids';

/** Mounts AppRole: the registry maps type `approle` to this; the core mints tokens from the login's AuthDescriptor. */
export const approleBackendFactory: BackendFactory = (ctx) => ({
  paths: [loginPath(ctx), ...secretIdPaths(ctx), ...rolePaths],
});
