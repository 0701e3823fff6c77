// Scenario `snapshot`: KV read latency on a real server (data directory) with and without
// sys/storage/snapshot copies running back to back, and how long one copy of the store takes.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { withTempDir } from './cleanup';
import { runLoad } from './load';
import { startLeasehold, withServer } from './processes';
import { type Scenario, kvReadLoad } from './scenario';
import { formatMs, loadRow, median, type ResultRow } from './table';
import { initAndUnseal, ok, setUpKvReader } from './vault-api';

/** Bytes of each filler secret's value, and how many are written at once. */
const FILLER_VALUE_BYTES = 48 * 1024;
const FILL_CONCURRENCY = 8;

function snapshotMiB(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.BENCH_SNAPSHOT_MB ?? 64);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`BENCH_SNAPSHOT_MB must be a positive number, got "${env.BENCH_SNAPSHOT_MB}"`);
  return value;
}

/** Fills the store with about `mib` MiB of KV secrets (random, so SQLite's pages hold what they would in use). */
async function fill(url: string, token: string, mib: number): Promise<void> {
  const count = Math.ceil((mib * 1024 * 1024) / FILLER_VALUE_BYTES);
  let next = 0;
  const writer = async () => {
    for (let i = next++; i < count; i = next++) {
      await ok(url, 'POST', `secret/data/filler/${i}`, { token, body: { data: { value: randomBytes(FILLER_VALUE_BYTES * 0.75).toString('base64') } } });
    }
  };
  await Promise.all(Array.from({ length: FILL_CONCURRENCY }, writer));
}

/** Takes snapshots back to back until `seconds` have passed; returns each one's duration and the last one's size. */
async function snapshotsFor(url: string, token: string, seconds: number): Promise<{ durationsMs: number[]; bytes: number }> {
  const durationsMs: number[] = [];
  let bytes = 0;
  const endAt = performance.now() + seconds * 1000;
  while (performance.now() < endAt) {
    const startedAt = performance.now();
    const res = await fetch(`${url}/v1/sys/storage/snapshot`, { headers: { 'X-Vault-Token': token } });
    if (res.status !== 200) throw new Error(`sys/storage/snapshot answered ${res.status}`);
    bytes = (await res.arrayBuffer()).byteLength;
    durationsMs.push(performance.now() - startedAt);
  }
  return { durationsMs, bytes };
}

export const snapshotScenario: Scenario = {
  name: 'snapshot',
  summary: 'KV reads on a data-directory server with and without sys/storage/snapshot running back to back, and the time of one snapshot (BENCH_SNAPSHOT_MB of data)',
  run: (context) =>
    withTempDir('snapshot', (dir) =>
      withServer(startLeasehold(['--data', path.join(dir, 'data')]), async (server) => {
        const { settings } = context;
        const { rootToken } = await initAndUnseal(server.url);
        const reader = await setUpKvReader(server.url, rootToken);
        const mib = snapshotMiB();
        await fill(server.url, rootToken, mib);
        await runLoad({ ...kvReadLoad(server.url, reader, settings), durationSeconds: 1 });
        const quiet = await runLoad(kvReadLoad(server.url, reader, settings));
        const copies = snapshotsFor(server.url, rootToken, settings.seconds);
        const during = await runLoad({ ...kvReadLoad(server.url, reader, settings), durationSeconds: settings.seconds * 10 }, copies);
        const { durationsMs, bytes } = await copies;
        const rows: ResultRow[] = [
          loadRow('snapshot', 'KV v2 read, no snapshot running', quiet),
          loadRow('snapshot', 'KV v2 read, snapshots back to back', during, { note: `max ${formatMs(during.maxMs)} ms (quiet: ${formatMs(quiet.maxMs)} ms)` }),
          { scenario: 'snapshot', measurement: `one snapshot of ${(bytes / 1024 / 1024).toFixed(0)} MiB (under read load)`, p50Ms: median(durationsMs), note: `${durationsMs.length} taken` },
        ];
        return rows;
      }),
    ),
};
