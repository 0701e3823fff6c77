// Scenario `database`: GET database/creds/<role> against the same statements sent straight through `pg` (skipped without the engine).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { measureInRounds, medianLoad, medianRatio, medianServerLoad, runServerLoad, summariseLoad, type LoadResult, type ServerLoadResult } from './load';
import { startPgCluster, type PgCluster } from './postgres';
import { type ChildServer, ROOT, startLeasehold, withServer } from './processes';
import { type BenchSettings, type Scenario, getLoad } from './scenario';
import { formatRatio, loadRow } from './table';
import { ok } from './vault-api';

const ENGINE_DIR = path.join(ROOT, 'src', 'engines', 'database');
const ROOT_TOKEN = 'bench-root-token';
/** PostgreSQL connections on both sides; 4 is Vault's default max_open_connections. */
const PG_POOL_SIZE = 4;
const CREDENTIAL_TTL = '1h';
/**
 * Warm-up of each side before its first measured run. A credential takes milliseconds, so the default second
 * covers only a few hundred of them: too few for V8 to have compiled the server's path. After one second the
 * server's CPU per credential was still ~2.3 ms; after five it is ~0.9 ms, what it stays at. The raw side
 * gets the same warm-up, so both are measured at their steady state.
 */
const CREDS_WARM_UP_SECONDS = 5;

/** The group role every credential joins; it holds the table privileges. */
const READER_GROUP = 'bench_reader';

/**
 * Vault's documented creation statements, except that the role joins a group instead of being granted
 * SELECT on the tables itself: concurrent `GRANT ... ON ALL TABLES` fail with "tuple concurrently updated"
 * (they rewrite the same pg_class ACL) and every role grows that ACL. The raw baseline runs the same two statements.
 */
const CREATION_STATEMENTS = [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`, `GRANT ${READER_GROUP} TO "{{name}}";`];

/** A table and the group role that may read it, as a real database would have. */
async function prepareDatabase(cluster: PgCluster): Promise<void> {
  const client = new pg.Client({ connectionString: cluster.connectionString });
  await client.connect();
  try {
    await client.query('CREATE TABLE bench_items (id integer PRIMARY KEY, label text)');
    await client.query(`CREATE ROLE ${READER_GROUP} NOLOGIN`);
    await client.query(`GRANT SELECT ON bench_items TO ${READER_GROUP}`);
  } finally {
    await client.end();
  }
}

/** Mounts the engine, configures the connection and the role, and checks one credential (Vault's API for each step). */
async function configureCredentials(server: ChildServer, cluster: PgCluster): Promise<void> {
  const token = ROOT_TOKEN;
  await ok(server.url, 'POST', 'sys/mounts/database', { token, body: { type: 'database' } });
  await ok(server.url, 'POST', 'database/config/bench', {
    token,
    body: {
      plugin_name: 'postgresql-database-plugin',
      connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:${cluster.port}/postgres`,
      username: cluster.superuser,
      password: cluster.password,
      allowed_roles: ['bench'],
      max_open_connections: PG_POOL_SIZE,
    },
  });
  await ok(server.url, 'POST', 'database/roles/bench', { token, body: { db_name: 'bench', creation_statements: CREATION_STATEMENTS, default_ttl: CREDENTIAL_TTL, max_ttl: '24h' } });
  const first = await ok(server.url, 'GET', 'database/creds/bench', { token });
  if (typeof first.data?.username !== 'string') throw new Error('database/creds/bench returned no username');
}

/** A measurement that warms up for CREDS_WARM_UP_SECONDS before its first run only. */
function warmedUpOnce<R>(measure: (warmUpSeconds: number) => Promise<R>): () => Promise<R> {
  let warmUpSeconds = CREDS_WARM_UP_SECONDS;
  return () => {
    const seconds = warmUpSeconds;
    warmUpSeconds = 0;
    return measure(seconds);
  };
}

/** Numbers the raw side's roles across all of its runs (role names must stay unique in the cluster). */
let rawRoleSequence = 0;

/**
 * The ceiling: the same statements in one transaction per credential, from `connections` concurrent
 * callers over a pool of PG_POOL_SIZE, for the same duration. Latency includes waiting for the pool.
 */
export async function rawRoleCreation(cluster: PgCluster, settings: BenchSettings): Promise<{ load: LoadResult; firstError?: string }> {
  const pool = new pg.Pool({ connectionString: cluster.connectionString, max: PG_POOL_SIZE });
  const latenciesMs: number[] = [];
  let failures = 0;
  let firstError: string | undefined;
  const startedAt = performance.now();
  const deadline = startedAt + settings.seconds * 1000;
  try {
    await Promise.all(
      Array.from({ length: settings.connections }, async () => {
        while (performance.now() < deadline) {
          const requestStartedAt = performance.now();
          const client = await pool.connect();
          try {
            const name = client.escapeIdentifier(`bench-raw-${process.pid}-${rawRoleSequence++}`);
            const expiration = new Date(Date.now() + 3600_000).toISOString();
            await client.query('BEGIN');
            await client.query(`CREATE ROLE ${name} WITH LOGIN PASSWORD ${client.escapeLiteral(randomBytes(18).toString('base64url'))} VALID UNTIL ${client.escapeLiteral(expiration)}`);
            await client.query(`GRANT ${READER_GROUP} TO ${name}`);
            await client.query('COMMIT');
            latenciesMs.push(performance.now() - requestStartedAt);
          } catch (error) {
            firstError ??= (error as Error).message;
            failures++;
            await client.query('ROLLBACK').catch(() => {});
          } finally {
            client.release();
          }
        }
      }),
    );
  } finally {
    await pool.end();
  }
  const load = summariseLoad({ completed: latenciesMs.length, elapsedSeconds: (performance.now() - startedAt) / 1000, errors: failures, non2xx: 0, latenciesMs });
  return { load, firstError };
}

export const databaseScenario: Scenario = {
  name: 'database',
  summary: 'GET database/creds/<role> vs raw CREATE ROLE ... VALID UNTIL + GRANT through pg, in alternating rounds (skipped without the engine)',
  async run(context) {
    // STUB while the engine is missing: builds without it (e.g. an older checkout) print this row and move on.
    if (!fs.existsSync(ENGINE_DIR)) {
      return [{ scenario: 'database', measurement: 'dynamic PostgreSQL credentials', note: 'skipped: database engine not yet available' }];
    }
    const { settings } = context;
    const cluster = await startPgCluster();
    try {
      await prepareDatabase(cluster);
      return await withServer(startLeasehold(['--dev', '--dev-root-token-id', ROOT_TOKEN]), async (server) => {
        await configureCredentials(server, cluster);
        const load = getLoad(server.url, 'database/creds/bench', ROOT_TOKEN, settings);
        // Alternating rounds: the roles piling up in PostgreSQL slow both sides alike.
        const [ours, raws] = (await measureInRounds<() => Promise<unknown>, unknown>(
          [
            warmedUpOnce((warmUpSeconds) => runServerLoad(server, load, { warmUpSeconds })),
            warmedUpOnce(async (warmUpSeconds) => {
              if (warmUpSeconds > 0) await rawRoleCreation(cluster, { ...settings, seconds: warmUpSeconds });
              return rawRoleCreation(cluster, settings);
            }),
          ],
          settings.rounds,
          (measure) => measure(),
        )) as [ServerLoadResult[], Awaited<ReturnType<typeof rawRoleCreation>>[]];
        const rawLoads = raws.map((r) => r.load);
        const firstError = raws.find((r) => r.firstError)?.firstError;
        const rate = medianRatio(ours, rawLoads, (s) => s.requestsPerSecond, (s) => s.requestsPerSecond);
        return [
          loadRow('database', 'leasehold GET database/creds', medianServerLoad(ours), {
            note: `${formatRatio(rate, 1)} of raw pg (median of ${settings.rounds} alternating rounds)`,
          }),
          loadRow('database', `raw CREATE ROLE + GRANT (pool ${PG_POOL_SIZE})`, medianLoad(rawLoads), { note: firstError ? `first error: ${firstError}` : undefined }),
        ];
      });
    } finally {
      await cluster.stop();
    }
  },
};
