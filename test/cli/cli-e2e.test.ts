// End to end: the `leasehold` CLI as a child process against a real in-process dev server.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { useCliHarness } from './cli-harness';

const { cli, workDir } = useCliHarness();

describe('leasehold CLI against a dev server', () => {
  it('status: unsealed, exit code 0', async () => {
    const result = await cli(['status']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Sealed\s+false$/m);
    expect(result.stdout).toMatch(/^Initialized\s+true$/m);
  });

  it('secrets enable -version 2 -path kv2 kv, then secrets list shows it', async () => {
    const enabled = await cli(['secrets', 'enable', '-version', '2', '-path', 'kv2', 'kv']);
    expect(enabled.stderr).toBe('');
    expect(enabled.stdout.trim()).toBe('Success! Enabled the kv secrets engine at: kv2/');
    const listed = await cli(['secrets', 'list']);
    expect(listed.stdout).toMatch(/^kv2\/\s+kv\s+/m);
  });

  it('kv put, kv get (table, -field, json), kv list on the v2 mount', async () => {
    const passwordFile = path.join(workDir(), 'password.txt');
    writeFileSync(passwordFile, 'pa=ss');
    const put = await cli(['kv', 'put', 'kv2/app/db', 'user=admin', `password=@${passwordFile}`]);
    expect(put.stderr).toBe('');
    expect(put.code).toBe(0);
    expect(put.stdout).toMatch(/^=+ Secret Path =+\nkv2\/data\/app\/db$/m);
    expect(put.stdout).toMatch(/^version\s+1$/m);

    const table = await cli(['kv', 'get', 'kv2/app/db']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^user\s+admin$/m);
    expect(table.stdout).toMatch(/^password\s+pa=ss$/m);

    const field = await cli(['kv', 'get', '-mount=kv2', '-field=password', 'app/db']);
    expect(field.stdout).toBe('pa=ss');

    const json = await cli(['kv', 'get', '-format=json', 'kv2/app/db']);
    expect(JSON.parse(json.stdout).data.data).toEqual({ user: 'admin', password: 'pa=ss' });

    const list = await cli(['kv', 'list', 'kv2/app']);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe('Keys\n----\ndb\n');
  });

  it('kv put - reads JSON from stdin; a missing secret exits 2', async () => {
    const put = await cli(['kv', 'put', '-mount=kv2', 'piped', '-'], { input: '{"api_key": "abc"}' });
    expect(put.code).toBe(0);
    const get = await cli(['kv', 'get', '-field=api_key', 'kv2/piped']);
    expect(get.stdout).toBe('abc');
    const missing = await cli(['kv', 'get', 'kv2/nothing-here']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No value found at kv2/data/nothing-here');
  });

  it("prints Vault's errors with exit code 2 and never the token", async () => {
    const token = 'not-a-real-token-0123456789';
    const result = await cli(['kv', 'get', 'kv2/app/db'], { token });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Code: 403');
    expect(result.stderr).toContain('permission denied');
    expect(result.stdout + result.stderr).not.toContain(token);
  });
});
