// `leasehold operator rekey` and `operator generate-root` as child processes against a real server
// on a data directory: 3-of-5 becomes 2-of-3, then two new shares make a root token that works.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type RunningServer, startServer } from '../../src/server';
import { runCli } from './cli-harness';

jest.setTimeout(90_000);

let dir: string;
let server: RunningServer;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-cli-ceremony-'));
  server = await startServer({ dataDir: dir, listen: '127.0.0.1:0', logLevel: 'silent' });
});
afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, p: string, body?: unknown, token?: string) {
  const res = await fetch(`${server.url}/v1/${p}`, { method, headers: { 'content-type': 'application/json', ...(token ? { 'X-Vault-Token': token } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: res.status === 204 ? {} : ((await res.json()) as Record<string, any>) };
}

it('rekeys with the CLI, then generates and decodes a working root token', async () => {
  const init = await call('PUT', 'sys/init', { secret_shares: 5, secret_threshold: 3 });
  const oldKeys = init.body.keys_base64 as string[];
  for (const key of oldKeys.slice(0, 3)) await call('PUT', 'sys/unseal', { key });

  const started = await runCli(server.url, ['operator', 'rekey', '-init', '-key-shares=3', '-key-threshold=2']);
  expect(started.code).toBe(0);
  expect(started.stdout).toMatch(/Rekey Progress\s+0\/3/);
  let last = started;
  for (const key of oldKeys.slice(1, 4)) last = await runCli(server.url, ['operator', 'rekey'], { input: `${key}\n` });
  expect(last.code).toBe(0);
  const newKeys = [...last.stdout.matchAll(/^Key \d: (\S+)$/gm)].map((m) => m[1] as string);
  expect(newKeys).toHaveLength(3);
  for (const key of oldKeys) expect(last.stdout + last.stderr).not.toContain(key);

  const attempt = await runCli(server.url, ['operator', 'generate-root', '-init']);
  expect(attempt.code).toBe(0);
  const otp = /^OTP\s+(\S+)$/m.exec(attempt.stdout)?.[1] ?? '';
  expect(otp).toHaveLength(28);
  // Old shares are refused at the threshold now: they stopped working.
  expect((await runCli(server.url, ['operator', 'generate-root'], { input: `${oldKeys[0]}\n` })).code).toBe(0);
  const refused = await runCli(server.url, ['operator', 'generate-root'], { input: `${oldKeys[1]}\n` });
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/do not reconstruct the root key/);
  for (const key of oldKeys) expect(refused.stderr).not.toContain(key);
  // The failed attempt is over; start again with an OTP of our own.
  await runCli(server.url, ['operator', 'generate-root', '-init', `-otp=${otp}`]);
  await runCli(server.url, ['operator', 'generate-root'], { input: `${newKeys[2]}\n` });
  const done = await runCli(server.url, ['operator', 'generate-root'], { input: `${newKeys[0]}\n` });
  expect(done.code).toBe(0);
  const encoded = /^Encoded Token\s+(\S+)$/m.exec(done.stdout)?.[1] ?? '';
  expect(encoded).not.toBe('');
  const decoded = await runCli(server.url, ['operator', 'generate-root', `-decode=${encoded}`, `-otp=${otp}`]);
  expect(decoded.code).toBe(0);
  const token = decoded.stdout.trim();
  const self = await call('GET', 'auth/token/lookup-self', undefined, token);
  expect(self.status).toBe(200);
  expect(self.body.data.policies).toEqual(['root']);
});
