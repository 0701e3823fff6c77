// Test-side access to PostgreSQL: the shared cluster started by the global setup (through process.env),
// scratch databases and logins in it, private clusters a test may stop and start, and small probes.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { type ClusterInfo, PG_ENV, clusterSettings, clusterUrl, copyDataDir, freeTcpPort, startCluster, stopCluster } from './control';

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set: the PostgreSQL global setup (test/global-setup.ts) did not run`);
  return value;
}

/** The shared cluster of this test run. */
export function sharedCluster(): ClusterInfo {
  return {
    host: env(PG_ENV.host),
    port: Number(env(PG_ENV.port)),
    user: env(PG_ENV.user),
    password: env(PG_ENV.password),
    database: env(PG_ENV.database),
    dataDir: env(PG_ENV.dataDir),
    binDir: env(PG_ENV.binDir),
    runAs: env(PG_ENV.runAs),
  };
}

/** A short random suffix for names that must not collide between test files running in parallel. */
export function uniqueSuffix(): string {
  return randomBytes(5).toString('hex');
}

/** Connection coordinates of one login to one database. */
export interface Login {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
}

/** A connected client (the caller ends it). */
export async function connect(login: Login): Promise<Client> {
  const client = new Client({ host: login.host, port: login.port, database: login.database, user: login.user, password: login.password, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Runs `fn` with a superuser client on `database` of a cluster. */
export async function asSuperuser<T>(cluster: ClusterInfo, database: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connect({ ...cluster, database });
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether a login can connect right now, and the error code when it cannot. */
export async function tryLogin(login: Login): Promise<{ ok: boolean; code?: string; message?: string }> {
  try {
    const client = await connect(login);
    await client.query('SELECT 1');
    await client.end();
    return { ok: true };
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return { ok: false, code: e.code, message: e.message };
  }
}

/** A scratch database in a cluster plus a superuser login the vault connects with (never the cluster's own superuser). */
export interface Scratch {
  cluster: ClusterInfo;
  database: string;
  vaultUser: string;
  vaultPassword: string;
  /** connection_url template as operators write it. */
  connectionUrl: string;
  /** Login coordinates of a user in this database. */
  login(user: string, password: string): Login;
  /** Runs `fn` as the cluster's superuser in the scratch database. */
  sql<T>(fn: (client: Client) => Promise<T>): Promise<T>;
  roleExists(name: string): Promise<boolean>;
  validUntil(name: string): Promise<Date | null>;
  /** Creates a cluster-wide role (NOLOGIN) unless it exists; safe when parallel test files race for it. */
  ensureRole(name: string): Promise<void>;
}

/** Creates a database and a vault login (SUPERUSER, so the default revocation may reassign and terminate) in a cluster. */
export async function createScratch(cluster: ClusterInfo = sharedCluster()): Promise<Scratch> {
  const suffix = uniqueSuffix();
  const database = `lh_${suffix}`;
  const vaultUser = `lh_vault_${suffix}`;
  const vaultPassword = randomBytes(18).toString('base64url');
  await asSuperuser(cluster, cluster.database, async (client) => {
    await client.query(`CREATE DATABASE "${database}"`);
    await client.query(`CREATE ROLE "${vaultUser}" LOGIN SUPERUSER PASSWORD '${vaultPassword}'`);
  });
  const sql = <T>(fn: (client: Client) => Promise<T>) => asSuperuser(cluster, database, fn);
  return {
    cluster,
    database,
    vaultUser,
    vaultPassword,
    connectionUrl: `postgresql://{{username}}:{{password}}@${cluster.host}:${cluster.port}/${database}`,
    login: (user, password) => ({ host: cluster.host, port: cluster.port, database, user, password }),
    sql,
    roleExists: (name) => sql(async (c) => ((await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount ?? 0) > 0),
    validUntil: (name) => sql(async (c) => ((await c.query('SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1', [name])).rows[0]?.rolvaliduntil as Date | null) ?? null),
    ensureRole: (name) =>
      sql(async (c) => {
        try {
          await c.query(`CREATE ROLE "${name.replace(/"/g, '""')}"`);
        } catch (error) {
          // 42710 duplicate_object, 23505 unique_violation (two sessions creating it at once).
          if (!['42710', '23505'].includes((error as { code?: string }).code ?? '')) throw error;
        }
      }),
  };
}

/** A private cluster (a copy of the global setup's template) that a test may stop and start at will. */
export interface PrivateCluster {
  info: ClusterInfo;
  url: string;
  stop(): void;
  start(): void;
  /** Stops it if running and removes its files. */
  destroy(): void;
}

/** Starts a private cluster on a free port, from the stopped template data directory. */
export async function startPrivateCluster(): Promise<PrivateCluster> {
  const shared = sharedCluster();
  const baseDir = env(PG_ENV.baseDir);
  const dataDir = path.join(baseDir, `private-${uniqueSuffix()}`);
  copyDataDir(env(PG_ENV.templateDir), dataDir);
  const port = await freeTcpPort();
  fs.appendFileSync(path.join(dataDir, 'postgresql.conf'), clusterSettings(port, baseDir));
  const info: ClusterInfo = { ...shared, port, dataDir };
  startCluster(info);
  let running = true;
  return {
    info,
    url: clusterUrl(info),
    stop: () => {
      stopCluster(info);
      running = false;
    },
    start: () => {
      startCluster(info);
      running = true;
    },
    destroy: () => {
      if (running) stopCluster(info);
      running = false;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
