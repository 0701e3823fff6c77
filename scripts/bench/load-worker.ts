// Worker-thread body of load.ts: runs one autocannon load off the main thread, stoppable early, and posts the raw numbers back.
import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { LoadSpec, WorkerResult } from './load';

const spec = workerData as LoadSpec;

/**
 * Off the main thread autocannon hands back its per-worker result (encoded histograms, raw
 * counters), not the aggregated `Result` its types describe; these are the counters used.
 */
interface RawWorkerResult {
  totalCompletedRequests: number;
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}
// Exact latencies (autocannon's own histogram keeps whole milliseconds, too coarse for sub-millisecond p50s).
const latenciesMs: number[] = [];

const instance = autocannon(
  {
    url: `${spec.url}${spec.path}`,
    method: spec.method,
    headers: spec.headers,
    body: spec.body,
    connections: spec.connections,
    duration: spec.durationSeconds,
  },
  (error, result) => {
    if (error) throw error;
    const raw = result as unknown as RawWorkerResult;
    const message: WorkerResult = {
      completed: raw.totalCompletedRequests,
      elapsedSeconds: raw.duration,
      errors: raw.errors + raw.timeouts,
      non2xx: raw.non2xx,
      latenciesMs,
    };
    parentPort?.postMessage(message);
  },
);
instance.on('response', (_client, _status, _bytes, responseTimeMs) => latenciesMs.push(responseTimeMs));
parentPort?.on('message', (message) => {
  if (message === 'stop') instance.stop();
});
