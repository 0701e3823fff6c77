// Scenario `sweep`: in-process, 100k due leases revoked by expiration.sweep() while the same process serves KV reads over HTTP.
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Vault } from '../../src/core/vault';
import type { SqliteDatabase } from '../../src/storage/database';
import type { ManualClock } from '../../src/util/clock';
import { withTempDir } from './cleanup';
import { INSTANT_SECRET_TYPE, instantRevokeEngine } from './instant-engine';
import { runLoad } from './load';
import { compiledModules } from './processes';
import { type Scenario, kvReadLoad } from './scenario';
import { formatMs, formatRatio, loadRow } from './table';
import { ok, setUpKvReader } from './vault-api';

const LEASE_TTL_SECONDS = 60;
/** Leases registered concurrently per chunk while issuing. */
const ISSUE_CHUNK = 1000;
/** Upper bound on the sweep (and the read load that runs beside it). */
const MAX_SWEEP_SECONDS = 600;
/** Lets the read load open its connections before the sweep starts competing for the event loop. */
const LOAD_HEAD_START_MS = 250;

/** The clock moves this far between two issued leases: they expire one after another, as leases issued over time do. */
const ISSUE_SPACING_SECONDS = 0.001;

/**
 * Registers `count` leases on the instant mount, as the expiration manager would for an engine's secrets.
 * Each lease is issued a millisecond after the one before: with one shared expiry time the sweep
 * would revoke them in lease-id order, which flatters the table layout (ids end in random characters,
 * so real expiry order and id order are unrelated).
 * Each chunk is started inside one outer transaction: register() stores its row before its first await, so
 * the chunk commits once (its own transactions become savepoints). Should that change, it still works, slower.
 */
async function issueLeases(vault: Vault, db: SqliteDatabase, clock: ManualClock, mountUuid: string, count: number): Promise<void> {
  for (let issued = 0; issued < count; issued += ISSUE_CHUNK) {
    const startChunk = db.transaction(() =>
      Array.from({ length: Math.min(ISSUE_CHUNK, count - issued) }, (_, i) => {
        clock.advanceSeconds(ISSUE_SPACING_SECONDS);
        return vault.expiration.register({
          mountUuid,
          requestPath: 'creds/bench',
          secret: { type: INSTANT_SECRET_TYPE, internalData: { username: `bench-${issued + i}` }, ttlSeconds: LEASE_TTL_SECONDS, maxTtlSeconds: LEASE_TTL_SECONDS, renewable: false },
          requester: { identity: 'bench' },
        });
      }),
    );
    await Promise.all(startChunk());
  }
}

/** Calls sweep() back to back (no scheduler tick in between) until no lease is left unrevoked. */
async function sweepUntilDone(vault: Vault): Promise<{ seconds: number; calls: number; left: number }> {
  const startedAt = performance.now();
  let calls = 0;
  for (;;) {
    const processed = await vault.expiration.sweep();
    calls++;
    const left = vault.expiration.count('all').total;
    // Nothing processed yet leases left: they failed and wait for their backoff; report rather than spin.
    if (left === 0 || processed === 0) return { seconds: (performance.now() - startedAt) / 1000, calls, left };
  }
}

export const sweepScenario: Scenario = {
  name: 'sweep',
  summary: 'expiry sweep of many due leases (instant-revoke engine, in-process) and KV read latency beside it',
  run: (context) =>
    withTempDir('sweep', async (dir) => {
      const { settings } = context;
      const { Vault, builtinRegistry, createApp, messageClassesFor, createVaultHttpServer, createLogger, openDatabase, ManualClock } = compiledModules();
      const logger = createLogger({ level: 'silent' });
      const clock = new ManualClock(Date.now());
      const db = openDatabase(path.join(dir, 'leasehold.db'));
      // No scheduler: the bench drives the sweeps itself and times them.
      const vault = new Vault({ db, clock, logger, registry: { ...builtinRegistry(), instant: instantRevokeEngine }, scheduler: false });
      const app = createApp({ vault, logger });
      const server = createVaultHttpServer(app, messageClassesFor(app));
      try {
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const { keys, rootToken } = await vault.initialize(1, 1);
        await vault.seal.submitShare(Buffer.from(keys[0] as Uint8Array).toString('base64'));
        const token = await setUpKvReader(url, rootToken);
        await ok(url, 'POST', 'sys/mounts/instant', { token: rootToken, body: { type: 'instant' } });
        const mountUuid = vault.mounts.get('instant/')?.entry.uuid;
        if (!mountUuid) throw new Error('the instant engine did not mount');

        // Issuing is set-up, not the measurement (batched, see issueLeases); the sweep runs with the server's settings.
        const issueStartedAt = performance.now();
        await issueLeases(vault, db, clock, mountUuid, settings.sweepLeases);
        const issueSeconds = (performance.now() - issueStartedAt) / 1000;

        const idle = await runLoad(kvReadLoad(url, token, settings));
        // The clock stands at the last issue: one TTL more and every lease is due, the oldest first.
        clock.advanceSeconds(LEASE_TTL_SECONDS + 1);
        const sweepDone = new Promise((resolve) => setTimeout(resolve, LOAD_HEAD_START_MS)).then(() => sweepUntilDone(vault));
        const during = await runLoad({ ...kvReadLoad(url, token, settings), durationSeconds: MAX_SWEEP_SECONDS }, sweepDone);
        const sweep = await sweepDone;
        const revoked = settings.sweepLeases - sweep.left;
        return [
          {
            scenario: 'sweep',
            measurement: `revoke ${settings.sweepLeases.toLocaleString('en-US')} due leases`,
            // No RSS: the server shares the bench process, whose memory earlier scenarios have already shaped.
            note:
              `${Math.round(revoked / sweep.seconds).toLocaleString('en-US')} leases/s (${sweep.seconds.toFixed(1)} s, ${sweep.calls} sweep() call${sweep.calls === 1 ? '' : 's'}` +
              `${sweep.left > 0 ? `, ${sweep.left} left failing` : ''}); issued in ${issueSeconds.toFixed(1)} s`,
          },
          loadRow('sweep', 'KV read, idle (same process)', idle),
          loadRow('sweep', 'KV read, during the sweep', during, {
            note: `p99 ${formatRatio(during.p99Ms, idle.p99Ms)} idle; max ${formatMs(during.maxMs)} ms`,
          }),
        ];
      } finally {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await vault.seal.seal();
        db.close();
      }
    }),
};
