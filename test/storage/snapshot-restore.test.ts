// Snapshot and restore end to end: a real server process on a data directory, driven over HTTP and
// by the `leasehold operator snapshot` commands. A snapshot is taken while KV writes keep arriving;
// after more writes and a rekey, the restore brings back exactly the snapshot's data, sealed, and
// only the shares valid at the snapshot's time unseal it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runCli } from '../cli/cli-harness';
import { call, freePort, type ServerProcess, startServerProcess } from '../helpers/process';

jest.setTimeout(120_000);

let dir: string;
let server: ServerProcess;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-snapshot-'));
  server = await startServerProcess(['--data', path.join(dir, 'data')], await freePort());
});
afterAll(async () => {
  await server?.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Write {
  key: string;
  startedAt: number;
  ackedAt?: number;
}

async function unseal(keys: string[]) {
  let last: Awaited<ReturnType<typeof call>> | undefined;
  for (const key of keys) last = await call(server.url, 'PUT', 'sys/unseal', { body: { key } });
  return last?.body;
}

async function listKeys(token: string): Promise<Set<string>> {
  const res = await call(server.url, 'GET', 'secret/metadata/?list=true', { token });
  expect(res.status).toBe(200);
  return new Set(res.body?.data.keys as string[]);
}

it('restores exactly the data of a snapshot taken under write load, unsealed by the shares of its time', async () => {
  const init = await call(server.url, 'PUT', 'sys/init', { body: { secret_shares: 3, secret_threshold: 2 } });
  const oldKeys = init.body?.keys_base64 as string[];
  const root = init.body?.root_token as string;
  await unseal(oldKeys.slice(0, 2));
  expect((await call(server.url, 'POST', 'sys/mounts/secret', { token: root, body: { type: 'kv', options: { version: '2' } } })).status).toBe(204);

  // Concurrent writers, each key written once, with when it was sent and when it was acknowledged.
  const writes: Write[] = [];
  let stop = false;
  const writer = async (id: number) => {
    for (let i = 0; !stop; i += 1) {
      const w: Write = { key: `w${id}-${i}`, startedAt: performance.now() };
      writes.push(w);
      const res = await call(server.url, 'POST', `secret/data/${w.key}`, { token: root, body: { data: { value: w.key } } });
      expect(res.status).toBe(200);
      w.ackedAt = performance.now();
    }
  };
  const writers = [0, 1, 2, 3, 4, 5].map((id) => writer(id));
  while (writes.filter((w) => w.ackedAt !== undefined).length < 150) await new Promise((r) => setTimeout(r, 20));

  const file = path.join(dir, 'backup.snap');
  const snapshotStartedAt = performance.now();
  const saved = await runCli(server.url, ['operator', 'snapshot', 'save', file], { token: root });
  const snapshotEndedAt = performance.now();
  expect(saved.code).toBe(0);
  const during = writes.filter((w) => w.startedAt > snapshotStartedAt && w.startedAt < snapshotEndedAt).length;
  // Let the load run on a little after the snapshot, then stop it.
  while (writes.filter((w) => w.startedAt > snapshotEndedAt && w.ackedAt !== undefined).length < 60) await new Promise((r) => setTimeout(r, 20));
  stop = true;
  await Promise.all(writers);
  expect(during).toBeGreaterThan(0);
  const bytes = fs.readFileSync(file);
  expect(bytes.subarray(0, 8).toString('latin1')).toBe('LHSNAP\r\n');
  // As stored: no written value appears in the clear.
  expect(bytes.includes(Buffer.from(writes[0]?.key === undefined ? 'x' : `"value":"${writes[0].key}"`))).toBe(false);

  // After the snapshot: a rekey, so the shares of now differ from those of the snapshot.
  const rekey = await call(server.url, 'PUT', 'sys/rekey/init', { body: { secret_shares: 3, secret_threshold: 2 } });
  let rekeyed: Record<string, any> | undefined;
  for (const key of oldKeys.slice(0, 2)) rekeyed = (await call(server.url, 'PUT', 'sys/rekey/update', { body: { key, nonce: rekey.body?.nonce } })).body;
  const newKeys = rekeyed?.keys_base64 as string[];
  expect(newKeys).toHaveLength(3);

  const restored = await runCli(server.url, ['operator', 'snapshot', 'restore', file], { token: root });
  expect(restored.code).toBe(0);
  expect(restored.stdout).toMatch(/restored from the snapshot taken at \d{4}-/);
  expect(restored.stdout).toMatch(/now sealed/);
  expect(restored.stdout).toMatch(/0 leases in the snapshot are past expiry/);
  expect((await call(server.url, 'GET', 'sys/seal-status')).body).toMatchObject({ sealed: true, initialized: true });

  // The shares of after the snapshot do not open it; the snapshot's own do.
  for (const key of newKeys.slice(0, 2)) await call(server.url, 'PUT', 'sys/unseal', { body: { key } });
  expect((await call(server.url, 'GET', 'sys/seal-status')).body).toMatchObject({ sealed: true });
  await call(server.url, 'PUT', 'sys/unseal', { body: { reset: true } });
  expect(await unseal(oldKeys.slice(1, 3))).toMatchObject({ sealed: false });

  const present = await listKeys(root);
  const acknowledgedBefore = writes.filter((w) => w.ackedAt !== undefined && w.ackedAt < snapshotStartedAt);
  const startedAfter = writes.filter((w) => w.startedAt > snapshotEndedAt);
  expect(acknowledgedBefore.length).toBeGreaterThanOrEqual(150);
  expect(startedAfter.length).toBeGreaterThanOrEqual(60);
  expect(acknowledgedBefore.filter((w) => !present.has(w.key))).toEqual([]);
  expect(startedAfter.filter((w) => present.has(w.key))).toEqual([]);
  // Nothing else: every key present is one that was written, and each holds its own value.
  const written = new Set(writes.map((w) => w.key));
  expect([...present].filter((k) => !written.has(k))).toEqual([]);
  for (const key of [...present].slice(0, 25)) {
    expect((await call(server.url, 'GET', `secret/data/${key}`, { token: root })).body?.data.data).toEqual({ value: key });
  }
  // The restored store keeps serving writes, and they survive a restart.
  expect((await call(server.url, 'POST', 'secret/data/after-restore', { token: root, body: { data: { value: 'yes' } } })).status).toBe(200);
  // No staging file is left in the data directory.
  expect(fs.readdirSync(path.join(dir, 'data')).filter((n) => n.includes('.restore-') || n.includes('.snapshot-'))).toEqual([]);
  await server.kill('SIGTERM');
  server = await startServerProcess(['--data', path.join(dir, 'data')], await freePort());
  expect(await unseal(oldKeys.slice(0, 2))).toMatchObject({ sealed: false });
  expect((await call(server.url, 'GET', 'secret/data/after-restore', { token: root })).body?.data.data).toEqual({ value: 'yes' });
  expect((await listKeys(root)).size).toBe(present.size + 1);
});
