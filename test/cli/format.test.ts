// Table and value formatting as Vault prints it.
import {
  formatGoValue,
  formatKeysTable,
  formatKeyValueTable,
  formatTable,
  headerForKeys,
  humanDuration,
  lookupField,
  padEqualSigns,
  parseOutputFormat,
  secretEntries,
} from '../../src/cli/format';
import { formatKvMetadata, formatKvV2Secret } from '../../src/cli/kv-format';

describe('formatGoValue', () => {
  it("prints values the way Go's %v does", () => {
    expect(formatGoValue(null)).toBe('<nil>');
    expect(formatGoValue('text')).toBe('text');
    expect(formatGoValue(3)).toBe('3');
    expect(formatGoValue(false)).toBe('false');
    expect(formatGoValue(['a', 'b'])).toBe('[a b]');
    expect(formatGoValue({ z: 1, a: { b: 'c' } })).toBe('map[a:map[b:c] z:1]');
  });
});

describe('humanDuration', () => {
  it("drops Go's zero minutes and seconds", () => {
    expect(humanDuration(0)).toBe('0s');
    expect(humanDuration(45)).toBe('45s');
    expect(humanDuration(2_764_800)).toBe('768h');
    expect(humanDuration(5400)).toBe('1h30m');
    expect(humanDuration(3630)).toBe('1h30s');
  });
});

describe('tables', () => {
  it('aligns columns with four spaces and underlines the header', () => {
    expect(formatKeyValueTable([['a', 'x'], ['longer_key', 'y']])).toBe(['Key           Value', '---           -----', 'a             x', 'longer_key    y'].join('\n'));
    expect(formatTable(['Path', 'Type'], [['secret/', 'kv']])).toBe('Path       Type\n----       ----\nsecret/    kv');
    expect(formatKeysTable(['a', 'b/'])).toBe('Keys\n----\na\nb/');
  });

  it('shows lease, auth and sorted data rows like vault read', () => {
    const entries = secretEntries({
      lease_id: '',
      lease_duration: 2_764_800,
      data: { zeta: 'z', alpha: 1, token_ttl: 3600 },
    });
    expect(entries).toEqual([
      ['refresh_interval', '768h'],
      ['alpha', 1],
      ['token_ttl', '1h'],
      ['zeta', 'z'],
    ]);
    const login = secretEntries({ auth: { client_token: 't', accessor: 'acc', lease_duration: 0, renewable: false, policies: ['root'] } });
    expect(login).toContainEqual(['token_duration', '∞']);
    expect(login).toContainEqual(['policies', '["root"]']);
  });

  it("centres headers with Vault's arithmetic", () => {
    expect(padEqualSigns('Secret Path', 'secret/data/creds'.length)).toBe('== Secret Path ==');
    expect(headerForKeys('Metadata', ['created_time', 'custom_metadata', 'version'])).toBe('======= Metadata =======');
    expect(headerForKeys('Data', ['foo'])).toBe('=== Data ===');
    expect(padEqualSigns('Very long header', 3)).toBe('== Very long header ==');
  });

  it('lays out kv get and kv metadata get in sections', () => {
    const secret = formatKvV2Secret(
      'secret/data/creds',
      { data: { data: { password: 'p' }, metadata: { created_time: 't0', custom_metadata: null, deletion_time: '', destroyed: false, version: 1 } } },
      'read',
    );
    expect(secret).toBe(
      [
        '== Secret Path ==',
        'secret/data/creds',
        '',
        '======= Metadata =======',
        'Key                Value',
        '---                -----',
        'created_time       t0',
        'custom_metadata    <nil>',
        'deletion_time      n/a',
        'destroyed          false',
        'version            1',
        '',
        '====== Data ======',
        'Key         Value',
        '---         -----',
        'password    p',
      ].join('\n'),
    );
    const metadata = formatKvMetadata('secret/metadata/creds', {
      data: { current_version: 2, versions: { '10': { destroyed: false }, '2': { destroyed: true } } },
    });
    expect(metadata.indexOf('Version 2')).toBeLessThan(metadata.indexOf('Version 10'));
    expect(metadata).toContain('current_version    2');
  });
});

describe('fields and formats', () => {
  it('finds -field values in data, then auth', () => {
    expect(lookupField({ data: { password: 'p' } }, 'password')).toBe('p');
    expect(lookupField({ auth: { client_token: 't' } }, 'token')).toBe('t');
    expect(lookupField({ data: {} }, 'missing')).toBeUndefined();
  });

  it('accepts table and json only', () => {
    expect(parseOutputFormat('JSON')).toBe('json');
    expect(() => parseOutputFormat('pretty')).toThrow(/invalid format/);
  });
});

describe('formatYaml', () => {
  it("prints JSON values as Go's yaml does: sorted keys, lists at the key's indentation, quoted ambiguous strings", () => {
    const { formatYaml } = jest.requireActual<typeof import('../../src/cli/format')>('../../src/cli/format');
    expect(formatYaml({ z: 1, a: { b: 'c', list: ['x', 'true'], empty: {}, none: [] }, n: null, s: '123', t: 'a: b' })).toBe(
      ['a:', '  b: c', '  empty: {}', '  list:', '  - x', '  - "true"', '  none: []', '"n": null', 's: "123"', 't: "a: b"', 'z: 1'].join('\n'),
    );
    expect(formatYaml([{ a: 1, b: 2 }, 'y'])).toBe(['- a: 1', '  b: 2', '- "y"'].join('\n'));
    expect(parseOutputFormat('YAML')).toBe('yaml');
  });
});
