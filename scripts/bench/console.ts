// Scenario `console`: how fast the web console's pages are interactive in Debian's headless Chromium
// (playwright-core), against an in-process vault holding 10k live leases and 1k KV keys, beside a
// reference page (static HTML, no script) from a bare node:http server in the same run. Each figure
// is the median of fresh browser contexts: navigation start to the page's content on screen (each a full
// page load, as a bookmark or a reload would be).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { Vault } from '../../src/core/vault';
import { builtinRegistry } from '../../src/engines/registry';
import { createApp } from '../../src/http/app';
import { CONSOLE_DIR } from '../../src/http/console';
import { createVaultHttpServer } from '../../src/http/list-method';
import { messageClassesFor } from '../../src/http/message-classes';
import { createLogger } from '../../src/logger';
import { openDatabase } from '../../src/storage/database';
import { systemClock } from '../../src/util/clock';
import { buildLeasehold } from './processes';
import { INSTANT_SECRET_TYPE, instantRevokeEngine } from './instant-engine';
import type { Scenario } from './scenario';
import { formatMs, median } from './table';

const LEASES = 10_000;
const KV_KEYS = 1_000;
const RUNS = 7;
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

async function listenOn(server: ReturnType<typeof createServer>): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export const consoleScenario: Scenario = {
  name: 'console',
  summary: `console pages interactive in headless Chromium, ${LEASES / 1000}k leases and ${KV_KEYS / 1000}k KV keys, vs a static page (median of ${RUNS})`,
  async run() {
    buildLeasehold(); // dist/console comes with the build
    const logger = createLogger({ level: 'silent' });
    const vault = new Vault({ db: openDatabase(':memory:'), clock: systemClock, logger, registry: { ...builtinRegistry(), instant: instantRevokeEngine }, scheduler: false });
    const { keys } = await vault.initialize(1, 1);
    await vault.seal.submitShare(Buffer.from(keys[0] as Uint8Array).toString('hex'));
    const root = vault.createRootToken();
    const call = (operation: 'write' | 'read', path: string, data: Record<string, unknown> = {}) => vault.handle({ operation, path, data, token: root, clientAddress: '127.0.0.1' });
    await call('write', 'sys/mounts/secret', { type: 'kv', options: { version: '2' } });
    await call('write', 'sys/mounts/instant', { type: 'instant' });
    for (let i = 0; i < KV_KEYS; i++) await call('write', `secret/data/app/key-${i}`, { data: { v: String(i) } });
    const mount = vault.mounts.get('instant/');
    if (!mount) throw new Error('instant mount missing');
    for (let issued = 0; issued < LEASES; issued += 1000) {
      await Promise.all(
        vault.deps.db.transaction(() =>
          Array.from({ length: 1000 }, (_, i) =>
            vault.expiration.register({
              mountUuid: mount.entry.uuid,
              requestPath: 'creds/bench',
              secret: { type: INSTANT_SECRET_TYPE, internalData: { username: `bench-${issued + i}` }, ttlSeconds: 3600, maxTtlSeconds: 3600, renewable: false },
              requester: { owner: 'team-bench' },
            }),
          ),
        )(),
      );
    }
    const app = createApp({ vault, logger, console: CONSOLE_DIR });
    const server = createVaultHttpServer(app, messageClassesFor(app));
    const url = await listenOn(server);
    const reference = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>ref</title><h1>Reference</h1><p>static</p>'));
    const refUrl = await listenOn(reference);
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
    const timings: Record<string, number[]> = { reference: [], signIn: [], overview: [], leases: [], secrets: [] };
    try {
      for (let run = 0; run < RUNS; run++) {
        const context = await browser.newContext();
        const page = await context.newPage();
        const timed = async (key: string, go: () => Promise<unknown>, ready: () => Promise<unknown>) => {
          const startedAt = performance.now();
          await go();
          await ready();
          timings[key]?.push(performance.now() - startedAt);
        };
        await timed('reference', () => page.goto(refUrl), () => page.getByRole('heading', { name: 'Reference' }).waitFor());
        await timed('signIn', () => page.goto(`${url}/ui/`), () => page.getByLabel('Token').waitFor());
        await page.evaluate(`sessionStorage.setItem('leasehold.token', ${JSON.stringify(root)})`);
        await timed('overview', () => page.goto(`${url}/ui/?page=overview#/overview`), () => page.locator('.card', { hasText: 'Live leases' }).locator('.card-value', { hasText: /\d/ }).waitFor());
        await timed('leases', () => page.goto(`${url}/ui/?page=leases#/leases`), () => page.locator('tr[data-lease-id]').first().waitFor());
        await timed('secrets', () => page.goto(`${url}/ui/?page=secrets#/secrets/secret/app/`), () => page.getByRole('link', { name: 'key-999' }).waitFor());
        await context.close();
      }
    } finally {
      await browser.close();
      server.close();
      reference.close();
    }
    const row = (key: string, measurement: string) => {
      const t = timings[key] as number[];
      return { scenario: 'console', measurement, p50Ms: median(t), note: `median ${formatMs(median(t))}, worst ${formatMs(Math.max(...t))}${key === 'reference' ? '' : `; ${(median(t) / median(timings.reference as number[])).toFixed(1)}x the reference`}` };
    };
    return [
      row('reference', 'reference: static HTML page, bare node:http'),
      row('signIn', 'console sign-in page interactive'),
      row('overview', `overview with live counts (${LEASES} leases)`),
      row('leases', `leases page, first 100 of ${LEASES}`),
      row('secrets', `KV folder of ${KV_KEYS} keys listed`),
    ];
  },
};
