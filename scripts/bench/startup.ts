// Scenario `startup`: time from spawning `leasehold server --data DIR` to health answering and unseal completing, and RSS, with 0 / 100k / 1M stored leases.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { withTempDir } from './cleanup';
import { rssMiB, startLeasehold, withServer } from './processes';
import type { Scenario } from './scenario';
import { formatMs, median, type ResultRow } from './table';
import { call, initAndUnseal, ok, unseal } from './vault-api';

/** Rows per insert transaction: keeps the bench's own memory flat while building 1M leases. */
const INSERT_BATCH = 50_000;
/** Token accessors the synthetic leases are spread over (the by-token index then looks like a real one). */
const SYNTHETIC_ACCESSORS = 1000;
/** How long after unseal the second RSS sample is taken: the scheduler's first lease sweep has run by then. */
const SETTLE_MS = 1500;
const DAY_MS = 86_400_000;
/** Gap between consecutive synthetic expiries: 1M leases spread over about 14 hours, starting 30 days out. */
const EXPIRY_SPACING_MS = 50;
/** SQLite page cache while building the lease table (KiB); freed when the build closes the database. */
const BUILD_CACHE_KIB = 512 * 1024;

/** The mount the synthetic leases belong to. */
interface LeaseMount {
  uuid: string;
  path: string;
}

/**
 * Inserts `count` active leases straight into the lease table, in batched transactions. Start-up
 * never reads a lease's payload, so a random 64-byte blob stands in for the barrier record a real
 * lease carries (such rows would fail to decrypt on revoke; fine for this measurement only).
 * Every lease expires 30+ days out, so no sweep touches them while the bench runs. Rows from an
 * earlier call stay: the table grows from 100k to 1M rather than being rebuilt.
 */
async function insertLeases(dbFile: string, mount: LeaseMount, count: number): Promise<number> {
  const startedAt = performance.now();
  const db = new Database(dbFile);
  try {
    // Bulk build: durability of these synthetic rows does not matter; the server reopens with its own settings.
    db.pragma('synchronous = OFF');
    // Seven B-trees grow at random places across batches; a large page cache keeps the build from thrashing the disk.
    db.pragma(`cache_size = -${BUILD_CACHE_KIB}`);
    const insert = db.prepare(`INSERT INTO leases (lease_id, mount_uuid, mount_path, request_path, secret_type, token_accessor, identity,
      issued_at, expire_at, max_expire_at, renewable, state, payload) VALUES (?, ?, ?, 'creds/bench', 'creds', ?, 'bench', ?, ?, ?, 1, 'active', ?)`);
    const accessors = Array.from({ length: SYNTHETIC_ACCESSORS }, () => randomBytes(18).toString('base64url'));
    const baseExpireAt = Date.now() + 30 * DAY_MS;
    let issued = 0;
    // Ids sorted within a batch and expiries rising with issue order (as real ones roughly do) keep B-tree inserts
    // local: about 1.5x faster than fully random keys, with the same schema and row count.
    const insertBatch = db.transaction((size: number) => {
      const nowMs = Date.now();
      const payloads = randomBytes(64 * size);
      const leaseIds = Array.from({ length: size }, () => `${mount.path}creds/bench/${randomBytes(18).toString('base64url')}`).sort();
      for (let i = 0; i < size; i++) {
        const expireAt = baseExpireAt + issued++ * EXPIRY_SPACING_MS;
        insert.run(leaseIds[i], mount.uuid, mount.path, accessors[i % SYNTHETIC_ACCESSORS], nowMs, expireAt, expireAt + DAY_MS, payloads.subarray(i * 64, (i + 1) * 64));
      }
    });
    for (let done = 0; done < count; done += INSERT_BATCH) {
      insertBatch(Math.min(INSERT_BATCH, count - done));
      // Between batches, let Ctrl-C reach the clean-up handlers.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    db.close();
  }
  return performance.now() - startedAt;
}

/** One cold start: spawn → health answers → unseal done, RSS at unseal and after settling. */
interface StartupSample {
  healthMs: number;
  unsealMs: number;
  rssAtUnsealMiB: number;
  rssSettledMiB: number;
}

async function measureStartup(dataDir: string, unsealKey: string): Promise<StartupSample> {
  return withServer(startLeasehold(['--data', dataDir]), async (server) => {
    const unsealStartedAt = performance.now();
    await unseal(server.url, unsealKey);
    const unsealMs = performance.now() - unsealStartedAt;
    const rssAtUnsealMiB = rssMiB(server.child.pid) ?? Number.NaN;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    return { healthMs: server.readyMs, unsealMs, rssAtUnsealMiB, rssSettledMiB: rssMiB(server.child.pid) ?? Number.NaN };
  });
}

/** Initialises the data dir over HTTP, mounts kv-v2 at bench/ (the leases' mount), and stops the server. */
async function buildDataDir(dataDir: string): Promise<{ unsealKey: string; rootToken: string; mount: LeaseMount }> {
  return withServer(startLeasehold(['--data', dataDir]), async (server) => {
    const { unsealKey, rootToken } = await initAndUnseal(server.url);
    await ok(server.url, 'POST', 'sys/mounts/bench', { token: rootToken, body: { type: 'kv-v2' } });
    const mounts = await ok(server.url, 'GET', 'sys/mounts', { token: rootToken });
    return { unsealKey, rootToken, mount: { uuid: mounts.data['bench/'].uuid as string, path: 'bench/' } };
  });
}

/** Asks a running server how many leases it sees, to be sure the synthetic rows are really there. */
async function countLeases(dataDir: string, unsealKey: string, rootToken: string): Promise<number> {
  return withServer(startLeasehold(['--data', dataDir]), async (server) => {
    await unseal(server.url, unsealKey);
    const res = await call(server.url, 'GET', 'sys/leases/count?type=active', { token: rootToken });
    return Number(res.body?.data?.lease_count ?? Number.NaN);
  });
}

export const startupScenario: Scenario = {
  name: 'startup',
  summary: 'spawn → health → unseal time and RSS with 0, 100k, 1M stored leases (goal: < 1 s, flat RSS)',
  run: (context) =>
    withTempDir('startup', async (dataDir) => {
      const { startupLeaseCounts, startupRuns } = context.settings;
      const { unsealKey, rootToken, mount } = await buildDataDir(dataDir);
      const dbFile = path.join(dataDir, 'leasehold.db');
      const rows: ResultRow[] = [];
      let stored = 0;
      for (const leaseCount of startupLeaseCounts) {
        const insertMs = leaseCount > stored ? await insertLeases(dbFile, mount, leaseCount - stored) : 0;
        stored = Math.max(stored, leaseCount);
        const samples: StartupSample[] = [];
        for (let run = 0; run < startupRuns; run++) samples.push(await measureStartup(dataDir, unsealKey));
        const healthMs = median(samples.map((s) => s.healthMs));
        const unsealMs = median(samples.map((s) => s.unsealMs));
        const seen = await countLeases(dataDir, unsealKey, rootToken);
        rows.push({
          scenario: 'startup',
          measurement: `${leaseCount.toLocaleString('en-US')} leases: spawn→unsealed ${formatMs(median(samples.map((s) => s.healthMs + s.unsealMs)))} ms`,
          rssMiB: median(samples.map((s) => s.rssAtUnsealMiB)),
          note:
            `health ${formatMs(healthMs)} + unseal ${formatMs(unsealMs)} ms (median of ${startupRuns}); ` +
            `RSS +${SETTLE_MS / 1000}s ${median(samples.map((s) => s.rssSettledMiB)).toFixed(0)} MiB; server counts ${seen.toLocaleString('en-US')} active` +
            (insertMs > 0 ? `; inserted in ${(insertMs / 1000).toFixed(1)} s` : ''),
        });
      }
      return rows;
    }),
};
