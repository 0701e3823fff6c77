// Pure helpers of the token, policy, audit, auth and lease commands: request paths and bodies, usage errors, tables.
import { auditEnableBody, auditTable } from '../../src/cli/commands/audit';
import { leaseRevokeRequest } from '../../src/cli/commands/lease';
import { policyName, readPolicySource } from '../../src/cli/commands/policy';
import { enablePath, mountFlagsBody } from '../../src/cli/commands/secrets';
import {
  capabilitiesFrom,
  capabilitiesRequest,
  type CreateOptions,
  tokenCreateRequest,
  tokenLookupRequest,
  tokenRenewRequest,
  tokenRevokeRequest,
  withoutTokenValue,
} from '../../src/cli/commands/token';
import { parseDurationFlag } from '../../src/cli/context';
import { tableCell } from '../../src/cli/format';
import { listingData } from '../../src/cli/output';

const create = (options: Partial<CreateOptions>): CreateOptions => ({ policy: [], metadata: [], ...options });

describe('token', () => {
  it('builds token create requests: create, create-orphan, a role', () => {
    expect(tokenCreateRequest(create({}))).toEqual({ path: 'auth/token/create', body: {} });
    expect(
      tokenCreateRequest(
        create({ policy: ['a,b', 'c'], metadata: ['team=ci'], ttl: '1h', explicitMaxTtl: '2h', period: '30m', useLimit: '3', displayName: 'x', renewable: false, defaultPolicy: false }),
      ),
    ).toEqual({
      path: 'auth/token/create',
      body: { policies: ['a', 'b', 'c'], meta: { team: 'ci' }, ttl: '1h', explicit_max_ttl: '2h', period: '30m', num_uses: 3, display_name: 'x', renewable: false, no_default_policy: true },
    });
    expect(tokenCreateRequest(create({ orphan: true, numUses: '2' }))).toEqual({ path: 'auth/token/create-orphan', body: { num_uses: 2 } });
    expect(tokenCreateRequest(create({ role: 'ci', orphan: true }))).toEqual({ path: 'auth/token/create/ci', body: { no_parent: true } });
    expect(() => tokenCreateRequest(create({ numUses: 'many' }))).toThrow(/-num-uses must be an integer/);
    expect(() => tokenCreateRequest(create({ metadata: ['novalue'] }))).toThrow(/-metadata must be key=value/);
  });

  it('looks up the current token with a GET, others with a body', () => {
    expect(tokenLookupRequest(undefined, {})).toEqual({ path: 'auth/token/lookup-self' });
    expect(tokenLookupRequest('t', {})).toEqual({ path: 'auth/token/lookup', body: { token: 't' } });
    expect(tokenLookupRequest('acc', { accessor: true })).toEqual({ path: 'auth/token/lookup-accessor', body: { accessor: 'acc' } });
    expect(() => tokenLookupRequest(undefined, { accessor: true })).toThrow(/Not enough arguments with -accessor/);
  });

  it('renews itself, a token or an accessor, with an optional increment', () => {
    expect(tokenRenewRequest(undefined, {}, 60)).toEqual({ path: 'auth/token/renew-self', body: { increment: 60 } });
    expect(tokenRenewRequest('t', {})).toEqual({ path: 'auth/token/renew', body: { token: 't' } });
    expect(tokenRenewRequest('acc', { accessor: true }, 5)).toEqual({ path: 'auth/token/renew-accessor', body: { increment: 5, accessor: 'acc' } });
  });

  it('revokes by token, accessor, self, orphan or path, refusing what Vault refuses', () => {
    expect(tokenRevokeRequest('t', {})).toEqual({ path: 'auth/token/revoke', body: { token: 't' } });
    expect(tokenRevokeRequest('t', { mode: 'orphan' })).toEqual({ path: 'auth/token/revoke-orphan', body: { token: 't' } });
    expect(tokenRevokeRequest('auth/approle/', { mode: 'path' })).toEqual({ path: 'sys/leases/revoke-prefix/auth/approle/', body: {} });
    expect(tokenRevokeRequest('acc', { accessor: true })).toEqual({ path: 'auth/token/revoke-accessor', body: { accessor: 'acc' } });
    expect(tokenRevokeRequest(undefined, { self: true })).toEqual({ path: 'auth/token/revoke-self', body: {} });
    expect(() => tokenRevokeRequest(undefined, {})).toThrow(/expected 1 or -self/);
    expect(() => tokenRevokeRequest('t', { self: true })).toThrow(/Too many arguments with -self/);
    expect(() => tokenRevokeRequest('t', { accessor: true, mode: 'orphan' })).toThrow('Cannot use -accessor with -mode=orphan!');
    expect(() => tokenRevokeRequest(undefined, { self: true, mode: 'orphan' })).toThrow('Cannot use -self with -mode!');
    expect(() => tokenRevokeRequest('t', { mode: 'tree' })).toThrow('Invalid mode: tree');
  });

  it('asks sys/capabilities or capabilities-self and reads the answer under the path', () => {
    expect(capabilitiesRequest(undefined, 'p')).toEqual({ path: 'sys/capabilities-self', body: { path: 'p' } });
    expect(capabilitiesRequest('t', 'p')).toEqual({ path: 'sys/capabilities', body: { token: 't', path: 'p' } });
    expect(capabilitiesFrom({ data: { p: ['read'], capabilities: ['deny'] } }, 'p')).toEqual(['read']);
    expect(capabilitiesFrom({ data: { capabilities: ['list'] } }, 'other')).toEqual(['list']);
    expect(capabilitiesFrom(undefined, 'p')).toBeUndefined();
  });

  it('blanks the token value in lookup and renewal answers', () => {
    const response = { data: { id: 'hvs.secret', accessor: 'a' }, auth: { client_token: 'hvs.secret', accessor: 'a' } };
    expect(withoutTokenValue(response)).toEqual({ data: { id: '', accessor: 'a' }, auth: { client_token: '', accessor: 'a' } });
    expect(response.data.id).toBe('hvs.secret');
    expect(withoutTokenValue(undefined)).toEqual({});
  });

  it('parses -increment durations', () => {
    expect(parseDurationFlag('increment', '1h30m')).toBe(5400);
    expect(parseDurationFlag('increment', '60')).toBe(60);
    expect(() => parseDurationFlag('increment', 'soon')).toThrow(/-increment must be a duration/);
  });
});

describe('policy', () => {
  it('trims and lower-cases names', () => {
    expect(policyName('  CI-Deploy ')).toBe('ci-deploy');
  });

  it('reads the policy from stdin for "-", else from the file, naming only the file on failure', async () => {
    const sources = { readStdin: async () => 'from stdin', readFile: async (file: string) => (file === 'p.hcl' ? 'from file' : Promise.reject(Object.assign(new Error('x'), { code: 'ENOENT' }))) };
    await expect(readPolicySource('-', sources)).resolves.toBe('from stdin');
    await expect(readPolicySource('p.hcl', sources)).resolves.toBe('from file');
    await expect(readPolicySource('missing.hcl', sources)).rejects.toThrow('Error opening policy file: cannot read file "missing.hcl" (ENOENT)');
  });
});

describe('audit', () => {
  it('sends the options as strings', () => {
    expect(auditEnableBody('file', { file_path: '/tmp/a.log', log_raw: true }, { description: 'd' })).toEqual({
      type: 'file',
      description: 'd',
      options: { file_path: '/tmp/a.log', log_raw: 'true' },
      local: false,
    });
  });

  it('lists devices sorted by path, with replication and sorted options when detailed', () => {
    const devices = {
      'z/': { type: 'file', description: '', options: { mode: '0600', file_path: '/z' }, local: true, path: 'z/' },
      'a/': { type: 'file', description: 'main', options: {}, local: false, path: 'a/' },
    };
    expect(auditTable(devices, false)).toEqual({
      header: ['Path', 'Type', 'Description'],
      rows: [
        ['a/', 'file', 'main'],
        ['z/', 'file', 'n/a'],
      ],
    });
    expect(auditTable(devices, true).rows).toEqual([
      ['a/', 'file', 'main', 'replicated', 'n/a'],
      ['z/', 'file', 'n/a', 'local', 'file_path=/z mode=0600'],
    ]);
  });
});

describe('mount flags and listings', () => {
  it('builds enable paths and bodies shared by secrets enable and auth enable', () => {
    expect(enablePath('approle', {})).toBe('approle/');
    expect(enablePath('approle', { path: '/ci/' })).toBe('ci/');
    expect(() => enablePath('approle', { path: '/' })).toThrow(/cannot be empty/);
    expect(mountFlagsBody('approle', { options: [], description: 'd', maxLeaseTtl: '1h' })).toEqual({ type: 'approle', description: 'd', config: { max_lease_ttl: '1h' } });
    expect(mountFlagsBody('kv', { options: ['version=2'] }, 1)).toEqual({ type: 'kv', description: '', options: { version: '1' } });
  });

  it('reads listings from data or the bare object, and shows empty cells as n/a', () => {
    expect(listingData({ data: { 'a/': {} } })).toEqual({ 'a/': {} });
    expect(listingData({ 'a/': {} })).toEqual({ 'a/': {} });
    expect(listingData(undefined)).toEqual({});
    expect(tableCell('')).toBe('n/a');
    expect(tableCell(null)).toBe('n/a');
    expect(tableCell(['a', 'b'])).toBe('[a b]');
  });
});

describe('lease', () => {
  it('revokes one lease, a prefix, or forcibly, queued unless -sync', () => {
    expect(leaseRevokeRequest('db/creds/r/1', {})).toEqual({
      path: 'sys/leases/revoke',
      body: { lease_id: 'db/creds/r/1', sync: false },
      what: 'revoking lease db/creds/r/1',
      success: 'All revocation operations queued successfully!',
    });
    expect(leaseRevokeRequest('db/', { prefix: true, sync: true })).toMatchObject({ path: 'sys/leases/revoke-prefix/db/', body: { sync: true }, success: 'Success! Revoked any leases with prefix: db/' });
    expect(leaseRevokeRequest('db/', { prefix: true, force: true })).toMatchObject({ path: 'sys/leases/revoke-force/db/', success: 'Success! Force revoked any leases with prefix: db/' });
    expect(() => leaseRevokeRequest('db/', { force: true })).toThrow('Specifying -force requires also specifying -prefix');
  });
});
