// The database secrets engine (Vault's `database`): connections, dynamic roles with leased credentials,
// static roles with rotated passwords, and a drift check, all through plugins (see ./plugins).
import type { BackendFactory } from '../../core/framework';
import { configPaths } from './config-paths';
import { checkDriftOfAllConnections, driftPaths } from './drift';
import { createDatabaseEngine } from './engine';
import { CREDS_SECRET_TYPE, credsSecretType, rolePaths } from './roles';
import { rotateDueStaticRoles, staticRolePaths } from './static-roles';

/** Mounts the database engine: the registry maps type `database` to this. */
export const databaseBackendFactory: BackendFactory = (ctx) => {
  const engine = createDatabaseEngine(ctx);
  let running: Promise<void> | undefined;
  const periodic = async () => {
    await rotateDueStaticRoles(engine);
    await checkDriftOfAllConnections(engine);
  };
  return {
    paths: [...configPaths(engine), ...rolePaths(engine), ...staticRolePaths(engine), ...driftPaths(engine)],
    secrets: { [CREDS_SECRET_TYPE]: credsSecretType(engine) },
    // Never overlaps with itself, even when called by hand while the scheduler also runs it.
    periodic: () => {
      running ??= periodic().finally(() => {
        running = undefined;
      });
      return running;
    },
    cleanup: () => engine.connections.closeAll(),
    close: () => engine.connections.closeAll(),
  };
};
