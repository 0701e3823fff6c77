// Drives HTTP load with autocannon in a worker thread, so it never shares an event loop with a server running in the bench process.
import { Worker } from 'node:worker_threads';
import { type ChildServer, cpuSeconds, rssMiB } from './processes';
import { median } from './table';

/** One load run: what to request, how hard, for how long. */
export interface LoadSpec {
  /** Base URL, e.g. http://127.0.0.1:8200 */
  url: string;
  /** Path with query, e.g. /v1/secret/data/bench/app */
  path: string;
  method: 'GET' | 'POST' | 'PUT';
  headers: Record<string, string>;
  body?: string;
  connections: number;
  /** Upper bound; `runLoad`'s `until` may stop it earlier. */
  durationSeconds: number;
}

/** Raw counters of one load run (what the worker sends back; `summariseLoad` turns it into a LoadResult). */
export interface WorkerResult {
  completed: number;
  elapsedSeconds: number;
  errors: number;
  non2xx: number;
  latenciesMs: number[];
}

/** The numbers the tables print. */
export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Connection errors, timeouts and non-2xx answers: anything but a success. */
  failures: number;
  completed: number;
  elapsedSeconds: number;
}

// The worker is TypeScript: load tsx's CommonJS hook inside it (Node's worker does not inherit tsx from the CLI).
const WORKER_SOURCE = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(require.resolve('./load-worker.ts'))});`;

/** Percentile (nearest rank) of an ascending array. */
function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] as number;
}

/** Turns raw counters and latencies into the printed numbers (also used for load generated without autocannon). */
export function summariseLoad(raw: WorkerResult): LoadResult {
  const latencies = Array.from(Float64Array.from(raw.latenciesMs).sort());
  return {
    requestsPerSecond: raw.elapsedSeconds > 0 ? raw.completed / raw.elapsedSeconds : 0,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: latencies.length > 0 ? (latencies[latencies.length - 1] as number) : Number.NaN,
    failures: raw.errors + raw.non2xx,
    completed: raw.completed,
    elapsedSeconds: raw.elapsedSeconds,
  };
}

/**
 * Runs `spec` and summarises it. With `until`, the load stops as soon as that promise settles
 * (used to measure latency exactly while the sweep runs); otherwise it runs for `durationSeconds`.
 */
export async function runLoad(spec: LoadSpec, until?: Promise<unknown>): Promise<LoadResult> {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: spec });
  try {
    const raw = await new Promise<WorkerResult>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`load worker exited with code ${code} before reporting`)));
      const stop = () => worker.postMessage('stop');
      until?.then(stop, stop);
    });
    return summariseLoad(raw);
  } finally {
    await worker.terminate();
  }
}

/**
 * How long a server is driven before the measured run by default, so that its code is compiled and its
 * caches warm. Enough for thousands of fast requests; slow ones (a credential takes milliseconds) need longer.
 */
const WARM_UP_SECONDS = 1;

/** A load run against a child server, with what it cost the server. */
export interface ServerLoadResult extends LoadResult {
  /** The server's CPU time (user + system) per completed request, in milliseconds. */
  cpuMsPerRequest: number | undefined;
  rssMiB: number | undefined;
}

/**
 * Warms `server` up with the same requests for `warmUpSeconds` (default 1; 0 for none), then runs `spec`
 * and reads the server's CPU time and memory.
 */
export async function runServerLoad(server: ChildServer, spec: LoadSpec, options: { warmUpSeconds?: number } = {}): Promise<ServerLoadResult> {
  const warmUpSeconds = options.warmUpSeconds ?? WARM_UP_SECONDS;
  if (warmUpSeconds > 0) await runLoad({ ...spec, durationSeconds: warmUpSeconds });
  const cpuBefore = cpuSeconds(server.child.pid);
  const load = await runLoad(spec);
  const cpuAfter = cpuSeconds(server.child.pid);
  const cpuMsPerRequest = cpuBefore !== undefined && cpuAfter !== undefined && load.completed > 0 ? ((cpuAfter - cpuBefore) * 1000) / load.completed : undefined;
  return { ...load, cpuMsPerRequest, rssMiB: rssMiB(server.child.pid) };
}

/** The median of each figure over rounds (failures and counts are summed: any one failure matters). */
export function medianLoad(samples: LoadResult[]): LoadResult {
  const of = (pick: (s: LoadResult) => number) => median(samples.map(pick));
  return {
    requestsPerSecond: of((s) => s.requestsPerSecond),
    p50Ms: of((s) => s.p50Ms),
    p99Ms: of((s) => s.p99Ms),
    maxMs: Math.max(...samples.map((s) => s.maxMs)),
    failures: samples.reduce((sum, s) => sum + s.failures, 0),
    completed: samples.reduce((sum, s) => sum + s.completed, 0),
    elapsedSeconds: samples.reduce((sum, s) => sum + s.elapsedSeconds, 0),
  };
}

/** `medianLoad` plus the median of the server's CPU per request and memory. */
export function medianServerLoad(samples: ServerLoadResult[]): ServerLoadResult {
  return {
    ...medianLoad(samples),
    cpuMsPerRequest: median(samples.map((s) => s.cpuMsPerRequest ?? Number.NaN)),
    rssMiB: median(samples.map((s) => s.rssMiB ?? Number.NaN)),
  };
}

/**
 * Measures every target once per round, the order rotating each round, so that the machine's drift
 * (other tenants, frequency, a database filling up) lands on all of them alike. Returns samples[target][round];
 * take ratios within a round.
 */
export async function measureInRounds<T, R>(targets: readonly T[], rounds: number, measure: (target: T) => Promise<R>): Promise<R[][]> {
  const samples = targets.map(() => [] as R[]);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < targets.length; i++) {
      const index = (i + round) % targets.length;
      (samples[index] as R[]).push(await measure(targets[index] as T));
    }
  }
  return samples;
}

/** The median over rounds of `pick(ours) / pick(reference)`, each ratio taken within its round. */
export function medianRatio<A, B>(ours: readonly A[], reference: readonly B[], pickOurs: (s: A) => number | undefined, pickReference: (s: B) => number | undefined): number {
  return median(ours.map((s, round) => (pickOurs(s) ?? Number.NaN) / (pickReference(reference[round] as B) ?? Number.NaN)));
}
