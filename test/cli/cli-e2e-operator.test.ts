// End to end: the `leasehold` CLI as a child process against a REAL server process on an uninitialised
// data directory: operator init/unseal/seal, status exit codes, kv v2, the generic path commands on a
// kv v1 mount, secrets disable and policy delete; the root token is printed by `operator init` only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, type ServerProcess, startServerProcess } from '../helpers/process';
import { type CliResult, runCli } from './cli-harness';

jest.setTimeout(60_000);

/** The value of one row of a Key/Value table. */
function row(stdout: string, key: string): string | undefined {
  const line = stdout.split('\n').find((candidate) => candidate.split(/\s+/)[0] === key);
  return line?.slice(key.length).trim();
}

describe('leasehold operator and engine commands against a real server process', () => {
  let dataDir = '';
  let server: ServerProcess | undefined;
  let rootToken = '';
  let keys: string[] = [];
  /** Every CLI run but `operator init`, for the token-leak check. */
  const transcript: Array<{ args: string[]; result: CliResult }> = [];

  /** Runs `leasehold ARGS` against the server process, with `token` (if any) in LEASEHOLD_TOKEN. */
  async function run(args: string[], options: { token?: string; input?: string; init?: boolean } = {}): Promise<CliResult> {
    if (server === undefined) throw new Error('the server process is not started');
    const result = await runCli(server.url, args, options);
    if (!options.init) transcript.push({ args, result });
    return result;
  }
  /** Runs a command with the root token. */
  const root = (args: string[], input?: string): Promise<CliResult> => run(args, { token: rootToken, ...(input !== undefined ? { input } : {}) });

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'leasehold-cli-operator-'));
    server = await startServerProcess(['--data', dataDir], await freePort());
  });
  afterAll(async () => {
    await server?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('operator init -key-shares=5 -key-threshold=3 prints five keys and the root token; status exits 2 while sealed', async () => {
    const before = await run(['operator', 'init', '-status']);
    expect(before.code).toBe(2);
    expect(before.stdout).toBe('Leasehold is not initialized\n');

    const init = await run(['operator', 'init', '-key-shares=5', '-key-threshold=3'], { init: true });
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    keys = [...init.stdout.matchAll(/^Unseal Key (\d): (\S+)$/gm)].map((match) => match[2] as string);
    expect(keys).toHaveLength(5);
    expect(new Set(keys).size).toBe(5);
    for (const key of keys) expect(Buffer.from(key, 'base64').toString('base64')).toBe(key);
    rootToken = /^Initial Root Token: (\S+)$/m.exec(init.stdout)?.[1] ?? '';
    expect(rootToken).not.toBe('');
    expect(init.stdout).toContain('initialized with 5 key shares and a key threshold of 3');

    const again = await run(['operator', 'init', '-key-shares=5', '-key-threshold=3']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^Error initializing: /);

    const [status, initialized] = await Promise.all([run(['status']), run(['operator', 'init', '-status'])]);
    expect(status.code).toBe(2);
    expect(status.stdout).toMatch(/^Initialized\s+true$/m);
    expect(status.stdout).toMatch(/^Sealed\s+true$/m);
    expect(status.stdout).toMatch(/^Total Shares\s+5$/m);
    expect(status.stdout).toMatch(/^Threshold\s+3$/m);
    expect(status.stdout).toMatch(/^Unseal Progress\s+0\/3$/m);
    expect(initialized.code).toBe(0);
    expect(initialized.stdout).toBe('Leasehold is initialized\n');
  });

  it('operator unseal with three different keys (hex and base64) unseals; status then exits 0', async () => {
    const hex = (key: string): string => Buffer.from(key, 'base64').toString('hex');
    const first = await run(['operator', 'unseal', hex(keys[0] as string)]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^Sealed\s+true$/m);
    expect(first.stdout).toMatch(/^Unseal Progress\s+1\/3$/m);

    // A wrong key is refused and does not count.
    const wrong = await run(['operator', 'unseal', 'not-a-key']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^Error unsealing: /);

    const second = await run(['operator', 'unseal', keys[3] as string]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^Unseal Progress\s+2\/3$/m);

    const third = await run(['operator', 'unseal', hex(keys[1] as string)]);
    expect(third.stderr).toBe('');
    expect(third.code).toBe(0);
    expect(third.stdout).toMatch(/^Sealed\s+false$/m);
    expect(third.stdout).not.toMatch(/Unseal Progress/);

    const status = await run(['status']);
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^Sealed\s+false$/m);
  });

  it('operator seal (with LEASEHOLD_TOKEN) seals; status exits 2; unseal -reset discards progress; unseal again', async () => {
    const noToken = await run(['operator', 'seal']);
    expect(noToken.code).toBe(2);
    expect((await run(['status'])).code).toBe(0);

    const sealed = await root(['operator', 'seal']);
    expect(sealed.stderr).toBe('');
    expect(sealed.code).toBe(0);
    expect(sealed.stdout).toBe('Success! Leasehold is sealed.\n');
    const status = await run(['status']);
    expect(status.code).toBe(2);
    expect(status.stdout).toMatch(/^Sealed\s+true$/m);

    const refused = await root(['kv', 'get', 'secret/anything']);
    expect(refused.code).toBe(2);

    expect((await run(['operator', 'unseal', keys[2] as string])).stdout).toMatch(/^Unseal Progress\s+1\/3$/m);
    const reset = await run(['operator', 'unseal', '-reset']);
    expect(reset.stderr).toBe('');
    expect(reset.code).toBe(0);
    expect(reset.stdout).toMatch(/^Unseal Progress\s+0\/3$/m);

    for (const key of [keys[4], keys[0]]) expect((await run(['operator', 'unseal', key as string])).stdout).toMatch(/^Sealed\s+true$/m);
    const last = await run(['operator', 'unseal', keys[2] as string]);
    expect(last.stdout).toMatch(/^Sealed\s+false$/m);
    expect((await run(['status'])).code).toBe(0);
  });

  it('kv on a v2 mount: versions, metadata, delete, undelete, metadata delete, list', async () => {
    const enabled = await root(['secrets', 'enable', '-path=kv', '-version=2', 'kv']);
    expect(enabled.stderr).toBe('');
    expect(enabled.stdout).toBe('Success! Enabled the kv secrets engine at: kv/\n');

    const put1 = await root(['kv', 'put', 'kv/app', 'a=1']);
    expect(put1.stderr).toBe('');
    expect(put1.code).toBe(0);
    expect(row(put1.stdout, 'version')).toBe('1');
    const put2 = await root(['kv', 'put', 'kv/app', 'a=2']);
    expect(row(put2.stdout, 'version')).toBe('2');
    expect((await root(['kv', 'put', 'kv/other/x', 'b=3'])).code).toBe(0);

    const [v1, latest, field, metadata, list] = await Promise.all([
      root(['kv', 'get', '-version=1', 'kv/app']),
      root(['kv', 'get', 'kv/app']),
      root(['kv', 'get', '-field=a', '-version', '1', 'kv/app']),
      root(['kv', 'metadata', 'get', 'kv/app']),
      root(['kv', 'list', 'kv/']),
    ]);
    expect(v1.code).toBe(0);
    expect(row(v1.stdout, 'a')).toBe('1');
    expect(row(v1.stdout, 'version')).toBe('1');
    expect(row(latest.stdout, 'a')).toBe('2');
    expect(field.stdout).toBe('1');
    expect(metadata.stderr).toBe('');
    expect(metadata.code).toBe(0);
    expect(metadata.stdout).toMatch(/^=+ Metadata Path =+\nkv\/metadata\/app$/m);
    expect(row(metadata.stdout, 'current_version')).toBe('2');
    expect(metadata.stdout).toMatch(/^=+ Version 1 =+$/m);
    expect(metadata.stdout).toMatch(/^=+ Version 2 =+$/m);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe('Keys\n----\napp\nother/\n');

    const deleted = await root(['kv', 'delete', 'kv/app']);
    expect(deleted.stderr).toBe('');
    expect(deleted.stdout).toBe('Success! Data deleted (if it existed) at: kv/data/app\n');
    const gone = await root(['kv', 'get', 'kv/app']);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toBe('No data found at kv/data/app: the version is deleted or destroyed\n');
    expect(row(gone.stdout, 'deletion_time')).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The older version is still readable.
    expect(row((await root(['kv', 'get', '-version=1', 'kv/app'])).stdout, 'a')).toBe('1');

    const undeleted = await root(['kv', 'undelete', '-versions=2', 'kv/app']);
    expect(undeleted.stderr).toBe('');
    expect(undeleted.code).toBe(0);
    expect(undeleted.stdout).toBe('Success! Data written to: kv/undelete/app\n');
    const back = await root(['kv', 'get', 'kv/app']);
    expect(back.code).toBe(0);
    expect(row(back.stdout, 'a')).toBe('2');

    const metadataDeleted = await root(['kv', 'metadata', 'delete', 'kv/app']);
    expect(metadataDeleted.stderr).toBe('');
    expect(metadataDeleted.stdout).toBe('Success! Data deleted (if it existed) at: kv/metadata/app\n');
    const [noMetadata, noVersion, afterList] = await Promise.all([
      root(['kv', 'metadata', 'get', 'kv/app']),
      root(['kv', 'get', '-version=1', 'kv/app']),
      root(['kv', 'list', 'kv/']),
    ]);
    expect(noMetadata.code).toBe(2);
    expect(noMetadata.stderr).toBe('No value found at kv/metadata/app\n');
    expect(noVersion.code).toBe(2);
    expect(afterList.stdout).toBe('Keys\n----\nother/\n');
  });

  it('generic write/read/list/delete on a kv v1 mount; secrets disable removes it from secrets list', async () => {
    const enabled = await root(['secrets', 'enable', '-path=v1', 'kv']);
    expect(enabled.stderr).toBe('');
    expect(enabled.stdout).toBe('Success! Enabled the kv secrets engine at: v1/\n');

    const [written, nested] = await Promise.all([root(['write', 'v1/app', 'user=admin', 'n=1']), root(['write', 'v1/dir/leaf', 'x=y'])]);
    expect(written.stderr).toBe('');
    expect(written.code).toBe(0);
    expect(written.stdout).toBe('Success! Data written to: v1/app\n');
    expect(nested.code).toBe(0);

    const [read, field, list, kvGet, mounts] = await Promise.all([
      root(['read', 'v1/app']),
      root(['read', '-field=user', 'v1/app']),
      root(['list', 'v1/']),
      root(['kv', 'get', 'v1/app']),
      root(['secrets', 'list']),
    ]);
    expect(read.code).toBe(0);
    expect(row(read.stdout, 'user')).toBe('admin');
    expect(row(read.stdout, 'n')).toBe('1');
    expect(field.stdout).toBe('admin');
    expect(list.stdout).toBe('Keys\n----\napp\ndir/\n');
    expect(row(kvGet.stdout, 'user')).toBe('admin');
    expect(mounts.stdout).toMatch(/^v1\/\s+kv\s+/m);
    expect(mounts.stdout).toMatch(/^kv\/\s+kv\s+/m);

    const deleted = await root(['delete', 'v1/app']);
    expect(deleted.stderr).toBe('');
    expect(deleted.stdout).toBe('Success! Data deleted (if it existed) at: v1/app\n');
    const missing = await root(['read', 'v1/app']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('No value found at v1/app\n');

    const disabled = await root(['secrets', 'disable', 'v1']);
    expect(disabled.stderr).toBe('');
    expect(disabled.stdout).toBe('Success! Disabled the secrets engine (if it existed) at: v1/\n');
    const [after, unmounted] = await Promise.all([root(['secrets', 'list']), root(['read', 'v1/dir/leaf'])]);
    expect(after.code).toBe(0);
    expect(after.stdout).not.toMatch(/^v1\//m);
    expect(after.stdout).toMatch(/^kv\/\s+kv\s+/m);
    expect(unmounted.code).toBe(2);
  });

  it('policy write NAME - from stdin, policy delete, policy list no longer shows it', async () => {
    const policy = 'path "kv/data/p/*" {\n  capabilities = ["read"]\n}\n';
    const written = await root(['policy', 'write', 'p', '-'], policy);
    expect(written.stderr).toBe('');
    expect(written.stdout).toBe('Success! Uploaded policy: p\n');
    const [read, list] = await Promise.all([root(['policy', 'read', 'p']), root(['policy', 'list'])]);
    expect(read.stdout).toBe(`${policy.trim()}\n`);
    expect(list.stdout.split('\n')).toContain('p');

    const deleted = await root(['policy', 'delete', 'p']);
    expect(deleted.stderr).toBe('');
    expect(deleted.stdout).toBe('Success! Deleted policy: p\n');
    const [after, missing] = await Promise.all([root(['policy', 'list']), root(['policy', 'read', 'p'])]);
    expect(after.code).toBe(0);
    expect(after.stdout.split('\n')).not.toContain('p');
    expect(after.stdout.split('\n')).toEqual(expect.arrayContaining(['default', 'root']));
    expect(missing.code).toBe(2);
  });

  it('prints the root token nowhere but operator init, not even in errors', async () => {
    // One more error with the token in play.
    expect((await root(['read', 'sys/nothing-here'])).code).toBe(2);
    expect(rootToken).not.toBe('');
    expect(transcript.length).toBeGreaterThan(40);
    const leaks = transcript.filter(({ result }) => (result.stdout + result.stderr).includes(rootToken)).map(({ args }) => args.join(' '));
    expect(leaks).toEqual([]);
    // Nor any part of it that identifies it (the random body after the prefix).
    const body = rootToken.replace(/^[a-z]+\./, '');
    expect(transcript.filter(({ result }) => (result.stdout + result.stderr).includes(body)).map(({ args }) => args.join(' '))).toEqual([]);
  });
});
