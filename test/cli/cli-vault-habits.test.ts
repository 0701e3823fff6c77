// `vault` CLI habits (issue 14): each run as a child process against a real dev server.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type CliHarness, startCliHarness } from './cli-harness';

// Each test runs the CLI several times, each a fresh Node process under tsx: on a loaded 2-core
// machine one test took over 30 s once. The assertions, not the clock, decide these tests.
jest.setTimeout(90_000);

describe('vault CLI habits', () => {
  let h: CliHarness;
  beforeAll(async () => {
    h = await startCliHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('-format=json -field=X prints the field as JSON, as Vault does', async () => {
    expect((await h.cli(['kv', 'put', 'secret/app', 'password=s3cret'])).code).toBe(0);
    const json = await h.cli(['kv', 'get', '-format=json', '-field=password', 'secret/app']);
    expect(json.code).toBe(0);
    expect(json.stdout.trim()).toBe('"s3cret"');
    const table = await h.cli(['kv', 'get', '-field=password', 'secret/app']);
    expect(table.stdout).toBe('s3cret');
  }, 30_000);

  it('write identity/entity name=x metadata=owner=team-a policies=p stores them as vault write does; repeated metadata= adds keys', async () => {
    const created = await h.cli(['write', '-format=json', 'identity/entity', 'name=habit-entity', 'metadata=owner=team-a', 'policies=p']);
    expect(created.code).toBe(0);
    const id = JSON.parse(created.stdout).data.id as string;
    const read = await h.cli(['read', '-format=json', `identity/entity/id/${id}`]);
    expect(read.code).toBe(0);
    const data = JSON.parse(read.stdout).data as { name: string; metadata: Record<string, string>; policies: string[] };
    expect(data).toEqual(expect.objectContaining({ name: 'habit-entity', metadata: { owner: 'team-a' }, policies: ['p'] }));

    const two = await h.cli(['write', '-format=json', 'identity/entity', 'name=habit-two', 'metadata=owner=team-b', 'metadata=tier=gold', 'policies=p,q']);
    expect(two.code).toBe(0);
    const twoRead = await h.cli(['read', '-format=json', `identity/entity/id/${JSON.parse(two.stdout).data.id as string}`]);
    expect(JSON.parse(twoRead.stdout).data).toEqual(expect.objectContaining({ metadata: { owner: 'team-b', tier: 'gold' }, policies: ['p', 'q'] }));

    const byName = await h.cli(['read', '-format=json', '-field=metadata', 'identity/entity/name/habit-entity']);
    expect(byName.code).toBe(0);
    expect(JSON.parse(byName.stdout)).toEqual({ owner: 'team-a' });
  });

  it('policy write NAME /dev/null is refused and stores nothing', async () => {
    const res = await h.cli(['policy', 'write', 'empty', '/dev/null']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("'policy' parameter not supplied or empty");
    expect((await h.cli(['policy', 'list'])).stdout).not.toContain('empty');
    const file = path.join(h.workDir, 'blank.hcl');
    writeFileSync(file, '  \n');
    expect((await h.cli(['policy', 'write', 'blank', file])).code).toBe(2);
  }, 30_000);

  it('an unknown command prints one line and a hint, not the whole help', async () => {
    const res = await h.cli(['frobnicate']);
    expect(res.code).not.toBe(0);
    const lines = res.stderr.trim().split('\n');
    expect(lines[0]).toContain("unknown command 'frobnicate'");
    expect(res.stderr).toContain('leasehold -help');
    expect(res.stderr).not.toContain('Commands:');
    expect(lines.length).toBeLessThanOrEqual(2);
  }, 30_000);

  it('an unknown flag is reported as typed', async () => {
    const res = await h.cli(['policy', 'list', '-field=x']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("unknown option '-field=x'");
    expect(res.stderr).not.toContain('--field');
  }, 30_000);
});

describe('vault CLI session commands', () => {
  let h: CliHarness;
  let home: string;
  beforeAll(async () => {
    h = await startCliHarness();
    home = mkdtempSync(path.join(tmpdir(), 'leasehold-home-'));
  });
  afterAll(async () => {
    await h.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('login stores the token in ~/.vault-token (0600); later commands and print token use it when no variable is set', async () => {
    const env = { HOME: home };
    const created = await h.cli(['token', 'create', '-policy=default', '-field=token']);
    const token = created.stdout.trim();
    expect(token).not.toBe('');
    const login = await h.cli(['login', token], { env });
    expect(login.code).toBe(0);
    expect(login.stdout).toContain('Success! You are now authenticated.');
    const file = path.join(home, '.vault-token');
    expect(readFileSync(file, 'utf8')).toBe(token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // No LEASEHOLD_TOKEN/VAULT_TOKEN: the helper's token is used.
    const self = await h.cli(['token', 'lookup', '-format=json'], { env: { ...env, LEASEHOLD_TOKEN: '' } });
    expect(self.code).toBe(0);
    expect(JSON.parse(self.stdout).data.policies).toEqual(['default']);
    expect((await h.cli(['print', 'token'], { env: { ...env, LEASEHOLD_TOKEN: '' } })).stdout.trim()).toBe(token);
    expect((await h.cli(['login', 'not-a-token'], { env: { HOME: path.join(home, 'none') } })).code).toBe(2);
  }, 60_000);

  it('version prints the version; VAULT_FORMAT=json is the default format', async () => {
    expect((await h.cli(['version'])).stdout).toMatch(/^Leasehold v\d+\.\d+\.\d+/);
    const json = await h.cli(['policy', 'list'], { env: { VAULT_FORMAT: 'json' } });
    expect(JSON.parse(json.stdout)).toContain('default');
    const flagWins = await h.cli(['policy', 'list', '-format=table'], { env: { VAULT_FORMAT: 'json' } });
    expect(flagWins.stdout).not.toContain('[');
  }, 60_000);
});

describe('vault CLI token and wrapping commands', () => {
  let h: CliHarness;
  beforeAll(async () => {
    h = await startCliHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('token renew TOKEN 2h takes a positional increment; token lookup takes -field', async () => {
    const token = (await h.cli(['token', 'create', '-policy=default', '-ttl=1h', '-field=token'])).stdout.trim();
    const renewed = await h.cli(['token', 'renew', '-format=json', token, '2h']);
    expect(renewed.code).toBe(0);
    expect(JSON.parse(renewed.stdout).auth.lease_duration).toBe(7200);
    const field = await h.cli(['token', 'lookup', '-field=policies', token]);
    expect(field.code).toBe(0);
    expect(field.stdout).toBe('[default]');
  }, 60_000);

  it('unwrap TOKEN prints the wrapped data; -field picks one value', async () => {
    const wrapped = await fetch(`${h.url}/v1/sys/wrapping/wrap`, { method: 'POST', headers: { 'X-Vault-Token': 'root', 'X-Vault-Wrap-TTL': '60' }, body: JSON.stringify({ pw: 'wrapped-value' }) });
    const token = ((await wrapped.json()) as { wrap_info: { token: string } }).wrap_info.token;
    const res = await h.cli(['unwrap', '-field=pw', token]);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('wrapped-value');
    expect((await h.cli(['unwrap', token])).code).toBe(2);
  }, 60_000);
});

describe('vault CLI -detailed listings', () => {
  let h: CliHarness;
  beforeAll(async () => {
    h = await startCliHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('secrets list -detailed and auth list -detailed add TTL, options and UUID columns', async () => {
    const secrets = await h.cli(['secrets', 'list', '-detailed']);
    expect(secrets.code).toBe(0);
    const header = secrets.stdout.split('\n')[0] as string;
    for (const column of ['Path', 'Plugin', 'Accessor', 'Default TTL', 'Max TTL', 'Options', 'Description', 'UUID']) expect(header).toContain(column);
    expect(secrets.stdout).toMatch(/secret\/\s+kv\s+\S+\s+system\s+system\s+false\s+false\s+map\[version:2\]/);
    const auth = await h.cli(['auth', 'list', '-detailed']);
    expect(auth.code).toBe(0);
    expect(auth.stdout.split('\n')[0]).toContain('Default TTL');
    expect(auth.stdout).toMatch(/token\/\s+token/);
    expect((await h.cli(['secrets', 'list'])).stdout.split('\n')[0]).not.toContain('UUID');
  }, 60_000);
});

describe('vault CLI operator key commands', () => {
  let h: CliHarness;
  beforeAll(async () => {
    h = await startCliHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('operator key-status shows the term; operator rotate moves it on', async () => {
    const before = await h.cli(['operator', 'key-status', '-format=json']);
    expect(before.code).toBe(0);
    const term = JSON.parse(before.stdout).term as number;
    expect(term).toBeGreaterThanOrEqual(1);
    const rotated = await h.cli(['operator', 'rotate']);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain('Success! Rotated key');
    expect((await h.cli(['operator', 'key-status'])).stdout).toMatch(new RegExp(`Key Term\\s+${term + 1}`));
  }, 60_000);
});

describe('vault CLI secrets tune', () => {
  let h: CliHarness;
  beforeAll(async () => {
    h = await startCliHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('secrets tune sets the TTLs and description of a mount', async () => {
    const res = await h.cli(['secrets', 'tune', '-default-lease-ttl=1h', '-max-lease-ttl=2h', '-description=tuned', 'secret']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Success! Tuned the secrets engine at: secret/');
    const tune = (await (await fetch(`${h.url}/v1/sys/mounts/secret/tune`, { headers: { 'X-Vault-Token': 'root' } })).json()) as Record<string, unknown>;
    expect(tune).toMatchObject({ default_lease_ttl: 3600, max_lease_ttl: 7200, description: 'tuned' });
  }, 60_000);
});

describe('vault CLI output formats', () => {
  let h: CliHarness;
  beforeAll(async () => {
    h = await startCliHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('-format=yaml and VAULT_FORMAT=yaml print the response as YAML', async () => {
    expect((await h.cli(['kv', 'put', 'secret/yaml', 'password=s3cret'])).code).toBe(0);
    const got = await h.cli(['kv', 'get', '-format=yaml', 'secret/yaml']);
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(/^data:\n {2}data:\n {4}password: s3cret\n/m);
    const listed = await h.cli(['policy', 'list'], { env: { VAULT_FORMAT: 'yaml' } });
    expect(listed.stdout).toContain('- default\n');
    const field = await h.cli(['kv', 'get', '-format=yaml', '-field=password', 'secret/yaml']);
    expect(field.stdout.trim()).toBe('s3cret');
    const status = await h.cli(['status', '-format=yaml']);
    expect(status.stdout).toMatch(/^sealed: false$/m);
  }, 30_000);
});

describe('vault CLI -wrap-ttl', () => {
  let h: CliHarness;
  beforeAll(async () => {
    h = await startCliHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('-wrap-ttl sends X-Vault-Wrap-TTL and prints the wrap info; the token unwraps to the secret', async () => {
    expect((await h.cli(['kv', 'put', 'secret/wrapped', 'password=s3cret'])).code).toBe(0);
    const table = await h.cli(['kv', 'get', '-wrap-ttl=5m', 'secret/wrapped']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^wrapping_token:\s+\S+$/m);
    expect(table.stdout).toMatch(/^wrapping_token_ttl:\s+5m$/m);
    expect(table.stdout).toMatch(/^wrapping_token_creation_path:\s+secret\/data\/wrapped$/m);
    expect(table.stdout).not.toContain('s3cret');
    const json = await h.cli(['read', '-format=json', '-wrap-ttl=60s', 'secret/data/wrapped']);
    expect(json.code).toBe(0);
    const wrap = JSON.parse(json.stdout).wrap_info;
    expect(wrap.ttl).toBe(60);
    const unwrapped = await fetch(`${h.url}/v1/sys/wrapping/unwrap`, { method: 'POST', headers: { 'X-Vault-Token': wrap.token } });
    expect(((await unwrapped.json()) as { data: { data: { password: string } } }).data.data.password).toBe('s3cret');
    const bad = await h.cli(['read', '-wrap-ttl=soon', 'secret/data/wrapped']);
    expect(bad.code).toBe(1);
  }, 30_000);
});

describe('vault CLI kv rollback', () => {
  let h: CliHarness;
  beforeAll(async () => {
    h = await startCliHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('kv rollback -version=N writes version N again as a new version', async () => {
    expect((await h.cli(['kv', 'put', 'secret/rb', 'v=one'])).code).toBe(0);
    expect((await h.cli(['kv', 'put', 'secret/rb', 'v=two'])).code).toBe(0);
    const rolled = await h.cli(['kv', 'rollback', '-version=1', 'secret/rb']);
    expect(rolled.code).toBe(0);
    expect(rolled.stdout).toMatch(/^version\s+3$/m);
    const got = await h.cli(['kv', 'get', '-format=json', 'secret/rb']);
    const body = JSON.parse(got.stdout).data;
    expect(body.data).toEqual({ v: 'one' });
    expect(body.metadata.version).toBe(3);
    expect((await h.cli(['kv', 'rollback', '-version=9', 'secret/rb'])).code).toBe(2);
    expect((await h.cli(['kv', 'rollback', 'secret/rb'])).code).toBe(1);
    expect((await h.cli(['kv', 'delete', '-versions=2', 'secret/rb'])).code).toBe(0);
    const deleted = await h.cli(['kv', 'rollback', '-version=2', 'secret/rb']);
    expect(deleted.code).toBe(2);
    expect(deleted.stderr).toContain('deleted');
  }, 30_000);
});

describe('vault CLI policy fmt', () => {
  let h: CliHarness;
  beforeAll(async () => {
    h = await startCliHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('policy fmt rewrites a policy file formatted, and refuses an invalid one leaving it untouched', async () => {
    const file = path.join(h.workDir, 'messy.hcl');
    writeFileSync(file, 'path "secret/*"{capabilities=["read","list"]\n  max_wrapping_ttl="1h"}\n\n\n   path "sys/mounts" { capabilities = ["read"] }');
    const res = await h.cli(['policy', 'fmt', file]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`Success! Formatted policy: ${file}`);
    expect(readFileSync(file, 'utf8')).toBe(
      'path "secret/*" {\n  capabilities     = ["read", "list"]\n  max_wrapping_ttl = "1h"\n}\n\npath "sys/mounts" {\n  capabilities = ["read"]\n}\n',
    );
    expect((await h.cli(['policy', 'write', 'formatted', file])).code).toBe(0);
    const bad = path.join(h.workDir, 'bad.hcl');
    writeFileSync(bad, 'path "secret/*" { capabilities = ["read"]');
    const refused = await h.cli(['policy', 'fmt', bad]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('Error parsing policy');
    expect(readFileSync(bad, 'utf8')).toBe('path "secret/*" { capabilities = ["read"]');
    writeFileSync(bad, 'frobnicate "x" { y = 1 }');
    expect((await h.cli(['policy', 'fmt', bad])).stderr).toContain('unknown key');
  }, 30_000);
});

describe('vault CLI path-help', () => {
  let h: CliHarness;
  beforeAll(async () => {
    h = await startCliHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('path-help PATH prints the help the server answers to ?help=1', async () => {
    const res = await h.cli(['path-help', 'secret/data/foo']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Request:        data/foo');
    expect(res.stdout).toContain('Matching Route: ^');
    const json = await h.cli(['path-help', '-format=json', 'sys/mounts']);
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout);
    expect(typeof body.help).toBe('string');
    expect(body.see_also).toBeNull();
    const raw = await fetch(`${h.url}/v1/secret/data/foo?help=1`, { headers: { 'X-Vault-Token': 'root' } });
    expect(raw.status).toBe(200);
    expect(Object.keys((await raw.json()) as object).sort()).toEqual(['help', 'see_also']);
    expect((await fetch(`${h.url}/v1/secret/data/foo?help=1`)).status).toBe(403);
    const missing = await h.cli(['path-help', 'nowhere/foo']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Error retrieving help');
  }, 30_000);
});
