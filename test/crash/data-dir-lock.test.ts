// Issue 15 item 16: two servers on one data directory both started and diverged. The second now
// refuses to start with a clear message; the lock dies with the first process, SIGKILL included.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { call, freePort, startServerProcess, type ServerProcess } from '../helpers/process';

jest.setTimeout(60_000);

const ROOT = path.resolve(__dirname, '..', '..');

/** Runs `leasehold server --data dir` and waits for it to exit (or kills it after 15 s). */
function runToExit(dir: string, port: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'server', '--data', dir, '--listen', `127.0.0.1:${port}`], {
      cwd: ROOT,
      env: { ...process.env, LEASEHOLD_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', () => {});
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('one server per data directory', () => {
  let dir: string;
  let first: ServerProcess | undefined;
  let third: ServerProcess | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-lock-'));
  });
  afterEach(async () => {
    await first?.kill();
    await third?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a second server while the first runs, and starts a new one after the first is SIGKILLed', async () => {
    first = await startServerProcess(['--data', dir], await freePort());
    const init = await call(first.url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    expect(init.status).toBe(200);

    const secondPort = await freePort();
    const second = await runToExit(dir, secondPort);
    expect(second.code).not.toBe(0);
    expect(second.code).not.toBeNull();
    expect(second.stderr).toMatch(/data directory .* is in use by another leasehold server/);
    // The first server is unaffected.
    expect((await call(first.url, 'GET', 'sys/health')).status).toBe(503);

    await first.kill('SIGKILL');
    first = undefined;
    third = await startServerProcess(['--data', dir], await freePort());
    const health = await call(third.url, 'GET', 'sys/health');
    expect(health.body).toMatchObject({ initialized: true, sealed: true });
  });
});
