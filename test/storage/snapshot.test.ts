// Snapshot files and restore refusals: the format refuses torn and edited files; a server on a data
// directory refuses them with a 400 and changes nothing; both endpoints need sudo; an in-memory
// (dev) server snapshots but refuses to restore; and leases in a restored snapshot past their
// expiry are revoked after unseal, again if the live vault had revoked them already.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type RunningServer, startServer } from '../../src/server';
import { decodeSnapshot, encodeSnapshot, encodeSnapshotYielding, SnapshotFormatError } from '../../src/storage/snapshot-format';
import { resolveServerOptions } from '../../src/cli/commands/server';
import { leaseEngine } from '../helpers/lease-engine';
import { runCli } from '../cli/cli-harness';

jest.setTimeout(60_000);

const sqliteBytes = () => Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(4080, 7)]);

describe('the snapshot file format', () => {
  const file = encodeSnapshot(sqliteBytes(), { createdAt: new Date('2026-12-01T10:00:00Z'), clusterId: 'c-1', schemaVersion: 9 });

  it('round-trips its header and content', () => {
    const { header, content } = decodeSnapshot(file);
    expect(header).toEqual({ format_version: 1, created_at: '2026-12-01T10:00:00.000Z', cluster_id: 'c-1', schema_version: 9, content_bytes: 4096 });
    expect(content.equals(sqliteBytes())).toBe(true);
  });

  it('writes the same file when hashing in steps (as the server does) as in one go', async () => {
    const big = Buffer.concat([sqliteBytes(), Buffer.alloc(20 * 1024 * 1024, 3)]);
    const meta = { createdAt: new Date('2026-12-01T10:00:00Z'), schemaVersion: 9 };
    const stepped = await encodeSnapshotYielding(big, meta);
    expect(stepped.equals(encodeSnapshot(big, meta))).toBe(true);
    expect(decodeSnapshot(stepped).content.length).toBe(big.length);
  });

  it('refuses every truncation, any edited byte, trailing data and a foreign file', () => {
    for (const length of [0, 5, 12, 40, 200, file.length - 33, file.length - 32, file.length - 1]) {
      expect(() => decodeSnapshot(file.subarray(0, length))).toThrow(SnapshotFormatError);
    }
    for (const offset of [3, 9, 20, 100, 1000, file.length - 40, file.length - 1]) {
      const edited = Buffer.from(file);
      edited[offset] = (edited[offset] as number) ^ 0x01;
      expect(() => decodeSnapshot(edited)).toThrow(SnapshotFormatError);
    }
    const edited = Buffer.from(file);
    edited[1000] = (edited[1000] as number) ^ 0x01;
    expect(() => decodeSnapshot(edited)).toThrow('snapshot checksum mismatch: the file is damaged or was edited');
    expect(() => decodeSnapshot(file.subarray(0, file.length - 10))).toThrow('snapshot file is truncated');
    expect(() => decodeSnapshot(Buffer.concat([file, Buffer.from('x')]))).toThrow('trailing data');
    expect(() => decodeSnapshot(Buffer.from('{"not": "a snapshot"}'))).toThrow('not a Leasehold snapshot file');
  });
});

type Call = { status: number; body: Record<string, any> | undefined; bytes: Buffer };

function client(url: () => string) {
  return async (method: string, apiPath: string, options: { token?: string; body?: unknown; bytes?: Buffer } = {}): Promise<Call> => {
    const headers: Record<string, string> = options.token ? { 'X-Vault-Token': options.token } : {};
    let body: string | Buffer | undefined;
    if (options.bytes) {
      headers['Content-Type'] = 'application/octet-stream';
      body = options.bytes;
    } else if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const res = await fetch(`${url()}/v1/${apiPath}`, { method, headers, body });
    const bytes = Buffer.from(await res.arrayBuffer());
    const json = (res.headers.get('content-type') ?? '').startsWith('application/json') ? (JSON.parse(bytes.toString('utf8')) as Record<string, any>) : undefined;
    return { status: res.status, body: json, bytes };
  };
}

describe('a server on a data directory', () => {
  let dir: string;
  let server: RunningServer;
  let root: string;
  let keys: string[];
  const engine = leaseEngine();
  const api = client(() => server.url);

  const unseal = async () => {
    for (const key of keys) await api('PUT', 'sys/unseal', { body: { key } });
    expect(server.vault.seal.sealed).toBe(false);
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-snapshot-refusals-'));
    server = await startServer({ dataDir: dir, listen: '127.0.0.1:0', logLevel: 'silent', registry: { leases: engine.factory } });
    const init = await api('PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    root = init.body?.root_token as string;
    keys = init.body?.keys_base64 as string[];
    await unseal();
    expect((await api('POST', 'sys/mounts/secret', { token: root, body: { type: 'kv', options: { version: '2' } } })).status).toBe(204);
    expect((await api('POST', 'sys/mounts/creds-test', { token: root, body: { type: 'leases' } })).status).toBe(204);
  });
  afterAll(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const stagingFiles = () => fs.readdirSync(dir).filter((n) => n.includes('.restore-') || n.includes('.snapshot-'));

  it('refuses a torn or edited snapshot with a clear 400, and nothing changes', async () => {
    await api('POST', 'secret/data/before', { token: root, body: { data: { v: 1 } } });
    const snap = await api('GET', 'sys/storage/snapshot', { token: root });
    expect(snap.status).toBe(200);
    expect(decodeSnapshot(snap.bytes).header.cluster_id).toBe(server.vault.clusterId);
    await api('POST', 'secret/data/after', { token: root, body: { data: { v: 2 } } });

    const edited = Buffer.from(snap.bytes);
    edited[Math.floor(edited.length / 2)] = (edited[Math.floor(edited.length / 2)] as number) ^ 0xff;
    const cases: Array<[Buffer, RegExp]> = [
      [snap.bytes.subarray(0, Math.floor(snap.bytes.length * 0.7)), /snapshot refused, nothing changed: snapshot file is truncated/],
      [edited, /snapshot refused, nothing changed: snapshot checksum mismatch/],
      [Buffer.from('hello'), /not a Leasehold snapshot file/],
    ];
    // Also a valid file around a database that is not a Leasehold store.
    const foreign = encodeSnapshot(Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(4080)]), { createdAt: new Date(), schemaVersion: 1 });
    cases.push([foreign, /snapshot refused, nothing changed: snapshot database/]);
    for (const [bytes, message] of cases) {
      const res = await api('POST', 'sys/storage/snapshot-restore', { token: root, bytes });
      expect(res.status).toBe(400);
      expect(res.body?.errors.join(' ')).toMatch(message);
      expect(server.vault.seal.sealed).toBe(false);
      expect((await api('GET', 'secret/data/after', { token: root })).body?.data.data).toEqual({ v: 2 });
      expect(stagingFiles()).toEqual([]);
    }
    // An empty body is refused too.
    expect((await api('POST', 'sys/storage/snapshot-restore', { token: root })).status).toBe(400);
    // The CLI checks the file before sending it.
    const torn = path.join(dir, 'torn.snap');
    fs.writeFileSync(torn, snap.bytes.subarray(0, snap.bytes.length - 100));
    const cli = await runCli(server.url, ['operator', 'snapshot', 'restore', torn], { token: root });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain(`${torn} cannot be restored: snapshot file is truncated`);
    fs.rmSync(torn);
    expect(server.vault.seal.sealed).toBe(false);
  });

  it('refuses both endpoints to a token without sudo, reading no snapshot and changing nothing', async () => {
    const broad = 'path "sys/*" { capabilities = ["create", "read", "update", "delete", "list"] }';
    expect((await api('PUT', 'sys/policies/acl/broad', { token: root, body: { policy: broad } })).status).toBe(204);
    const plain = (await api('POST', 'auth/token/create', { token: root, body: { policies: ['broad'] } })).body?.auth.client_token as string;
    const snap = await api('GET', 'sys/storage/snapshot', { token: root });
    const read = await api('GET', 'sys/storage/snapshot', { token: plain });
    expect(read.status).toBe(403);
    expect(read.bytes.includes(Buffer.from('LHSNAP'))).toBe(false);
    const restore = await api('POST', 'sys/storage/snapshot-restore', { token: plain, bytes: snap.bytes });
    expect(restore.status).toBe(403);
    expect((await api('POST', 'sys/storage/snapshot-restore', { bytes: snap.bytes })).status).toBe(403);
    expect(server.vault.seal.sealed).toBe(false);
    expect(stagingFiles()).toEqual([]);
  });

  it('counts the leases past expiry in the answer and revokes them after unseal, again if they were revoked after the snapshot', async () => {
    const short = await api('GET', 'creds-test/creds/short?ttl=1s', { token: root });
    const long = await api('GET', 'creds-test/creds/long?ttl=4s', { token: root });
    const shortUser = short.body?.data.username as string;
    const longUser = long.body?.data.username as string;
    const snap = await api('GET', 'sys/storage/snapshot', { token: root });
    const snapshotAt = Date.now();
    // After the snapshot: the long lease is revoked by hand, the short one by the expiry sweep.
    expect((await api('PUT', 'sys/leases/revoke', { token: root, body: { lease_id: long.body?.lease_id } })).status).toBe(204);
    const deadline = Date.now() + 10_000;
    while (!engine.log.revoked.includes(shortUser) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(engine.log.revoked.filter((u) => u === shortUser || u === longUser).sort()).toEqual([longUser, shortUser].sort());

    const restored = await api('POST', 'sys/storage/snapshot-restore', { token: root, bytes: snap.bytes });
    expect(restored.status).toBe(200);
    expect(restored.body?.data).toMatchObject({ expired_leases: 1, sealed: true, snapshot_cluster_id: server.vault.clusterId });
    expect(restored.body?.warnings).toEqual(['1 lease in the snapshot is past expiry: revoked after unseal']);
    expect(server.vault.seal.sealed).toBe(true);
    expect((await api('GET', 'secret/data/before', { token: root })).status).toBe(503);
    await unseal();

    // The expired one is revoked again at once; the one revoked after the snapshot again when it expires.
    const count = (user: string) => engine.log.revoked.filter((u) => u === user).length;
    const until = snapshotAt + 4000 + 8000;
    while ((count(shortUser) < 2 || count(longUser) < 2) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect([count(shortUser), count(longUser)]).toEqual([2, 2]);
    expect((await api('GET', 'secret/data/before', { token: root })).body?.data.data).toEqual({ v: 1 });
  });
});

describe('an in-memory (dev) server', () => {
  let server: RunningServer;
  const api = client(() => server.url);
  beforeAll(async () => {
    const options = resolveServerOptions({ dev: true, devRootTokenId: 'root', listen: '127.0.0.1:0', logLevel: 'silent', snapshotMaxBytes: '5000000' });
    expect(options.snapshotMaxBytes).toBe(5_000_000);
    server = await startServer(options);
  });
  afterAll(() => server.close());

  it('takes a snapshot but refuses to restore one', async () => {
    await api('POST', 'secret/data/x', { token: 'root', body: { data: { v: 1 } } });
    const snap = await api('GET', 'sys/storage/snapshot', { token: 'root' });
    expect(snap.status).toBe(200);
    expect(decodeSnapshot(snap.bytes).content.length).toBeGreaterThan(0);
    const restore = await api('POST', 'sys/storage/snapshot-restore', { token: 'root', bytes: snap.bytes });
    expect(restore.status).toBe(400);
    expect(restore.body?.errors[0]).toMatch(/in-memory \(dev\) server cannot restore/);
    expect(server.vault.seal.sealed).toBe(false);
  });

  it('bounds the snapshot upload by its own configurable limit', async () => {
    const big = await api('POST', 'sys/storage/snapshot-restore', { token: 'root', bytes: Buffer.alloc(5_000_001) });
    expect(big.status).toBe(413);
    // Below it, the body is read and judged (here: not a snapshot).
    const small = await api('POST', 'sys/storage/snapshot-restore', { token: 'root', bytes: Buffer.alloc(150_000) });
    expect(small.status).toBe(400);
  });
});
