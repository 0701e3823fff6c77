// The audit broker on real files and real encrypted storage: hashing, fail-closed, persistence.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { AuditBroker, type AuditRequestInput, type AuditResponseInput } from '../../src/core/audit/broker';
import { AuditFailureError } from '../../src/core/audit/errors';
import { BadRequestError } from '../../src/errors';
import { ManualClock } from '../../src/util/clock';
import { memoryStorage } from '../helpers/backend';
import { breakAuditFile } from '../helpers/audit';

const SECRET = 'planted-secret-value-7f3a';
const TOKEN = 'hvs.planted-client-token-91bc';
const ACCESSOR = 'accessor-planted-55de';
const NEW_TOKEN = 'hvs.minted-login-token-20aa';
const WRAP_TOKEN = 'hvs.wrapping-token-3c1d';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-audit-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function setup() {
  const store = memoryStorage();
  const storage = store.view('core/audit/');
  const clock = new ManualClock();
  const errors: object[] = [];
  const keys: Uint8Array[] = [];
  const logger = { info: () => {}, warn: () => {}, error: (obj: object) => void errors.push(obj) };
  const generateKey = () => {
    const key = new Uint8Array(randomBytes(32));
    keys.push(key);
    return key;
  };
  const broker = new AuditBroker({ storage, clock, logger, generateKey });
  return { store, storage, clock, errors, keys, broker, logger, generateKey };
}

/** Enables a device at `name` on a file in `dir`, then makes it fail every write. */
function enableFailing(broker: AuditBroker, name: string): void {
  const file = path.join(dir, `${name}-broken.log`);
  broker.enable(name, { type: 'file', description: '', options: { file_path: file }, local: false });
  breakAuditFile(broker, file);
}

const requestInput = (over: Partial<AuditRequestInput> = {}): AuditRequestInput => ({
  requestId: 'req-1',
  operation: 'update',
  path: 'secret/data/app',
  mountType: 'kv',
  mountAccessor: 'kv_1234',
  mountPoint: 'secret/',
  clientToken: TOKEN,
  clientTokenAccessor: ACCESSOR,
  auth: {
    displayName: 'token-ci',
    policies: ['default', 'app'],
    metadata: { team: 'payments' },
    accessor: ACCESSOR,
    tokenType: 'service',
    tokenTtlSeconds: 3600,
    tokenIssueTime: Date.UTC(2026, 0, 1),
  },
  data: { data: { password: SECRET, count: 3, enabled: true } },
  remoteAddress: '10.0.0.5',
  remotePort: 51234,
  ...over,
});

const responseInput = (over: Partial<AuditResponseInput> = {}): AuditResponseInput => ({
  ...requestInput(),
  response: {
    mountType: 'kv',
    data: { data: { password: SECRET }, metadata: { version: 2 } },
    secret: { leaseId: 'database/creds/app/abc' },
    auth: {
      clientToken: NEW_TOKEN,
      accessor: 'new-accessor-1',
      policies: ['app'],
      metadata: { role: 'app' },
      displayName: 'approle',
      leaseDurationSeconds: 600,
      renewable: true,
      tokenType: 'service',
      numUses: 0,
    },
    wrapInfo: { token: WRAP_TOKEN, accessor: 'wrap-accessor-1', ttlSeconds: 60, creationTime: Date.UTC(2026, 0, 1, 0, 0, 1, 500), creationPath: 'secret/data/app' },
    warnings: ['a warning'],
  },
  ...over,
});

/** A device's file without the test entry every enable writes first (as Vault's does). */
const auditText = (file: string) =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => !l.includes('"id":"audit-device-test"'))
    .join('\n');

const readLines = (file: string) =>
  auditText(file)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, any>);

describe('AuditBroker', () => {
  it('does nothing without devices', async () => {
    const { broker } = setup();
    expect(broker.hasDevices()).toBe(false);
    await broker.logRequest(requestInput());
    await broker.logResponse(responseInput());
  });

  it('never writes a planted secret or token in plaintext; their HMACs match sys/audit-hash', async () => {
    const { broker } = setup();
    const file = path.join(dir, 'audit.log');
    broker.enable('file', { type: 'file', description: 'main', options: { file_path: file }, local: false });
    expect(broker.hasDevices()).toBe(true);
    await broker.logRequest(requestInput());
    await broker.logResponse(responseInput());

    const text = auditText(file);
    for (const plain of [SECRET, TOKEN, ACCESSOR, NEW_TOKEN, WRAP_TOKEN, 'new-accessor-1', 'wrap-accessor-1']) expect(text).not.toContain(plain);
    const [req, resp] = readLines(file);
    const h = (v: string) => broker.hash('file', v);
    expect(h(SECRET)).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(text).toContain(h(SECRET));

    expect(req).toMatchObject({
      type: 'request',
      time: '2026-01-01T00:00:00Z',
      auth: {
        client_token: h(TOKEN),
        accessor: h(ACCESSOR),
        display_name: 'token-ci',
        policies: ['default', 'app'],
        token_policies: ['default', 'app'],
        metadata: { team: 'payments' },
        token_type: 'service',
        token_ttl: 3600,
        token_issue_time: '2026-01-01T00:00:00Z',
      },
      request: {
        id: 'req-1',
        operation: 'update',
        mount_type: 'kv',
        mount_accessor: 'kv_1234',
        mount_point: 'secret/',
        client_token: h(TOKEN),
        client_token_accessor: h(ACCESSOR),
        namespace: { id: 'root' },
        path: 'secret/data/app',
        data: { data: { password: h(SECRET), count: 3, enabled: true } },
        remote_address: '10.0.0.5',
        remote_port: 51234,
      },
    });
    expect(req).not.toHaveProperty('response');
    expect(req).not.toHaveProperty('error');

    expect(resp).toMatchObject({
      type: 'response',
      request: { id: 'req-1', client_token: h(TOKEN) },
      response: {
        mount_type: 'kv',
        data: { data: { password: h(SECRET) }, metadata: { version: 2 } },
        secret: { lease_id: 'database/creds/app/abc' },
        auth: { client_token: h(NEW_TOKEN), accessor: h('new-accessor-1'), policies: ['app'], token_ttl: 600, display_name: 'approle' },
        wrap_info: { token: h(WRAP_TOKEN), accessor: h('wrap-accessor-1'), ttl: 60, creation_time: '2026-01-01T00:00:01.5Z', creation_path: 'secret/data/app' },
        warnings: ['a warning'],
      },
    });
  });

  it('logs plaintext with log_raw, and accessors in plaintext with hmac_accessor=false', async () => {
    const { broker } = setup();
    const raw = path.join(dir, 'raw.log');
    const acc = path.join(dir, 'acc.log');
    broker.enable('raw', { type: 'file', description: '', options: { file_path: raw, log_raw: 'true' }, local: false });
    broker.enable('acc', { type: 'file', description: '', options: { file_path: acc, hmac_accessor: 'false' }, local: false });
    await broker.logRequest(requestInput());
    const rawText = auditText(raw);
    expect(rawText).toContain(SECRET);
    expect(rawText).toContain(TOKEN);
    const [accLine] = readLines(acc);
    expect(accLine?.request.client_token_accessor).toBe(ACCESSOR);
    expect(accLine?.auth.accessor).toBe(ACCESSOR);
    expect(accLine?.request.client_token).toBe(broker.hash('acc', TOKEN));
    expect(JSON.stringify(accLine)).not.toContain(SECRET);
  });

  it('writes the request line before the response is logged', async () => {
    const { broker } = setup();
    const file = path.join(dir, 'audit.log');
    broker.enable('file', { type: 'file', description: '', options: { file_path: file }, local: false });
    await broker.logRequest(requestInput());
    const lines = readLines(file);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.type).toBe('request');
  });

  it('group-commits: concurrent entries share one write, and none resolves before its line is in the file', async () => {
    const { broker } = setup();
    const file = path.join(dir, 'audit.log');
    broker.enable('file', { type: 'file', description: '', options: { file_path: file }, local: false });
    // The kernel's count of this process's write calls (Linux); without it only the ordering is checked.
    const writeCalls = () => (fs.existsSync('/proc/self/io') ? Number(/^syscw: (\d+)$/m.exec(fs.readFileSync('/proc/self/io', 'utf8'))?.[1]) : 0);
    const ids = Array.from({ length: 20 }, (_, i) => `r${i}`);
    const seenAtResolve: string[][] = [];
    const before = writeCalls();
    const pending = ids.map((requestId) =>
      broker.logRequest(requestInput({ requestId })).then(() => seenAtResolve.push(readLines(file).map((l) => l.request.id as string))),
    );
    // Nothing is written while the requests of this turn are still arriving...
    expect(auditText(file)).toBe('');
    await Promise.all(pending);
    // ...then one write carries all of them (not one each), and every caller saw every line on disk when it went on.
    expect(writeCalls() - before).toBeLessThan(5);
    expect(seenAtResolve).toHaveLength(ids.length);
    for (const seen of seenAtResolve) expect(seen).toEqual(ids);
  });

  it("hashes a cached token's token and accessor once, and every entry of every request carries the right hashes", async () => {
    const { broker } = setup();
    const file = path.join(dir, 'audit.log');
    broker.enable('file', { type: 'file', description: '', options: { file_path: file }, local: false });
    const callerRecord = {};
    await broker.logRequest(requestInput({ requestId: 'a', callerRecord }));
    await broker.logResponse(responseInput({ requestId: 'a', callerRecord }));
    await broker.logRequest(requestInput({ requestId: 'b', callerRecord }));
    const lines = readLines(file);
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line.request.client_token).toBe(broker.hash('file', TOKEN));
      expect(line.request.client_token_accessor).toBe(broker.hash('file', ACCESSOR));
      expect(line.auth.client_token).toBe(broker.hash('file', TOKEN));
    }
  });

  it('builds the auth block once per caller record, and afresh for a new record of the same token', async () => {
    const { broker } = setup();
    const file = path.join(dir, 'audit.log');
    broker.enable('file', { type: 'file', description: '', options: { file_path: file }, local: false });
    const base = requestInput();
    const record = {};
    await broker.logRequest(requestInput({ requestId: 'a', callerRecord: record }));
    await broker.logRequest(requestInput({ requestId: 'b', callerRecord: record }));
    // A renewal replaces the token store's record; the new one carries the new TTL.
    const renewed = { ...(base.auth as NonNullable<typeof base.auth>), tokenTtlSeconds: 7200 };
    await broker.logRequest(requestInput({ requestId: 'c', callerRecord: {}, auth: renewed }));
    const [a, b, c] = readLines(file);
    expect(a?.auth).toEqual(b?.auth);
    expect(a?.auth.token_ttl).toBe(3600);
    expect(c?.auth.token_ttl).toBe(7200);
    expect(c?.auth.client_token).toBe(broker.hash('file', TOKEN));
  });

  it('disabling a device writes the lines it already took before closing it', async () => {
    const { broker } = setup();
    const file = path.join(dir, 'audit.log');
    broker.enable('file', { type: 'file', description: '', options: { file_path: file }, local: false });
    const logged = broker.logRequest(requestInput());
    broker.disable('file');
    await logged;
    expect(readLines(file).map((l) => l.type)).toEqual(['request']);
  });

  it('a failed group write refuses every entry in it', async () => {
    const { broker } = setup();
    enableFailing(broker, 'full');
    const results = await Promise.allSettled([broker.logRequest(requestInput({ requestId: 'a' })), broker.logRequest(requestInput({ requestId: 'b' }))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(AuditFailureError);
  });

  it('honours non-HMAC keys, prefix and elide_list_responses', async () => {
    const { broker } = setup();
    const file = path.join(dir, 'audit.log');
    broker.enable('file', { type: 'file', description: '', options: { file_path: file, prefix: 'AUDIT ', elide_list_responses: 'true' }, local: false });
    await broker.logRequest(requestInput({ data: { visible: 'shown', hidden: 'masked' }, nonHmacRequestKeys: ['visible'] }));
    await broker.logResponse(responseInput({ operation: 'list', response: { mountType: 'kv', data: { keys: ['a', 'b', 'c'] } } }));
    const text = auditText(file);
    const lines = text.split('\n').filter((l) => l !== '');
    expect(lines.every((l) => l.startsWith('AUDIT {'))).toBe(true);
    const [req, resp] = lines.map((l) => JSON.parse(l.slice('AUDIT '.length)));
    expect(req.request.data).toEqual({ visible: 'shown', hidden: broker.hash('file', 'masked') });
    expect(resp.response.data).toEqual({ keys: 3 });
  });

  it('pairs interleaved requests and responses by request id, rebuilding when the request changed', async () => {
    const { broker } = setup();
    const file = path.join(dir, 'audit.log');
    broker.enable('file', { type: 'file', description: '', options: { file_path: file }, local: false });
    const a = requestInput({ requestId: 'a', data: { v: 'alpha' } });
    const b = requestInput({ requestId: 'b', data: { v: 'beta' }, clientToken: 'hvs.other-token' });
    await broker.logRequest(a);
    await broker.logRequest(b);
    await broker.logResponse({ ...b, response: { mountType: 'kv' } });
    await broker.logResponse({ ...a, data: { v: 'changed' }, response: { mountType: 'kv' } });
    const [, , respB, respA] = readLines(file);
    const h = (v: string) => broker.hash('file', v);
    expect(respB?.request).toMatchObject({ id: 'b', client_token: h('hvs.other-token'), data: { v: h('beta') } });
    expect(respA?.request).toMatchObject({ id: 'a', client_token: h(TOKEN), data: { v: h('changed') } });
  });

  it('records errors and unauthenticated requests as Vault does', async () => {
    const { broker } = setup();
    const file = path.join(dir, 'audit.log');
    broker.enable('file', { type: 'file', description: '', options: { file_path: file }, local: false });
    await broker.logRequest(requestInput({ clientToken: undefined, clientTokenAccessor: undefined, auth: undefined, data: {} }));
    await broker.logResponse(responseInput({ error: 'permission denied', response: undefined }));
    const [req, resp] = readLines(file);
    expect(req?.auth).toEqual({ token_type: 'default' });
    expect(req?.request).not.toHaveProperty('data');
    expect(req?.request).not.toHaveProperty('client_token');
    expect(resp?.error).toBe('permission denied');
    expect(resp?.response).toEqual({ mount_accessor: 'kv_1234', mount_point: 'secret/', mount_type: 'kv' });
  });

  it('fails closed when the only device cannot write', async () => {
    const { broker, errors } = setup();
    enableFailing(broker, 'full');
    await expect(broker.logRequest(requestInput())).rejects.toThrow(AuditFailureError);
    await expect(broker.logResponse(responseInput())).rejects.toThrow(AuditFailureError);
    const failure = await broker.logRequest(requestInput()).then(
      () => undefined,
      (e: unknown) => e as AuditFailureError,
    );
    expect(failure?.statusCode).toBe(500);
    expect(failure?.message).toBe('audit: no audit device could record the request; request refused');
    expect(errors.length).toBeGreaterThan(0);
    expect(JSON.stringify(errors)).not.toContain(TOKEN);
  });

  it('refuses at enable a device whose test entry cannot be written (/dev/full), persisting nothing', () => {
    if (!fs.existsSync('/dev/full')) return;
    const { broker, storage } = setup();
    expect(() => broker.enable('full', { type: 'file', description: '', options: { file_path: '/dev/full' }, local: false })).toThrow(
      new BadRequestError('audit device "full/" cannot write to "/dev/full": the test entry failed (ENOSPC)'),
    );
    expect(broker.hasDevices()).toBe(false);
    expect(storage.getJSON('devices')).toBeUndefined();
  });

  it('counts failures in the device health, and lets an audit disable through when nothing can record it', async () => {
    const { broker, clock, errors } = setup();
    enableFailing(broker, 'full');
    clock.advanceSeconds(5);
    await expect(broker.logRequest(requestInput())).rejects.toThrow(AuditFailureError);
    await expect(broker.logRequest(requestInput())).rejects.toThrow(AuditFailureError);
    const health = broker.list()['full/']?.health;
    expect(health).toMatchObject({ failures_since_enable: 2, last_error: expect.stringMatching(/is a directory/), last_error_time: '2026-01-01T00:00:05.000Z' });
    const scope = await broker.logRecoveryRequest(requestInput({ operation: 'delete', path: 'sys/audit/full' }));
    expect(scope.size).toBe(0);
    expect(errors).toContainEqual({ path: 'sys/audit/full', operation: 'delete' });
    expect(JSON.stringify(errors)).not.toContain(TOKEN);
  });

  it('succeeds when at least one of two devices writes', async () => {
    const { broker, errors } = setup();
    const file = path.join(dir, 'audit.log');
    enableFailing(broker, 'full');
    broker.enable('file', { type: 'file', description: '', options: { file_path: file }, local: false });
    const before = errors.length;
    await broker.logRequest(requestInput());
    expect(readLines(file).filter((l) => l.request?.id !== 'audit-device-test')).toHaveLength(1);
    expect(errors).toHaveLength(before + 1);
  });

  it('refuses duplicate or overlapping paths, unknown types and options, and unsafe files, persisting nothing', async () => {
    const { broker, storage } = setup();
    const file = path.join(dir, 'audit.log');
    broker.enable('file', { type: 'file', description: '', options: { file_path: file }, local: false });
    const enable = (p: string, options: Record<string, string>, type = 'file') => () => broker.enable(p, { type, description: '', options, local: false });
    expect(enable('file/', { file_path: file })).toThrow('path already in use');
    expect(enable('file/nested', { file_path: file })).toThrow('path already in use');
    expect(enable('other', { file_path: file }, 'syslog')).toThrow(/unknown backend type/);
    expect(enable('other', { file_path: file, bogus: 'x' })).toThrow(/unrecognised audit device options: bogus/);
    expect(enable('other', { file_path: 'relative.log' })).toThrow(/absolute/);
    expect(enable('other', { file_path: dir })).toThrow(/directory/);
    expect(enable('other', { file_path: file, mode: '0755' })).toThrow(/execute/);
    expect(enable('other', { file_path: file, format: 'jsonx' })).toThrow(/jsonx/);
    expect(enable('../x', { file_path: file })).toThrow(BadRequestError);
    const link = path.join(dir, 'link.log');
    fs.symlinkSync(file, link);
    expect(enable('other', { file_path: link })).toThrow(/symbolic link/);
    expect(Object.keys(broker.list())).toEqual(['file/']);
    expect(storage.getJSON<{ devices: unknown[] }>('devices')?.devices).toHaveLength(1);
  });

  it('lists devices as sys/audit does, without keys; the stored table is encrypted', async () => {
    const { broker, store, keys } = setup();
    const file = path.join(dir, 'audit.log');
    broker.enable('team/file', { type: 'file', description: 'team log', options: { file_path: file, log_raw: 'false' }, local: true });
    const listing = broker.list();
    expect(listing).toEqual({
      'team/file/': {
        type: 'file',
        description: 'team log',
        options: { file_path: file, log_raw: 'false' },
        local: true,
        path: 'team/file/',
        health: { failures_since_enable: 0, last_error: '', last_error_time: '', last_success_time: '2026-01-01T00:00:00.000Z' },
      },
    });
    const keyB64 = Buffer.from(keys[0] as Uint8Array).toString('base64');
    expect(JSON.stringify(listing)).not.toContain(keyB64);
    const rows = store.db.prepare('SELECT path, value FROM entries').all() as { path: string; value: Buffer }[];
    const ours = rows.filter((r) => r.path.startsWith('core/audit/'));
    expect(ours).toHaveLength(1);
    expect(ours[0]?.value.toString('latin1')).not.toContain(keyB64);
    expect(ours[0]?.value.toString('latin1')).not.toContain(file);
  });

  it('hash refuses an unknown device', async () => {
    const { broker } = setup();
    expect(() => broker.hash('nope', 'x')).toThrow(/unknown audit backend nope\//);
  });

  it('disable closes the file, forgets the device and destroys its key', async () => {
    const { broker, keys } = setup();
    const file = path.join(dir, 'audit.log');
    broker.enable('file', { type: 'file', description: '', options: { file_path: file }, local: false });
    const openFds = () => (fs.existsSync('/proc/self/fd') ? fs.readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`) === file;
      } catch {
        return false;
      }
    }).length : 0);
    if (fs.existsSync('/proc/self/fd')) expect(openFds()).toBe(1);
    broker.disable('file');
    expect(openFds()).toBe(0);
    expect(broker.hasDevices()).toBe(false);
    expect(broker.list()).toEqual({});
    expect(keys[0]?.every((b) => b === 0)).toBe(true);
    await broker.logRequest(requestInput());
    expect(auditText(file)).toBe('');
    // Disabling a path with no device is not an error.
    broker.disable('file');
  });

  it('unload zeroes keys; load reopens devices from storage with the same keys', async () => {
    const { broker, keys, storage, clock, logger } = setup();
    const file = path.join(dir, 'audit.log');
    broker.enable('file', { type: 'file', description: '', options: { file_path: file }, local: false });
    const before = broker.hash('file', TOKEN);
    broker.unload();
    expect(keys[0]?.every((b) => b === 0)).toBe(true);
    expect(broker.hasDevices()).toBe(false);

    broker.load();
    expect(broker.hasDevices()).toBe(true);
    expect(broker.hash('file', TOKEN)).toBe(before);
    await broker.logRequest(requestInput());
    expect(readLines(file)[0]?.request.client_token).toBe(before);

    // A second broker over the same storage (a restart) sees the same device and key.
    const restarted = new AuditBroker({ storage, clock, logger });
    restarted.load();
    expect(restarted.hash('file', TOKEN)).toBe(before);
    restarted.unload();
    broker.unload();
  });

  it('a device that cannot open at load fails closed, then recovers once the file can be opened', async () => {
    const { broker, errors } = setup();
    const logDir = path.join(dir, 'logs');
    fs.mkdirSync(logDir);
    const file = path.join(logDir, 'audit.log');
    broker.enable('file', { type: 'file', description: '', options: { file_path: file }, local: false });
    broker.unload();
    fs.rmSync(logDir, { recursive: true });
    broker.load();
    expect(errors).toHaveLength(1);
    await expect(broker.logRequest(requestInput())).rejects.toThrow(AuditFailureError);
    fs.mkdirSync(logDir);
    await broker.logRequest(requestInput());
    expect(readLines(file)).toHaveLength(1);
    broker.unload();
  });

  it('reopens files for rotation', async () => {
    const { broker } = setup();
    const file = path.join(dir, 'audit.log');
    broker.enable('file', { type: 'file', description: '', options: { file_path: file }, local: false });
    await broker.logRequest(requestInput());
    fs.renameSync(file, `${file}.1`);
    broker.reopen();
    await broker.logRequest(requestInput());
    expect(readLines(`${file}.1`)).toHaveLength(1);
    expect(readLines(file)).toHaveLength(1);
    broker.unload();
  });
});

describe('audit line layout', () => {
  it("writes Vault's top-level field order, with and without an error, and escapes error text", async () => {
    const { broker } = setup();
    const file = path.join(dir, 'layout.log');
    broker.enable('file', { type: 'file', description: '', options: { file_path: file, prefix: 'AUDIT: ' }, local: false });
    const error = 'bad "input"\nsecond line \u2028 done';
    await broker.logRequest(requestInput({ requestId: 'ok-1' }));
    await broker.logResponse(responseInput({ requestId: 'ok-1' }));
    await broker.logRequest(requestInput({ requestId: 'err-1', error }));
    await broker.logResponse(responseInput({ requestId: 'err-1', error }));

    const raw = auditText(file).split('\n');
    expect(raw.pop()).toBe('');
    expect(raw).toHaveLength(4);
    const entries = raw.map((line) => {
      expect(line.startsWith('AUDIT: {')).toBe(true);
      return JSON.parse(line.slice('AUDIT: '.length)) as Record<string, unknown>;
    });
    expect(entries.map((e) => Object.keys(e))).toEqual([
      ['time', 'auth', 'request', 'type'],
      ['time', 'auth', 'request', 'response', 'type'],
      ['time', 'auth', 'error', 'request', 'type'],
      ['time', 'auth', 'error', 'request', 'response', 'type'],
    ]);
    expect(entries[2]?.error).toBe(error);
    expect(entries[3]?.error).toBe(error);
    // The response entry repeats the request entry's hashed blocks byte for byte.
    expect(entries[1]?.auth).toEqual(entries[0]?.auth);
    expect(entries[1]?.request).toEqual(entries[0]?.request);
    // Each line is exactly what serialising the parsed entry gives: no stray whitespace or duplicate keys.
    entries.forEach((entry, i) => expect(`AUDIT: ${JSON.stringify(entry)}`).toBe(raw[i]));
  });
});
