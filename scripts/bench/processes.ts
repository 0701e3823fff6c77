// Starts and stops the bench's child processes (the Leasehold server, the reference servers) and reads their memory and CPU time.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { trackChild } from './cleanup';
import { freePort } from '../../test/helpers/process';

/** The repository root (scripts/bench/ is two levels down). */
export const ROOT = path.resolve(__dirname, '..', '..');

/** How long a child may take to answer its first HTTP request. */
const START_TIMEOUT_MS = 30_000;
/** How much of a child's stderr is kept for error messages. */
const STDERR_TAIL_BYTES = 8192;

/** A child HTTP server and its base URL. */
export interface ChildServer {
  url: string;
  child: ChildProcess;
  /** Milliseconds from spawn until the first HTTP answer (any status). */
  readyMs: number;
  stderrTail(): string;
}

/** A free TCP port on 127.0.0.1 (there is a small race until the child binds it; fine for a bench). */
export { freePort };

/** The text of /proc/<pid>/<name>, or undefined if there is no such process (or no /proc). */
function procFile(pid: number | undefined, name: 'status' | 'stat'): string | undefined {
  if (pid === undefined) return undefined;
  try {
    return fs.readFileSync(`/proc/${pid}/${name}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** Resident set size of a process in MiB, from /proc/<pid>/status (VmRSS); undefined if it is gone. */
export function rssMiB(pid: number | undefined): number | undefined {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(procFile(pid, 'status') ?? '');
  return match ? Number(match[1]) / 1024 : undefined;
}

/** Linux's USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every common kernel). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) a process has used, from /proc/<pid>/stat; undefined if it is gone.
 * Per request it is a steadier figure than req/s on a shared machine: it does not move with what
 * else competes for the cores.
 */
export function cpuSeconds(pid: number | undefined): number | undefined {
  const stat = procFile(pid, 'stat');
  if (stat === undefined) return undefined;
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the whole line.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Spawns `node <script> ...args` (compiled JavaScript, see `startLeasehold` and `compileBenchScript`)
 * from the repository root and waits until `url` answers any HTTP request (like test/helpers/process.ts).
 * Throws with the child's stderr if it dies.
 */
export async function startNodeServer(script: string, args: string[], port: number, env: Record<string, string> = {}): Promise<ChildServer> {
  const startedAt = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, LEASEHOLD_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-STDERR_TAIL_BYTES);
  });
  child.stdout?.resume();
  const server: ChildServer = { url: `http://127.0.0.1:${port}`, child, readyMs: 0, stderrTail: () => stderr };
  try {
    await waitForHttp(server.url, child);
  } catch (error) {
    await stopChild(child);
    throw new Error(`${script} ${args.join(' ')}: ${(error as Error).message}\n${stderr}`);
  }
  server.readyMs = performance.now() - startedAt;
  return server;
}

/**
 * `leasehold server <args> --listen 127.0.0.1:<port>` as a child process, compiled from dist/ as
 * `npm start` and the Docker image run it. Run from the TypeScript sources through tsx's on-the-fly
 * transform, the same server used 7-10% more CPU per KV read, so every scenario measures the build
 * production runs.
 */
export async function startLeasehold(args: string[]): Promise<ChildServer> {
  buildLeasehold();
  const port = await freePort();
  return startNodeServer('dist/cli/main.js', ['server', ...args, '--listen', `127.0.0.1:${port}`], port);
}

const TSC = require.resolve('typescript/bin/tsc');
let built = false;

/** Compiles src/ to dist/ (`npm run build`) once per bench run, so the servers started run this checkout, not an old build. */
export function buildLeasehold(): void {
  if (built) return;
  execFileSync(process.execPath, [TSC, '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
  built = true;
}

/** Where bench scripts that run as servers are compiled to (with what they import from src/): inside node_modules, so their imports resolve as from the repository. */
const SCRIPT_BUILD_DIR = path.join(ROOT, 'node_modules', '.cache', 'leasehold-bench');
const compiledScripts = new Map<string, string>();

/**
 * Compiles a bench script under scripts/ (a reference server) to JavaScript once per run and returns
 * the compiled file, relative to the repository root. The references run on plain node like the
 * compiled Leasehold they are compared with: under tsx a reference also used ~7% more CPU per read.
 */
export function compileBenchScript(script: string): string {
  const known = compiledScripts.get(script);
  if (known) return known;
  const options = ['--target', 'ES2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--esModuleInterop', '--skipLibCheck', '--types', 'node'];
  execFileSync(process.execPath, [TSC, ...options, '--rootDir', ROOT, '--outDir', SCRIPT_BUILD_DIR, path.join(ROOT, script)], { cwd: ROOT, stdio: 'inherit' });
  const compiled = path.relative(ROOT, path.join(SCRIPT_BUILD_DIR, script.replace(/\.ts$/, '.js')));
  compiledScripts.set(script, compiled);
  return compiled;
}

/** Polls `url` every 10 ms until it answers; the short interval keeps the start-up measurement honest. */
async function waitForHttp(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited early (${child.exitCode ?? child.signalCode})`);
    try {
      await (await fetch(`${url}/v1/sys/health`)).arrayBuffer();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`did not answer within ${START_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** Stops a child: `signal` first (SIGTERM lets the server close its database), SIGKILL if it lingers. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

/** Runs `fn` with a started server and always stops the server afterwards. */
export async function withServer<T>(start: Promise<ChildServer>, fn: (server: ChildServer) => Promise<T>): Promise<T> {
  const server = await start;
  try {
    return await fn(server);
  } finally {
    await stopChild(server.child);
  }
}

/**
 * The modules the in-process server is built from, compiled (dist/), as production runs them and as
 * the other scenarios start the server, rather than through the bench's own tsx transform.
 */
export function compiledModules() {
  buildLeasehold();
  const load = <T>(module: string): T => require(path.join(ROOT, 'dist', module)) as T;
  return {
    Vault: load<typeof import('../../src/core/vault')>('core/vault.js').Vault,
    builtinRegistry: load<typeof import('../../src/engines/registry')>('engines/registry.js').builtinRegistry,
    createApp: load<typeof import('../../src/http/app')>('http/app.js').createApp,
    messageClassesFor: load<typeof import('../../src/http/message-classes')>('http/message-classes.js').messageClassesFor,
    createVaultHttpServer: load<typeof import('../../src/http/list-method')>('http/list-method.js').createVaultHttpServer,
    createLogger: load<typeof import('../../src/logger')>('logger.js').createLogger,
    openDatabase: load<typeof import('../../src/storage/database')>('storage/database.js').openDatabase,
    ManualClock: load<typeof import('../../src/util/clock')>('util/clock.js').ManualClock,
  };
}
