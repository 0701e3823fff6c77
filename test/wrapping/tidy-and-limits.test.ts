// Issue 15 item 3: response wrapping could freeze the server. The tidy listed and decrypted every
// stored wrap in one synchronous pass (100k wraps: sys/health took 3.6 s), and any token could hold
// any number of pending wraps. Now the tidy works by an expiry index in slices, yielding between
// them, and each token may hold a bounded number of pending wraps (server config).
import request from 'supertest';
import { loadVaultServerConfig } from '../../src/config/server-config';
import { applyVaultConfigFile } from '../../src/cli/commands/server-config-file';
import { parseServerConfig, resolveServerOptions } from '../../src/cli/commands/server';
import { startServer } from '../../src/server';
import { TokenStore } from '../../src/core/tokens';
import { DEFAULT_MAX_PENDING_WRAPS_PER_TOKEN, WrappingManager } from '../../src/core/wrapping/manager';
import { ManualClock } from '../../src/util/clock';
import { memoryStorage } from '../helpers/backend';
import { unsealedVault } from '../helpers/vault';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const envelope = (n: number) => ({ request_id: `r-${n}`, data: { value: `secret-${n}` } });

function setup(tidySliceSize = 100) {
  const store = memoryStorage();
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const tokens = new TokenStore({ db: store.db, barrier: store.barrier, clock });
  const storage = store.view('core/wrapping/');
  const manager = new WrappingManager({ db: store.db, tokens, storage, clock, tidySliceSize, maxPendingPerToken: 100_000 });
  const wrapMany = (count: number, ttlSeconds: number) =>
    store.db.transaction(() => Array.from({ length: count }, (_, i) => manager.wrap({ response: envelope(i), ttlSeconds, creationPath: 'sys/wrapping/wrap', creatorAccessor: 'creator' })))();
  return { store, clock, tokens, storage, manager, wrapMany };
}

describe('wrapping tidy', () => {
  it('never reads (decrypts) the wraps still pending: it finds the expired ones by index', async () => {
    const { manager, storage, clock, wrapMany } = setup();
    const pending = wrapMany(1000, 3600);
    const expired = wrapMany(10, 10);
    clock.advanceSeconds(11);
    const reads = jest.spyOn(storage, 'get');
    const readJson = jest.spyOn(storage, 'getJSON');
    const lists = jest.spyOn(storage, 'list');
    expect(await manager.tidy()).toBe(10);
    expect(reads.mock.calls.length + readJson.mock.calls.length + lists.mock.calls.length).toBe(0);
    for (const info of expired) expect(storage.get(info.accessor)).toBeUndefined();
    expect(manager.unwrap((pending[999] as { token: string }).token)).toEqual(envelope(999));
  });

  it('works in bounded slices and lets the event loop run between them', async () => {
    const { manager, clock, store, wrapMany } = setup(100);
    wrapMany(2000, 10);
    clock.advanceSeconds(11);
    // A ticker that can only run when the tidy yields (stopped whatever happens, so no loop outlives the test).
    let ticks = 0;
    let ticking = true;
    const tick = () => {
      ticks += 1;
      if (ticking && ticks < 100_000) setImmediate(tick);
    };
    setImmediate(tick);
    try {
      const tidied = manager.tidy();
      expect(tidied).toBeInstanceOf(Promise);
      expect(await tidied).toBe(2000);
    } finally {
      ticking = false;
    }
    // 2000 wraps in slices of 100: the loop ran between each pair of slices.
    expect(ticks).toBeGreaterThanOrEqual(19);
    expect((store.db.prepare("SELECT COUNT(*) AS n FROM entries WHERE path LIKE 'core/wrapping/%'").get() as { n: number }).n).toBe(0);
    expect((store.db.prepare('SELECT COUNT(*) AS n FROM tokens').get() as { n: number }).n).toBe(0);
  });

  it('a revoked wrapping token is tidied at the next run, and a limit stops the run early', async () => {
    const { manager, tokens, storage, wrapMany } = setup();
    const infos = wrapMany(5, 3600);
    for (const info of infos.slice(0, 3)) tokens.revokeTree(info.accessor);
    expect(await manager.tidy(2)).toBe(2);
    expect(await manager.tidy()).toBe(1);
    for (const info of infos.slice(0, 3)) expect(storage.get(info.accessor)).toBeUndefined();
    expect(manager.unwrap((infos[4] as { token: string }).token)).toEqual(envelope(4));
  });

  it('indexes wraps stored before the index existed (migration 010) at the first tidy', async () => {
    const { manager, store, clock, storage, wrapMany } = setup();
    const live = wrapMany(3, 3600);
    const old = wrapMany(2, 10);
    // What migration 010 leaves for wraps it found: due at time 0, creator unknown.
    store.db.prepare("UPDATE wrapping_index SET expire_at = 0, creator = ''").run();
    clock.advanceSeconds(11);
    expect(await manager.tidy()).toBe(2);
    for (const info of old) expect(storage.get(info.accessor)).toBeUndefined();
    const rows = store.db.prepare('SELECT creator, expire_at FROM wrapping_index ORDER BY accessor').all() as { creator: string; expire_at: number }[];
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toEqual({ creator: 'creator', expire_at: Date.UTC(2026, 0, 1) + 3600 * 1000 });
    // Re-indexed, they are not read again until they are due.
    const readJson = jest.spyOn(storage, 'getJSON');
    expect(await manager.tidy()).toBe(0);
    expect(readJson).not.toHaveBeenCalled();
    expect(manager.unwrap((live[0] as { token: string }).token)).toEqual(envelope(0));
  });

  it('the migration indexes every wrap already stored', () => {
    const { store } = setup();
    const sql = fs.readFileSync(path.join(__dirname, '../../migrations/010_wrapping_index.sql'), 'utf8');
    store.db.exec('DROP TABLE wrapping_index');
    store.db.prepare("INSERT INTO entries (path, value) VALUES ('core/wrapping/acc1', x'00'), ('core/wrapping/acc2', x'00'), ('core/wrappingX', x'00'), ('logical/x', x'00')").run();
    store.db.exec(sql);
    expect(store.db.prepare('SELECT accessor, creator, expire_at FROM wrapping_index ORDER BY accessor').all()).toEqual([
      { accessor: 'acc1', creator: '', expire_at: 0 },
      { accessor: 'acc2', creator: '', expire_at: 0 },
    ]);
  });
});

describe('pending wraps per token', () => {
  const wrap = (app: Parameters<typeof request>[0], token: string, body: Record<string, unknown> = { v: 1 }) =>
    request(app).post('/v1/sys/wrapping/wrap').set({ 'X-Vault-Token': token, 'X-Vault-Wrap-TTL': '1h' }).send(body);

  async function withLimit(max: number) {
    const built = await unsealedVault({ wrapping: { maxPendingPerToken: max } });
    const { app, rootToken } = built;
    const child = async () => {
      const res = await request(app).post('/v1/auth/token/create').set('X-Vault-Token', rootToken).send({ policies: ['default'] });
      expect(res.status).toBe(200);
      return res.body.auth.client_token as string;
    };
    return { ...built, child };
  }

  it('refuses a wrap beyond the limit with a clear 400; unwrapping or revoking one frees a slot', async () => {
    const { app, rootToken, child } = await withLimit(3);
    const token = await child();
    const infos = [];
    for (let i = 0; i < 3; i++) {
      const res = await wrap(app, token);
      expect(res.status).toBe(200);
      infos.push(res.body.wrap_info as { token: string; accessor: string });
    }
    const refused = await wrap(app, token);
    expect(refused.status).toBe(400);
    expect(refused.body.errors.join(' ')).toMatch(/already has 3 pending response-wrapping tokens/);
    expect(refused.body.errors.join(' ')).not.toContain(token);
    // Another token has its own allowance.
    expect((await wrap(app, await child())).status).toBe(200);

    // Unwrapping one frees its slot.
    const unwrapped = await request(app).post('/v1/sys/wrapping/unwrap').set('X-Vault-Token', infos[0]?.token as string).send({});
    expect(unwrapped.status).toBe(200);
    expect(unwrapped.body.data).toEqual({ v: 1 });
    expect((await wrap(app, token)).status).toBe(200);
    expect((await wrap(app, token)).status).toBe(400);

    // Revoking a wrapping token frees its slot at once (no tidy has run).
    const revoked = await request(app).post('/v1/auth/token/revoke-accessor').set('X-Vault-Token', rootToken).send({ accessor: infos[1]?.accessor });
    expect(revoked.status).toBe(204);
    expect((await wrap(app, token)).status).toBe(200);
    expect((await wrap(app, token)).status).toBe(400);
  });

  it('an expired wrap no longer counts, even before the tidy', async () => {
    const { app, child } = await withLimit(2);
    const token = await child();
    const short = () => request(app).post('/v1/sys/wrapping/wrap').set({ 'X-Vault-Token': token, 'X-Vault-Wrap-TTL': '1s' }).send({ v: 1 });
    expect((await short()).status).toBe(200);
    expect((await short()).status).toBe(200);
    expect((await short()).status).toBe(400);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await short()).status).toBe(200);
  });

  it('refuses before the request runs: a wrapped token create at the limit creates no token', async () => {
    const { app, rootToken, db } = await withLimit(1);
    const countTokens = () => (db.prepare('SELECT COUNT(*) AS n FROM tokens').get() as { n: number }).n;
    expect((await wrap(app, rootToken)).status).toBe(200);
    const before = countTokens();
    const res = await request(app).post('/v1/auth/token/create').set({ 'X-Vault-Token': rootToken, 'X-Vault-Wrap-TTL': '5m' }).send({ policies: ['default'] });
    expect(res.status).toBe(400);
    expect(countTokens()).toBe(before);
  });

  it('defaults to 1000 and is set by max_pending_wraps_per_token in either config format', () => {
    expect(DEFAULT_MAX_PENDING_WRAPS_PER_TOKEN).toBe(1000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-wraps-'));
    try {
      const file = path.join(dir, 'server.hcl');
      fs.writeFileSync(file, 'storage "sqlite" { path = "/tmp/x" }\nmax_pending_wraps_per_token = 25\n');
      expect(loadVaultServerConfig(file).maxPendingWrapsPerToken).toBe(25);
      expect(applyVaultConfigFile(file, {}, {}).options.maxPendingWrapsPerToken).toBe(25);
      fs.writeFileSync(file, 'max_pending_wraps_per_token = 0\n');
      expect(() => loadVaultServerConfig(file)).toThrow(/max_pending_wraps_per_token/);
      fs.writeFileSync(file, 'max_pending_wraps_per_token = "many"\n');
      expect(() => loadVaultServerConfig(file)).toThrow(/max_pending_wraps_per_token/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(resolveServerOptions({}, parseServerConfig(JSON.stringify({ max_pending_wraps_per_token: 7 }), 'c.json'))).toMatchObject({ maxPendingWrapsPerToken: 7 });
    expect(() => parseServerConfig(JSON.stringify({ max_pending_wraps_per_token: -1 }), 'c.json')).toThrow(/max_pending_wraps_per_token/);
  });

  it('the server option reaches the running vault', async () => {
    const server = await startServer({ dev: true, listen: '127.0.0.1:0', logLevel: 'silent', maxPendingWrapsPerToken: 2 });
    try {
      expect(server.vault.wrapping.maxPendingPerToken).toBe(2);
      const wrapOnce = () => fetch(`${server.url}/v1/sys/wrapping/wrap`, { method: 'POST', headers: { 'X-Vault-Token': server.rootToken as string, 'X-Vault-Wrap-TTL': '1h' }, body: '{"v":1}' });
      expect((await wrapOnce()).status).toBe(200);
      expect((await wrapOnce()).status).toBe(200);
      expect((await wrapOnce()).status).toBe(400);
    } finally {
      await server.close();
    }
  });
});
