// More of the HTTP contract: `?list=1` is LIST, refused mounts change nothing, a request refused
// because nothing can audit it stores nothing, and the SQLite store opens with the required pragmas.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { openDatabase, type SqliteDatabase } from '../../src/storage/database';
import { listen, unsealedVault } from '../helpers/vault';
import { breakAuditFile } from '../helpers/audit';

const countRows = (db: SqliteDatabase, table: 'entries' | 'tokens') => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

/** A response body without the per-request id, for comparing two answers to the same question. */
function withoutRequestId(body: unknown): unknown {
  if (body === null || typeof body !== 'object') return body;
  const { request_id: _ignored, ...rest } = body as Record<string, unknown>;
  return rest;
}

describe('GET ?list=1 is LIST', () => {
  it('answers exactly as the LIST method does, for hits and misses, on engines, sys and auth paths', async () => {
    const { app, rootToken } = await unsealedVault();
    const root = { 'X-Vault-Token': rootToken };
    await request(app).post('/v1/sys/mounts/secret').set(root).send({ type: 'kv-v2' });
    await request(app).post('/v1/sys/mounts/kv1').set(root).send({ type: 'kv' });
    for (const p of ['a', 'dir/b', 'dir/c']) {
      await request(app).post(`/v1/secret/data/${p}`).set(root).send({ data: { v: 1 } });
      await request(app).post(`/v1/kv1/${p}`).set(root).send({ v: 1 });
    }
    await request(app).put('/v1/sys/policies/acl/reader').set(root).send({ policy: 'path "secret/*" { capabilities = ["list"] }' });
    const server = await listen(app);
    try {
      const paths = ['/v1/secret/metadata/', '/v1/secret/metadata/dir', '/v1/secret/metadata/none/', '/v1/kv1/', '/v1/kv1/dir/', '/v1/sys/policies/acl', '/v1/auth/token/accessors'];
      const statuses: Record<string, number> = {};
      for (const p of paths) {
        const listed = await fetch(`${server.url}${p}`, { method: 'LIST', headers: root });
        const listBody = await listed.json();
        statuses[p] = listed.status;
        for (const flag of ['1', 'true']) {
          const viaGet = await request(app).get(`${p}?list=${flag}`).set(root);
          expect({ p, flag, status: viaGet.status, body: withoutRequestId(viaGet.body) }).toEqual({ p, flag, status: listed.status, body: withoutRequestId(listBody) });
        }
      }
      expect(statuses).toEqual({
        '/v1/secret/metadata/': 200,
        '/v1/secret/metadata/dir': 200,
        '/v1/secret/metadata/none/': 404,
        '/v1/kv1/': 200,
        '/v1/kv1/dir/': 200,
        '/v1/sys/policies/acl': 200,
        '/v1/auth/token/accessors': 200,
      });
      // And they are list answers, not reads: a plain GET of the same folder is something else.
      const keys = await request(app).get('/v1/kv1/dir/?list=1').set(root);
      expect(keys.body.data.keys).toEqual(['b', 'c']);
      expect((await request(app).get('/v1/kv1/dir/').set(root)).status).toBe(404);
      expect((await request(app).get('/v1/secret/metadata/?list=1').set(root)).body.data.keys).toEqual(['a', 'dir/']);
    } finally {
      await server.close();
    }
  });
});

describe('refused mounts leave the mount table unchanged', () => {
  it('overlaps, reserved paths and unknown types answer 400 and GET sys/mounts is identical afterwards', async () => {
    const { app, rootToken, db } = await unsealedVault();
    const root = { 'X-Vault-Token': rootToken };
    expect((await request(app).post('/v1/sys/mounts/team/kv').set(root).send({ type: 'kv-v2' })).status).toBe(204);
    const before = await request(app).get('/v1/sys/mounts').set(root);
    expect(before.status).toBe(200);
    const authBefore = await request(app).get('/v1/sys/auth').set(root);
    const entriesBefore = countRows(db, 'entries');

    const refused: [string, Record<string, unknown>][] = [
      ['team/kv', { type: 'kv' }], // already in use
      ['team', { type: 'kv' }], // would cover an existing mount
      ['team/kv/inner', { type: 'kv' }], // inside an existing mount
      ['sys', { type: 'kv' }],
      ['sys/extra', { type: 'kv' }],
      ['auth/foo', { type: 'kv' }],
      ['cubbyhole', { type: 'kv' }],
      ['cubbyhole/sub', { type: 'kv' }],
      ['identity', { type: 'kv' }],
      ['other', { type: 'no-such-engine' }],
      ['other', { type: 'system' }],
      ['other', { type: 'token' }],
      ['other', {}],
    ];
    for (const [p, body] of refused) {
      const res = await request(app).post(`/v1/sys/mounts/${p}`).set(root).send(body);
      expect({ p, body, status: res.status }).toEqual({ p, body, status: 400 });
    }

    const after = await request(app).get('/v1/sys/mounts').set(root);
    expect(after.body.data).toEqual(before.body.data);
    expect(Object.keys(after.body.data).sort()).toEqual(['cubbyhole/', 'identity/', 'sys/', 'team/kv/']);
    expect((await request(app).get('/v1/sys/auth').set(root)).body.data).toEqual(authBefore.body.data);
    expect(countRows(db, 'entries')).toBe(entriesBefore);
    expect((await request(app).get('/v1/sys/mounts/other').set(root)).status).toBe(400);
  });
});

describe('a request refused because no audit device can record it', () => {
  it('answers 500 and stores nothing: no KV write, token, policy, mount or delete', async () => {
    const { app, rootToken, db, vault } = await unsealedVault();
    const root = { 'X-Vault-Token': rootToken };
    await request(app).post('/v1/sys/mounts/secret').set(root).send({ type: 'kv-v2' });
    await request(app).post('/v1/sys/mounts/kv1').set(root).send({ type: 'kv' });
    await request(app).post('/v1/secret/data/before').set(root).send({ data: { v: 'visible' } });
    await request(app).post('/v1/kv1/before').set(root).send({ v: 'visible' });
    const auditDir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-audit-'));
    const auditFile = path.join(auditDir, 'broken.log');
    expect((await request(app).put('/v1/sys/audit/full').set(root).send({ type: 'file', options: { file_path: auditFile } })).status).toBe(204);
    // From now on the device fails every write (its file is a directory when it reopens).
    breakAuditFile(vault.audit, auditFile);

    const kv1 = vault.mounts.get('kv1/')?.storage;
    const kv2 = vault.mounts.get('secret/')?.storage;
    expect(kv1?.getJSON('before')).toEqual({ v: 'visible' });
    const kv2Keys = kv2?.listRecursive('');
    expect(kv2Keys?.length).toBeGreaterThan(0);
    const entries = countRows(db, 'entries');
    const tokens = countRows(db, 'tokens');
    const accessors = vault.tokens.listAccessors();

    const attempts = [
      request(app).post('/v1/secret/data/during').set(root).send({ data: { v: 'x' } }),
      request(app).post('/v1/secret/data/before').set(root).send({ data: { v: 'overwritten' } }),
      request(app).post('/v1/kv1/during').set(root).send({ v: 'x' }),
      request(app).post('/v1/kv1/before').set(root).send({ v: 'overwritten' }),
      request(app).delete('/v1/kv1/before').set(root),
      request(app).post('/v1/auth/token/create').set(root).send({ policies: ['default'] }),
      request(app).put('/v1/sys/policies/acl/sneaky').set(root).send({ policy: 'path "*" { capabilities = ["read"] }' }),
      request(app).post('/v1/sys/mounts/new').set(root).send({ type: 'kv' }),
    ];
    for (const attempt of attempts) {
      const res = await attempt;
      expect(res.status).toBe(500);
      expect(JSON.stringify(res.body)).not.toContain('visible');
    }

    expect(countRows(db, 'entries')).toBe(entries);
    expect(countRows(db, 'tokens')).toBe(tokens);
    expect(vault.tokens.listAccessors()).toEqual(accessors);
    expect(kv1?.get('during')).toBeUndefined();
    expect(kv1?.getJSON('before')).toEqual({ v: 'visible' });
    expect(kv2?.listRecursive('')).toEqual(kv2Keys);
    expect(vault.mounts.get('new/')).toBeUndefined();
    fs.rmSync(auditDir, { recursive: true, force: true });
  });
});

describe('the SQLite store', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-db-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens a file database with WAL, synchronous=FULL, foreign keys, a busy timeout, mode 0600 in a 0700 directory', () => {
    const file = path.join(dir, 'nested', 'vault.db');
    const db = openDatabase(file);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
      // The write-ahead log holds secrets too: it gets the main file's mode.
      db.prepare('INSERT INTO entries (path, value) VALUES (?, ?)').run('probe', Buffer.from('x'));
      expect(fs.existsSync(`${file}-wal`)).toBe(true);
      expect(fs.statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
      // Migrations ran.
      expect(countRows(db, 'entries')).toBe(1);
    } finally {
      db.close();
    }
  });

  it('tightens an existing world-readable file to 0600 and keeps the pragmas on reopen', () => {
    const file = path.join(dir, 'vault.db');
    openDatabase(file).close();
    fs.chmodSync(file, 0o644);
    const db = openDatabase(file);
    try {
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });
});

describe('tuning a mount', () => {
  it('refuses a default TTL above the max and changes nothing', async () => {
    const { app, rootToken } = await unsealedVault();
    const root = { 'X-Vault-Token': rootToken };
    await request(app).post('/v1/sys/mounts/t').set(root).send({ type: 'kv-v2', description: 'before' });
    const res = await request(app).post('/v1/sys/mounts/t/tune').set(root).send({ default_lease_ttl: '2h', max_lease_ttl: '1h', description: 'after' });
    expect(res.status).toBe(400);
    const tune = await request(app).get('/v1/sys/mounts/t/tune').set(root);
    expect(tune.body.data).toMatchObject({ description: 'before', default_lease_ttl: 768 * 3600, max_lease_ttl: 768 * 3600 });
  });
});
