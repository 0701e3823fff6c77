// Every engine and auth method type the vault can mount, by Vault's type name.
import { approleBackendFactory } from '../auth/approle';
import { jwtBackendFactory } from '../auth/jwt';
import type { BackendRegistry } from '../core/mounts';
import { databaseBackendFactory } from './database';
import { kvBackendFactory } from './kv';

/** The built-in catalogue. `kv-v2` is resolved to `kv` with version 2 by the mount table; `oidc` is JWT login. */
export function builtinRegistry(): BackendRegistry {
  return {
    kv: kvBackendFactory,
    database: databaseBackendFactory,
    approle: approleBackendFactory,
    jwt: jwtBackendFactory,
    oidc: jwtBackendFactory,
  };
}
