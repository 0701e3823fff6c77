// What every scenario shares: the settings (from BENCH_* env), the context passed between scenarios, and the KV read load they all compare.
import type { LoadSpec } from './load';
import type { ResultRow } from './table';
import { BENCH_SECRET_PATH } from './vault-api';

/** Knobs, all from the environment so `npm run bench` needs no flags. */
export interface BenchSettings {
  /** BENCH_SECONDS: length of each load run (default 5). */
  seconds: number;
  /** BENCH_CONNECTIONS: concurrent HTTP connections per load run (default 32). */
  connections: number;
  /** BENCH_STARTUP_LEASES: comma-separated lease counts for the start-up scenario (default 0,100000,1000000). */
  startupLeaseCounts: number[];
  /** BENCH_STARTUP_RUNS: start-ups per lease count; the median is printed (default 3). */
  startupRuns: number;
  /** BENCH_SWEEP_LEASES: leases made due at once in the sweep scenario (default 100000). */
  sweepLeases: number;
  /** BENCH_ROUNDS: alternating rounds of the KV and credentials comparisons; medians are printed (default 3). */
  rounds: number;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/** Reads the BENCH_* variables; a malformed one is an error rather than a silent default. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const counts = (env.BENCH_STARTUP_LEASES ?? '0,100000,1000000').split(',').map((s) => Number(s.trim()));
  if (counts.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`BENCH_STARTUP_LEASES must be comma-separated integers, got "${env.BENCH_STARTUP_LEASES}"`);
  return {
    seconds: positiveNumber(env, 'BENCH_SECONDS', 5),
    connections: Math.round(positiveNumber(env, 'BENCH_CONNECTIONS', 32)),
    startupLeaseCounts: [...new Set(counts)].sort((a, b) => a - b),
    startupRuns: Math.round(positiveNumber(env, 'BENCH_STARTUP_RUNS', 3)),
    sweepLeases: Math.round(positiveNumber(env, 'BENCH_SWEEP_LEASES', 100_000)),
    rounds: Math.round(positiveNumber(env, 'BENCH_ROUNDS', 3)),
  };
}

/** Passed to every scenario in order. */
export interface BenchContext {
  settings: BenchSettings;
}

/** One scenario: a name to select it by, and a run that returns its rows. */
export interface Scenario {
  name: string;
  summary: string;
  run(context: BenchContext): Promise<ResultRow[]>;
}

/** A GET of `apiPath` with a token, at the configured concurrency and duration. */
export function getLoad(url: string, apiPath: string, token: string, settings: BenchSettings): LoadSpec {
  return { url, path: `/v1/${apiPath}`, method: 'GET', headers: { 'X-Vault-Token': token }, connections: settings.connections, durationSeconds: settings.seconds };
}

/** The read every throughput comparison uses: GET the bench secret with the given token. */
export function kvReadLoad(url: string, token: string, settings: BenchSettings): LoadSpec {
  return getLoad(url, BENCH_SECRET_PATH, token, settings);
}

/** A POST of a JSON body (token creation, logins). */
export function jsonPostLoad(url: string, apiPath: string, body: unknown, settings: BenchSettings, token?: string): LoadSpec {
  return {
    url,
    path: `/v1/${apiPath}`,
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { 'X-Vault-Token': token } : {}) },
    body: JSON.stringify(body),
    connections: settings.connections,
    durationSeconds: settings.seconds,
  };
}
