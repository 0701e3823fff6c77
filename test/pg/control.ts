// Controls throwaway PostgreSQL clusters for the tests: finds the binaries, runs initdb/pg_ctl (as the
// `postgres` user when we are root, since PostgreSQL refuses to run as root) and describes a cluster.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Environment variables through which the global setup hands the shared cluster to test workers. */
export const PG_ENV = {
  host: 'LEASEHOLD_TEST_PG_HOST',
  port: 'LEASEHOLD_TEST_PG_PORT',
  user: 'LEASEHOLD_TEST_PG_USER',
  password: 'LEASEHOLD_TEST_PG_PASSWORD',
  database: 'LEASEHOLD_TEST_PG_DATABASE',
  url: 'LEASEHOLD_TEST_PG_URL',
  baseDir: 'LEASEHOLD_TEST_PG_BASE_DIR',
  dataDir: 'LEASEHOLD_TEST_PG_DATA_DIR',
  templateDir: 'LEASEHOLD_TEST_PG_TEMPLATE_DIR',
  binDir: 'LEASEHOLD_TEST_PG_BIN_DIR',
  runAs: 'LEASEHOLD_TEST_PG_RUN_AS',
} as const;

/** The superuser the clusters are initialised with. */
export const PG_SUPERUSER = 'postgres';

/** Everything a test needs to reach and control one cluster. */
export interface ClusterInfo {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  dataDir: string;
  binDir: string;
  /** The OS user that runs initdb/pg_ctl, or '' to run them as ourselves. */
  runAs: string;
}

/** postgres://user:password@host:port/database for a cluster (password URL-encoded). */
export function clusterUrl(info: Pick<ClusterInfo, 'host' | 'port' | 'user' | 'password' | 'database'>, database = info.database): string {
  return `postgres://${encodeURIComponent(info.user)}:${encodeURIComponent(info.password)}@${info.host}:${info.port}/${encodeURIComponent(database)}`;
}

function isBinDir(dir: string): boolean {
  return ['initdb', 'pg_ctl', 'postgres'].every((bin) => fs.existsSync(path.join(dir, bin)));
}

function versionOf(dir: string): number {
  const m = /(\d+(?:\.\d+)?)/.exec(dir);
  return m ? Number(m[1]) : 0;
}

/**
 * The directory holding initdb, pg_ctl and postgres: $LEASEHOLD_TEST_PG_BIN, then PATH (symlinks resolved,
 * so /usr/local/bin links into a version directory work), then the newest /usr/lib/postgresql/<ver>/bin
 * (Debian/Ubuntu apt) or /usr/pgsql-<ver>/bin (RHEL).
 */
export function findPgBinDir(): string | undefined {
  const override = process.env.LEASEHOLD_TEST_PG_BIN;
  if (override && isBinDir(override)) return override;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const initdb = path.join(dir, 'initdb');
    if (!fs.existsSync(initdb) || !fs.existsSync(path.join(dir, 'pg_ctl'))) continue;
    const real = path.dirname(fs.realpathSync(initdb));
    if (isBinDir(real)) return real;
    if (isBinDir(dir)) return dir;
  }
  const candidates: string[] = [];
  for (const root of ['/usr/lib/postgresql', '/usr/local/lib/postgresql']) {
    if (!fs.existsSync(root)) continue;
    for (const version of fs.readdirSync(root)) candidates.push(path.join(root, version, 'bin'));
  }
  if (fs.existsSync('/usr')) {
    for (const entry of fs.readdirSync('/usr')) if (entry.startsWith('pgsql-')) candidates.push(path.join('/usr', entry, 'bin'));
  }
  return candidates.filter(isBinDir).sort((a, b) => versionOf(b) - versionOf(a))[0];
}

/** True when we must drop privileges to run PostgreSQL binaries. */
export function runningAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** uid/gid of a system user, from /etc/passwd. */
export function systemUser(name: string): { uid: number; gid: number } | undefined {
  try {
    const line = fs
      .readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[0] === name);
    if (!line) return undefined;
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

/** Gives a path (recursively) to the user the cluster runs as; a no-op when we are not root. */
export function chownTo(target: string, runAs: string): void {
  if (!runAs) return;
  const user = systemUser(runAs);
  if (!user) throw new Error(`PostgreSQL test cluster: system user "${runAs}" not found`);
  const walk = (p: string) => {
    fs.lchownSync(p, user.uid, user.gid);
    if (fs.lstatSync(p).isDirectory()) for (const child of fs.readdirSync(p)) walk(path.join(p, child));
  };
  walk(target);
}

function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  return dirs.map((d) => path.join(d, name)).find((p) => fs.existsSync(p));
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command line that runs `exe args` as `user`: runuser (util-linux) when present, else su. */
function asUser(user: string, exe: string, args: string[]): [string, string[]] {
  const runuser = findExecutable('runuser');
  if (runuser) return [runuser, ['-u', user, '--', exe, ...args]];
  const su = findExecutable('su');
  if (!su) throw new Error('running as root, but neither runuser nor su is available to run PostgreSQL as the postgres user');
  return [su, ['-s', '/bin/sh', user, '-c', [exe, ...args].map(shellQuote).join(' ')]];
}

/** Runs a PostgreSQL binary (as `runAs` through runuser or su when set) and returns its output; throws with its stderr. */
export function runPgBinary(info: Pick<ClusterInfo, 'binDir' | 'runAs'>, binary: string, args: string[], options: { cwd: string; timeoutMs?: number }): string {
  const exe = path.join(info.binDir, binary);
  const [command, argv] = info.runAs ? asUser(info.runAs, exe, args) : [exe, args];
  try {
    return execFileSync(command, argv, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 60_000, encoding: 'utf8' });
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${binary} ${args[0] ?? ''} failed: ${(e.stderr || e.stdout || e.message).trim().slice(0, 2000)}`);
  }
}

/** A free TCP port on 127.0.0.1 (one implementation for the whole test tree). */
export { freePort as freeTcpPort } from '../helpers/process';

/** Settings appended to postgresql.conf: loopback only, our own socket directory, no fsync (throwaway, but a stopped
 * server still keeps every commit: tests stop clusters with -m immediate). */
export function clusterSettings(port: number, socketDir: string): string {
  return [
    '',
    '# leasehold test cluster',
    "listen_addresses = '127.0.0.1'",
    `port = ${port}`,
    `unix_socket_directories = '${socketDir.replace(/'/g, "''")}'`,
    'fsync = off',
    'full_page_writes = off',
    'max_connections = 300',
    "log_min_messages = 'warning'",
    '',
  ].join('\n');
}

/** Starts a cluster and waits until it accepts connections. */
export function startCluster(info: Pick<ClusterInfo, 'binDir' | 'runAs' | 'dataDir'>): void {
  runPgBinary(info, 'pg_ctl', ['start', '-D', info.dataDir, '-w', '-t', '60', '-l', path.join(info.dataDir, 'server.log')], { cwd: path.dirname(info.dataDir) });
}

/** Stops a cluster at once (`-m immediate`): fast, and what a crash looks like to clients. */
export function stopCluster(info: Pick<ClusterInfo, 'binDir' | 'runAs' | 'dataDir'>): void {
  runPgBinary(info, 'pg_ctl', ['stop', '-D', info.dataDir, '-m', 'immediate', '-w', '-t', '60'], { cwd: path.dirname(info.dataDir) });
}

/** True while a postmaster runs on the data directory. */
export function clusterRunning(info: Pick<ClusterInfo, 'binDir' | 'runAs' | 'dataDir'>): boolean {
  try {
    runPgBinary(info, 'pg_ctl', ['status', '-D', info.dataDir], { cwd: path.dirname(info.dataDir) });
    return true;
  } catch {
    return false;
  }
}

/** Copies a stopped data directory (the template) preserving owner and modes, as PostgreSQL requires. */
export function copyDataDir(from: string, to: string): void {
  execFileSync('cp', ['-a', from, to], { stdio: ['ignore', 'pipe', 'pipe'] });
}
