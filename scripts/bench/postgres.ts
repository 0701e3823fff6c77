// A throwaway PostgreSQL cluster for the database scenario, started exactly as the test suite starts its own (test/global-setup.ts).
import globalSetup from '../../test/global-setup';
import globalTeardown from '../../test/global-teardown';
import { PG_ENV } from '../../test/pg/control';
import { onExit } from './cleanup';

/** A running cluster; `connectionString` logs in as its superuser. */
export interface PgCluster {
  port: number;
  superuser: string;
  password: string;
  connectionString: string;
  stop(): Promise<void>;
}

/**
 * Runs the suite's PostgreSQL global setup (initdb into a temp dir, a free loopback port, as `postgres`
 * when we are root; throws a clear error if PostgreSQL is missing). It hands the cluster over through
 * process.env, as it does to jest workers. Note its settings: fsync and synchronous_commit are off, the
 * same for Leasehold and the raw baseline, so the ratio holds but absolute rates beat a durable server.
 */
export async function startPgCluster(): Promise<PgCluster> {
  await globalSetup();
  // globalTeardown does only synchronous work (pg_ctl stop, rm), so it can run from the 'exit' handler.
  const unregister = onExit(() => void globalTeardown());
  const env = (name: string) => process.env[name] as string;
  return {
    port: Number(env(PG_ENV.port)),
    superuser: env(PG_ENV.user),
    password: env(PG_ENV.password),
    connectionString: env(PG_ENV.url),
    stop: async () => {
      await globalTeardown();
      unregister();
      for (const name of Object.values(PG_ENV)) delete process.env[name];
    },
  };
}
