// Revocation survives SIGKILL: a revoked token stays revoked, and a lease whose backend revoke
// ran but whose row was never updated is revoked again on restart, without error.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { call, freePort, startServerProcess, type ServerProcess } from '../helpers/process';

jest.setTimeout(60_000);

async function initAndUnseal(url: string): Promise<{ key: string; rootToken: string }> {
  const init = await call(url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
  const key = init.body?.keys[0] as string;
  await call(url, 'PUT', 'sys/unseal', { body: { key } });
  return { key, rootToken: init.body?.root_token as string };
}

describe('revocation across SIGKILL', () => {
  let dir: string;
  let server: ServerProcess | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-revoke-'));
  });
  afterEach(async () => {
    await server?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a revoked token stays revoked after SIGKILL right after the response', async () => {
    const port = await freePort();
    server = await startServerProcess(['--data', dir], port);
    const { key, rootToken } = await initAndUnseal(server.url);
    const created = await call(server.url, 'POST', 'auth/token/create', { token: rootToken, body: { policies: ['default'] } });
    const token = created.body?.auth.client_token as string;
    expect((await call(server.url, 'GET', 'auth/token/lookup-self', { token })).status).toBe(200);
    expect((await call(server.url, 'POST', 'auth/token/revoke', { token: rootToken, body: { token } })).status).toBe(204);
    await server.kill('SIGKILL');

    server = await startServerProcess(['--data', dir], port);
    await call(server.url, 'PUT', 'sys/unseal', { body: { key } });
    expect((await call(server.url, 'GET', 'auth/token/lookup-self', { token })).status).toBe(403);
    expect((await call(server.url, 'GET', 'auth/token/lookup-self', { token: rootToken })).status).toBe(200);
  });

  it('a lease killed between backend revoke and row update is revoked again on restart', async () => {
    const port = await freePort();
    const leaseLog = path.join(dir, 'revoked.log');
    fs.writeFileSync(leaseLog, '');
    const fixture = path.resolve(__dirname, '..', 'fixtures', 'lease-crash-server.ts');
    const start = (crash: boolean) => {
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, path.join(dir, 'data'), `127.0.0.1:${port}`], {
        env: { ...process.env, LEASE_LOG: leaseLog, CRASH_ON_REVOKE: crash ? '1' : '0', LEASEHOLD_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      return child;
    };
    const waitHealthy = async () => {
      for (let i = 0; i < 200; i++) {
        try {
          await fetch(`http://127.0.0.1:${port}/v1/sys/health`);
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      throw new Error('fixture server did not start');
    };
    const url = `http://127.0.0.1:${port}`;

    const first = start(true);
    const firstExit = new Promise<NodeJS.Signals | null>((resolve) => first.once('exit', (_code, signal) => resolve(signal)));
    await waitHealthy();
    const { key, rootToken } = await initAndUnseal(url);
    expect((await call(url, 'POST', 'sys/mounts/crash', { token: rootToken, body: { type: 'crash-leases' } })).status).toBe(204);
    const issued = await call(url, 'GET', 'crash/creds/db', { token: rootToken });
    const leaseId = issued.body?.lease_id as string;
    const username = issued.body?.data.username as string;
    // The 1 s lease expires; the scheduler's revoke kills the process after the backend call.
    expect(await firstExit).toBe('SIGKILL');
    expect(fs.readFileSync(leaseLog, 'utf8').trim().split('\n')).toEqual([username]);

    const second = start(false);
    try {
      await waitHealthy();
      await call(url, 'PUT', 'sys/unseal', { body: { key } });
      const deadline = Date.now() + 10_000;
      let lookup = await call(url, 'PUT', 'sys/leases/lookup', { token: rootToken, body: { lease_id: leaseId } });
      while (lookup.status === 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        lookup = await call(url, 'PUT', 'sys/leases/lookup', { token: rootToken, body: { lease_id: leaseId } });
      }
      // Revoked now (lookup of a revoked lease is a 400), the backend was called a second time, idempotently.
      expect(lookup.status).toBe(400);
      expect(fs.readFileSync(leaseLog, 'utf8').trim().split('\n')).toEqual([username, username]);
      const events = await call(url, 'PUT', 'sys/leases/events', { token: rootToken, body: { lease_id: leaseId } });
      expect(events.body?.data.events.map((e: { event: string }) => e.event)).toEqual(['issued', 'expired']);
      expect((await call(url, 'GET', 'sys/leases/count?type=irrevocable', { token: rootToken })).body?.data.lease_count).toBe(0);
    } finally {
      second.kill('SIGKILL');
    }
  });
});
