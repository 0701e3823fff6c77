// Pure helpers of the command modules: KV paths, mount bodies, versions, server options and banners.
import { parseMountPreflight, joinPath, kvApiPath, splitMountPath } from '../../src/cli/kv-paths';
import { enableRequestBody, mountPathWithSlash, mountRows } from '../../src/cli/commands/secrets';
import { parseVersions } from '../../src/cli/commands/kv';
import { formatInitResult, initResultFrom } from '../../src/cli/commands/operator';
import { sealStatusEntries } from '../../src/cli/commands/status';
import { formatDevBanner, formatServerBanner, parseServerConfig, resolveServerOptions } from '../../src/cli/commands/server';
import { dataToQuery } from '../../src/cli/commands/generic';

describe('KV paths', () => {
  it('reads the mount preflight: data.path and options.version', () => {
    expect(parseMountPreflight({ data: { path: 'secret/', options: { version: '2' } } })).toEqual({ mountPath: 'secret/', version: 2 });
    expect(parseMountPreflight({ data: { path: 'kv1', options: null } })).toEqual({ mountPath: 'kv1/', version: 1 });
    expect(parseMountPreflight(undefined)).toEqual({ mountPath: '', version: 1 });
  });

  it('builds v1 and v2 API paths', () => {
    const v2 = { mountPath: 'secret/', relativePath: 'app/db', version: 2 as const };
    expect(kvApiPath(v2, 'data')).toBe('secret/data/app/db');
    expect(kvApiPath({ ...v2, relativePath: 'app/' }, 'metadata')).toBe('secret/metadata/app/');
    expect(kvApiPath({ ...v2, relativePath: '' }, 'metadata')).toBe('secret/metadata');
    expect(kvApiPath({ ...v2, version: 1 }, 'data')).toBe('secret/app/db');
    expect(splitMountPath('secret/app/db', 'secret/')).toBe('app/db');
    expect(splitMountPath('secret', 'secret/')).toBe('');
    expect(joinPath('a/', '/b/', '', 'c/')).toBe('a/b/c/');
  });

  it('parses -versions lists', () => {
    expect(parseVersions(['1,2', '5'])).toEqual([1, 2, 5]);
    expect(() => parseVersions(['x'])).toThrow(/-versions must be an integer/);
  });
});

describe('secrets', () => {
  it('builds the sys/mounts body; kv-v2 means kv with version "2"', () => {
    expect(enableRequestBody('kv', { version: 2, description: 'd' })).toEqual({ type: 'kv', description: 'd', options: { version: '2' } });
    expect(enableRequestBody('kv-v2', {})).toEqual({ type: 'kv', description: '', options: { version: '2' } });
    expect(enableRequestBody('database', { config: { max_lease_ttl: '24h' } })).toEqual({ type: 'database', description: '', config: { max_lease_ttl: '24h' } });
    expect(mountPathWithSlash('/kv2')).toBe('kv2/');
  });

  it('lists mounts sorted by path from data or the top level', () => {
    const rows = mountRows({ data: { 'sys/': { type: 'system', accessor: 'system_1', description: 'sys' }, 'kv2/': { type: 'kv', accessor: 'kv_2' } } });
    expect(rows).toEqual([
      ['kv2/', 'kv', 'kv_2', 'n/a'],
      ['sys/', 'system', 'system_1', 'sys'],
    ]);
  });
});

describe('operator and status', () => {
  it('prints init keys and root token, with threshold wording', () => {
    const result = initResultFrom({ keys: ['aa', 'bb'], keys_base64: ['qg==', 'uw=='], root_token: 'hvs.root' }, 2, 1);
    const text = formatInitResult(result);
    expect(text).toContain('Unseal Key 1: qg==\nUnseal Key 2: uw==');
    expect(text).toContain('Initial Root Token: hvs.root');
    expect(text).toContain('at least 1 of these keys');
  });

  it('shows unseal progress only while sealed', () => {
    const sealed = sealStatusEntries({ type: 'shamir', initialized: true, sealed: true, n: 5, t: 3, progress: 1, nonce: 'n' });
    expect(sealed).toContainEqual(['Unseal Progress', '1/3']);
    const open = sealStatusEntries({ type: 'shamir', initialized: true, sealed: false, n: 1, t: 1, version: '0.1.0' });
    expect(open.map(([key]) => key)).toEqual(['Seal Type', 'Initialized', 'Sealed', 'Total Shares', 'Threshold', 'Version']);
  });
});

describe('server', () => {
  it('merges flags over the config file', () => {
    const config = parseServerConfig('{"listen": "0.0.0.0:8200", "data_dir": "/var/lib/leasehold", "log_level": "warn"}', 'c.json');
    expect(resolveServerOptions({ listen: '127.0.0.1:9000' }, config)).toEqual({
      dev: false,
      listen: '127.0.0.1:9000',
      dataDir: '/var/lib/leasehold',
      logLevel: 'warn',
    });
    expect(resolveServerOptions({ dev: true, devRootTokenId: 'root' })).toEqual({ dev: true, devRootTokenId: 'root' });
    expect(() => resolveServerOptions({ devRootTokenId: 'root' })).toThrow(/requires -dev/);
    expect(() => parseServerConfig('{"listen": 1}', 'c.json')).toThrow(/"listen"/);
    expect(() => parseServerConfig('{"unknown": true}', 'c.json')).toThrow(/c\.json/);
  });

  it('prints the root token only in the dev banner', () => {
    const dev = formatDevBanner({ url: 'http://127.0.0.1:8200', rootToken: 'root', unsealKey: 'key' });
    expect(dev).toContain("export VAULT_ADDR='http://127.0.0.1:8200'");
    expect(dev).toContain("export LEASEHOLD_ADDR='http://127.0.0.1:8200'");
    expect(dev).toContain('Root Token: root');
    expect(dev).toContain('Unseal Key: key');
    expect(formatServerBanner({ url: 'http://x:1' })).not.toMatch(/Token|Unseal/);
  });
});

describe('generic', () => {
  it('turns data into query parameters', () => {
    expect(dataToQuery({ a: 'x', list: ['1', '2'], n: 3 })).toEqual({ a: 'x', list: '1,2', n: '3' });
  });
});
