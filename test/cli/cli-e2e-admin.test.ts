// End to end: the admin command groups (policy, token, audit, auth, lease) and an AppRole login through `write`.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { useCliHarness } from './cli-harness';

const { cli, workDir } = useCliHarness();

const POLICY = 'path "secret/data/ci/*" {\n  capabilities = ["read", "list"]\n}\n';

/** The value of one row of a Key/Value table. */
function row(stdout: string, key: string): string | undefined {
  const line = stdout.split('\n').find((candidate) => candidate.split(/\s+/)[0] === key);
  return line?.slice(key.length).trim();
}

describe('leasehold admin commands against a dev server', () => {
  let token = '';
  let accessor = '';
  let roleId = '';
  let secretId = '';
  let loginToken = '';

  it('policy write NAME - reads the policy from stdin; read and list show it', async () => {
    const written = await cli(['policy', 'write', 'CI', '-'], { input: POLICY });
    expect(written.stderr).toBe('');
    expect(written.code).toBe(0);
    expect(written.stdout).toBe('Success! Uploaded policy: ci\n');

    const read = await cli(['policy', 'read', 'ci']);
    expect(read.stdout).toBe(`${POLICY.trim()}\n`);
    const json = await cli(['policy', 'read', '-format=json', 'ci']);
    expect(JSON.parse(json.stdout)).toEqual({ policy: POLICY });

    const list = await cli(['policy', 'list']);
    expect(list.stdout.split('\n')).toEqual(expect.arrayContaining(['ci', 'default', 'root']));
    const missing = await cli(['policy', 'read', 'nothing']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('No policy named: nothing\n');
  });

  it('token create -policy prints the new token and its auth block', async () => {
    const table = await cli(['token', 'create', '-policy=ci', '-ttl=1h', '-metadata', 'team=ci']);
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    expect(row(table.stdout, 'token')).toMatch(/^hvs\./);
    expect(row(table.stdout, 'token_duration')).toBe('1h');
    expect(row(table.stdout, 'token_policies')).toBe('["ci" "default"]');
    expect(row(table.stdout, 'token_meta_team')).toBe('ci');

    const json = await cli(['token', 'create', '-policy=ci', '-format=json']);
    const auth = JSON.parse(json.stdout).auth;
    token = auth.client_token;
    accessor = auth.accessor;
    expect(token).toMatch(/^hvs\./);
  });

  it('token lookup shows the token without printing it, by value, by accessor or as itself', async () => {
    const lookup = await cli(['token', 'lookup', token]);
    expect(lookup.code).toBe(0);
    expect(row(lookup.stdout, 'policies')).toBe('[ci default]');
    expect(row(lookup.stdout, 'accessor')).toBe(accessor);
    expect(lookup.stdout).not.toContain(token);

    const self = await cli(['token', 'lookup', '-format=json'], { token });
    expect(JSON.parse(self.stdout).data).toMatchObject({ accessor, id: '', policies: ['ci', 'default'] });
    expect(self.stdout).not.toContain(token);

    const byAccessor = await cli(['token', 'lookup', '-accessor', accessor]);
    expect(row(byAccessor.stdout, 'display_name')).toBe('token');

    const capabilities = await cli(['token', 'capabilities', token, 'secret/data/ci/app']);
    expect(capabilities.stdout).toBe('list, read\n');
    const own = await cli(['token', 'capabilities', 'sys/mounts'], { token });
    expect(own.stdout).toBe('deny\n');
  });

  it('token renew -increment renews without printing the token', async () => {
    const renewed = await cli(['token', 'renew', '-increment=30m', token]);
    expect(renewed.code).toBe(0);
    expect(row(renewed.stdout, 'token_duration')).toBe('30m');
    expect(renewed.stdout).not.toContain(token);
  });

  it('audit enable file file_path=..., then audit list shows the device and the log fills', async () => {
    const logPath = path.join(workDir(), 'audit.log');
    const enabled = await cli(['audit', 'enable', 'file', `file_path=${logPath}`]);
    expect(enabled.stderr).toBe('');
    expect(enabled.stdout).toBe('Success! Enabled the file audit device at: file/\n');

    const list = await cli(['audit', 'list']);
    expect(list.stdout).toMatch(/^Path\s+Type\s+Description\n-+\s+-+\s+-+\nfile\/\s+file\s+n\/a\n$/);
    const detailed = await cli(['audit', 'list', '-detailed']);
    expect(detailed.stdout).toContain(`replicated     file_path=${logPath}`);
    expect(existsSync(logPath) && readFileSync(logPath, 'utf8')).toContain('sys/audit');
  });

  it('auth enable approle, then auth list shows it', async () => {
    const enabled = await cli(['auth', 'enable', 'approle']);
    expect(enabled.stderr).toBe('');
    expect(enabled.stdout).toBe('Success! Enabled approle auth method at: approle/\n');
    const list = await cli(['auth', 'list']);
    expect(list.stdout).toMatch(/^approle\/\s+approle\s+auth_approle_[0-9a-f]{8}\s+n\/a$/m);
    expect(list.stdout).toMatch(/^token\/\s+token\s+/m);
  });

  it('sets up an AppRole through write and read', async () => {
    const role = await cli(['write', 'auth/approle/role/ci', 'token_policies=ci', 'token_ttl=20m']);
    expect(role.stdout).toBe('Success! Data written to: auth/approle/role/ci\n');

    const read = await cli(['read', 'auth/approle/role/ci/role-id']);
    roleId = row(read.stdout, 'role_id') ?? '';
    expect(roleId).not.toBe('');

    const generated = await cli(['write', '-f', 'auth/approle/role/ci/secret-id']);
    expect(generated.code).toBe(0);
    secretId = row(generated.stdout, 'secret_id') ?? '';
    expect(row(generated.stdout, 'secret_id_accessor')).toBeDefined();
    expect(secretId).not.toBe('');
  });

  it('write auth/approle/login prints the auth block as vault does', async () => {
    const login = await cli(['write', 'auth/approle/login', `role_id=${roleId}`, `secret_id=${secretId}`], { token: '' });
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    const keys = login.stdout.split('\n').map((line) => line.split(/\s+/)[0]);
    expect(keys).toEqual(['Key', '---', 'token', 'token_accessor', 'token_duration', 'token_renewable', 'token_policies', 'identity_policies', 'policies', 'token_meta_role_name', '']);
    loginToken = row(login.stdout, 'token') ?? '';
    expect(loginToken).toMatch(/^hvs\./);
    expect(row(login.stdout, 'token_duration')).toBe('20m');
    expect(row(login.stdout, 'token_renewable')).toBe('true');
    expect(row(login.stdout, 'token_policies')).toBe('["ci" "default"]');

    const self = await cli(['token', 'lookup'], { token: loginToken });
    expect(row(self.stdout, 'path')).toBe('auth/approle/login');
  });

  it('token revoke revokes the token; a lookup then fails without echoing it', async () => {
    for (const value of [token, loginToken]) {
      const revoked = await cli(['token', 'revoke', value]);
      expect(revoked.code).toBe(0);
      expect(revoked.stdout).toBe('Success! Revoked token (if it existed)\n');
      const lookup = await cli(['token', 'lookup', value]);
      expect(lookup.code).toBe(2);
      expect(lookup.stderr).toMatch(/^Error looking up token: /);
      expect(lookup.stdout + lookup.stderr).not.toContain(value);
    }
    const usage = await cli(['token', 'revoke', '-self', '-accessor']);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toBe('Cannot use -self with -accessor!\n');
  });

  it('audit disable and auth disable remove what was enabled', async () => {
    expect((await cli(['audit', 'disable', 'file'])).stdout).toBe('Success! Disabled audit device (if it was enabled) at: file/\n');
    expect((await cli(['audit', 'list'])).stdout).toBe('No audit devices are enabled.\n');
    expect((await cli(['auth', 'disable', 'approle'])).stdout).toBe('Success! Disabled the auth method (if it existed) at: approle/\n');
    expect((await cli(['auth', 'list'])).stdout).not.toContain('approle/');
  });

  it('lease commands report an unknown lease as Vault does', async () => {
    const lookup = await cli(['lease', 'lookup', 'kv/creds/nothing']);
    expect(lookup.code).toBe(2);
    expect(lookup.stderr).toMatch(/^Error looking up lease: /);
    const revoke = await cli(['lease', 'revoke', '-force', 'kv/']);
    expect(revoke.code).toBe(1);
    expect(revoke.stderr).toBe('Specifying -force requires also specifying -prefix\n');
    const prefix = await cli(['lease', 'revoke', '-prefix', '-sync', 'kv/creds/']);
    expect(prefix.stdout).toBe('Success! Revoked any leases with prefix: kv/creds/\n');
  });
});
