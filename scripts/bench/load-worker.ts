// Worker-thread body of load.ts: runs one autocannon load off the main thread, stoppable early, and posts the raw numbers back.
import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { LoadSpec, WorkerResult } from './load';

const spec = workerData as LoadSpec;
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
    const message: WorkerResult = {
      completed: result.requests.total,
      elapsedSeconds: result.duration,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
      latenciesMs,
    };
    parentPort?.postMessage(message);
  },
);
instance.on('response', (_client, _status, _bytes, responseTimeMs) => latenciesMs.push(responseTimeMs));
parentPort?.on('message', (message) => {
  if (message === 'stop') instance.stop();
});
