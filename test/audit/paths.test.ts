// sys/audit, sys/audit/:path and sys/audit-hash/:path through the generic router, as Vault's API.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditBroker } from '../../src/core/audit/broker';
import { auditPaths } from '../../src/core/audit/paths';
import { ManualClock } from '../../src/util/clock';
import { memoryStorage, mountForTest } from '../helpers/backend';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-audit-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function setup() {
  const broker = new AuditBroker({
    storage: memoryStorage().view('core/audit/'),
    clock: new ManualClock(),
    logger: { info: () => {}, warn: () => {}, error: () => {} },
  });
  const { call, backend } = mountForTest(() => ({ paths: auditPaths(broker) }), {}, 'sys/');
  return { broker, call, backend };
}

describe('sys/audit paths', () => {
  it('marks list, enable and disable as sudo, not audit-hash', () => {
    const { backend } = setup();
    const byPattern = Object.fromEntries(backend.paths.map((p) => [p.pattern, p]));
    expect(byPattern['audit']?.sudo).toBe(true);
    expect(byPattern['audit/(?<path>.+)']?.sudo).toBe(true);
    expect(byPattern['audit-hash/(?<path>.+)']?.sudo).toBeFalsy();
  });

  it('enables, lists, hashes and disables a device', async () => {
    const { call, broker } = setup();
    const file = path.join(dir, 'audit.log');
    // Clients send booleans in options; Vault takes them as strings.
    expect(await call('write', 'audit/file', { type: 'file', description: 'main', options: { file_path: file, hmac_accessor: false }, local: false })).toBeUndefined();

    const listed = await call('read', 'audit');
    expect(listed?.topLevelData).toBe(true);
    expect(listed?.data).toEqual({
      'file/': {
        type: 'file',
        description: 'main',
        options: { file_path: file, hmac_accessor: 'false' },
        local: false,
        path: 'file/',
        health: { failures_since_enable: 0, last_error: '', last_error_time: '', last_success_time: expect.any(String) },
      },
    });

    const hashed = await call('write', 'audit-hash/file', { input: 'hvs.some-token' });
    expect(hashed?.data).toEqual({ hash: broker.hash('file', 'hvs.some-token') });
    expect(String(hashed?.data?.hash)).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);

    await expect(call('write', 'audit/file', { type: 'file', options: { file_path: file } })).rejects.toThrow('path already in use');
    await expect(call('write', 'audit/other', { options: { file_path: file } })).rejects.toThrow(/'type'/);
    await expect(call('write', 'audit-hash/file', {})).rejects.toThrow(/input/);
    await expect(call('write', 'audit-hash/nope', { input: 'x' })).rejects.toThrow(/unknown audit backend/);
    await expect(call('write', 'audit/other', { type: 'file', options: 'not-a-map' })).rejects.toThrow(/options/);

    expect(await call('delete', 'audit/file')).toBeUndefined();
    expect((await call('read', 'audit'))?.data).toEqual({});
  });
});
