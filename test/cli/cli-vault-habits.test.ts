// `vault` CLI habits (issue 14): each run as a child process against a real dev server.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { type CliHarness, startCliHarness } from './cli-harness';

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
