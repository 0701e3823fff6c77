// Scenario `wrapping`: in-process, sys/health latency over HTTP while the wrapping tidy runs with 100k
// pending wraps (issue 15 item 3: it used to list and decrypt them all, freezing the server), beside the
// same load with no wraps at all, and while the tidy deletes 100k expired wraps.
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { withTempDir } from './cleanup';
import { type LoadSpec, runLoad } from './load';
import { compiledModules } from './processes';
import type { BenchSettings, Scenario } from './scenario';
import { formatMs, formatRatio, loadRow } from './table';

const WRAPS = 100_000;
const WRAP_TTL_SECONDS = 3600;
/** Wraps created per transaction while setting up (set-up, not the measurement). */
const CHUNK = 1000;
/** How often the tidy is started while 100k wraps are pending (each run finds nothing due and returns). */
const PENDING_TIDY_EVERY_MS = 50;
const TARGET_P99_MS = 50;
/** Tokens the wraps are made for: 100k wraps at the default limit of 1000 pending per token. */
const CREATORS = 100;

function healthLoad(url: string, settings: BenchSettings): LoadSpec {
  return { url, path: '/v1/sys/health', method: 'GET', headers: {}, connections: settings.connections, durationSeconds: settings.seconds };
}

export const wrappingScenario: Scenario = {
  name: 'wrapping',
  summary: `sys/health p99 during the wrapping tidy with ${WRAPS / 1000}k pending wraps, and while it deletes ${WRAPS / 1000}k expired ones, vs no wraps (in-process)`,
  run: (context) =>
    withTempDir('wrapping', async (dir) => {
      const { settings } = context;
      const { Vault, builtinRegistry, createApp, messageClassesFor, createVaultHttpServer, createLogger, openDatabase, ManualClock } = compiledModules();
      const logger = createLogger({ level: 'silent' });
      const clock = new ManualClock(Date.now());
      const db = openDatabase(path.join(dir, 'leasehold.db'));
      // No scheduler: the bench runs the tidy itself. Default limits: the wraps come from CREATORS tokens.
      const vault = new Vault({ db, clock, logger, registry: builtinRegistry(), scheduler: false });
      const app = createApp({ vault, logger });
      const server = createVaultHttpServer(app, messageClassesFor(app));
      try {
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const { keys } = await vault.initialize(1, 1);
        await vault.seal.submitShare(Buffer.from(keys[0] as Uint8Array).toString('base64'));

        const reference = await runLoad(healthLoad(url, settings));

        const wrapStartedAt = performance.now();
        for (let made = 0; made < WRAPS; made += CHUNK) {
          db.transaction(() => {
            for (let i = 0; i < CHUNK; i++) {
              vault.wrapping.wrap({ response: { request_id: `bench-${made + i}`, data: { password: `pw-${made + i}` } }, ttlSeconds: WRAP_TTL_SECONDS, creationPath: 'sys/wrapping/wrap', creatorAccessor: `bench-${(made + i) % CREATORS}` });
            }
          })();
        }
        const wrapSeconds = (performance.now() - wrapStartedAt) / 1000;

        // 100k pending: the tidy runs again and again through the load (it used to take seconds each time).
        const tidyTimes: number[] = [];
        let stop = false;
        const tidyLoop = (async () => {
          while (!stop) {
            const startedAt = performance.now();
            await vault.wrapping.tidy();
            tidyTimes.push(performance.now() - startedAt);
            await new Promise((resolve) => setTimeout(resolve, PENDING_TIDY_EVERY_MS));
          }
        })();
        const pending = await runLoad(healthLoad(url, settings));
        stop = true;
        await tidyLoop;

        // Every wrap expired at once: the tidy deletes all 100k, in slices.
        clock.advanceSeconds(WRAP_TTL_SECONDS + 1);
        const tidyStartedAt = performance.now();
        let deleted = 0;
        const tidyDone = new Promise((resolve) => setTimeout(resolve, 250)).then(async () => {
          deleted = await vault.wrapping.tidy();
        });
        const expiring = await runLoad({ ...healthLoad(url, settings), durationSeconds: 600 }, tidyDone);
        await tidyDone;
        const tidySeconds = (performance.now() - tidyStartedAt - 250) / 1000;

        const verdict = (p99: number) => `p99 ${formatRatio(p99, reference.p99Ms)} the reference; target < ${TARGET_P99_MS} ms: ${p99 < TARGET_P99_MS ? 'met' : 'NOT met'}`;
        const worstTidy = Math.max(...tidyTimes);
        return [
          loadRow('wrapping', 'sys/health, no wraps (reference)', reference),
          loadRow('wrapping', `sys/health, ${WRAPS / 1000}k pending wraps, tidy every ${PENDING_TIDY_EVERY_MS} ms`, pending, {
            note: `${verdict(pending.p99Ms)}; ${tidyTimes.length} tidy runs, worst ${formatMs(worstTidy)} ms; wraps made in ${wrapSeconds.toFixed(1)} s`,
          }),
          loadRow('wrapping', `sys/health, tidy deleting ${WRAPS / 1000}k expired wraps`, expiring, {
            note: `${verdict(expiring.p99Ms)}; max ${formatMs(expiring.maxMs)} ms; ${deleted.toLocaleString('en-US')} deleted in ${tidySeconds.toFixed(1)} s`,
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
