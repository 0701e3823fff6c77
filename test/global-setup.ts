// Suite-wide setup: starts a throwaway PostgreSQL cluster (a real server, never a mock) for the database
// engine's tests and hands its coordinates to the test workers through process.env.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  PG_ENV,
  PG_SUPERUSER,
  chownTo,
  clusterSettings,
  clusterUrl,
  copyDataDir,
  findPgBinDir,
  freeTcpPort,
  runPgBinary,
  runningAsRoot,
  startCluster,
  systemUser,
} from './pg/control';

/**
 * initdb into a temporary directory (scram-sha-256, a random superuser password), keep that directory
 * stopped as a template (tests copy it for private clusters they may stop), copy it to the shared
 * cluster's data directory and start it on a free loopback port. Fails the run with a clear message
 * when PostgreSQL is missing or cannot start: the database tests never skip.
 */
export default async function globalSetup(): Promise<void> {
  const startedAt = Date.now();
  const binDir = findPgBinDir();
  if (!binDir) {
    throw new Error(
      'PostgreSQL binaries (initdb, pg_ctl, postgres) not found in $LEASEHOLD_TEST_PG_BIN, PATH, /usr/lib/postgresql/*/bin or /usr/pgsql-*/bin. ' +
        'Install PostgreSQL (e.g. `apt-get install postgresql`); the database engine is tested against a real server.',
    );
  }
  const runAs = runningAsRoot() ? 'postgres' : '';
  if (runAs && !systemUser(runAs)) {
    throw new Error('Tests run as root but there is no `postgres` system user to run PostgreSQL as (PostgreSQL refuses to run as root).');
  }
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-pg-'));
  fs.chmodSync(baseDir, 0o755);
  chownTo(baseDir, runAs);
  const password = randomBytes(18).toString('base64url');
  const templateDir = path.join(baseDir, 'template');
  const dataDir = path.join(baseDir, 'main');
  const info = { binDir, runAs, dataDir };
  try {
    const pwfile = path.join(baseDir, 'pwfile');
    fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    chownTo(pwfile, runAs);
    runPgBinary(info, 'initdb', ['-D', templateDir, '-U', PG_SUPERUSER, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C', '--no-sync'], { cwd: baseDir });
    fs.rmSync(pwfile);
    copyDataDir(templateDir, dataDir);
    const port = await freeTcpPort();
    fs.appendFileSync(path.join(dataDir, 'postgresql.conf'), clusterSettings(port, baseDir));
    startCluster(info);
    const env: Record<string, string> = {
      [PG_ENV.host]: '127.0.0.1',
      [PG_ENV.port]: String(port),
      [PG_ENV.user]: PG_SUPERUSER,
      [PG_ENV.password]: password,
      [PG_ENV.database]: 'postgres',
      [PG_ENV.url]: clusterUrl({ host: '127.0.0.1', port, user: PG_SUPERUSER, password, database: 'postgres' }),
      [PG_ENV.baseDir]: baseDir,
      [PG_ENV.dataDir]: dataDir,
      [PG_ENV.templateDir]: templateDir,
      [PG_ENV.binDir]: binDir,
      [PG_ENV.runAs]: runAs,
    };
    Object.assign(process.env, env);
  } catch (error) {
    fs.rmSync(baseDir, { recursive: true, force: true });
    throw new Error(`PostgreSQL test cluster could not start (binaries in ${binDir}): ${error instanceof Error ? error.message : String(error)}`);
  }
  if (process.env.LEASEHOLD_TEST_PG_VERBOSE) process.stderr.write(`PostgreSQL test cluster ready in ${Date.now() - startedAt} ms\n`);
}
