// Vault-style server config files: HCL and JSON, directories merged, errors with file and line, and
// a real server process started from one (flags override the file; a bad key stops it).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadVaultServerConfig } from '../../src/config/server-config';
import { runCli } from '../cli/cli-harness';
import { call, freePort, startServerProcess } from '../helpers/process';

jest.setTimeout(60_000);

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-config-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
};

const EXAMPLE = `
storage "sqlite" { path = "/var/lib/leasehold" }      # "file" is accepted as an alias
listener "tcp" {
  address       = "127.0.0.1:8200"
  tls_cert_file = "/etc/leasehold/tls.crt"
  tls_key_file  = "/etc/leasehold/tls.key"
  telemetry { unauthenticated_metrics_access = false }
}
api_addr          = "https://vault.example.internal:8200"
ui                = true
default_lease_ttl = "768h"
max_lease_ttl     = "768h"
log_level         = "info"
disable_mlock = true
`;

it("reads the issue's example config", () => {
  const config = loadVaultServerConfig(write('server.hcl', EXAMPLE));
  expect(config).toMatchObject({
    storagePath: '/var/lib/leasehold',
    listenAddress: '127.0.0.1:8200',
    tlsCertFile: '/etc/leasehold/tls.crt',
    tlsKeyFile: '/etc/leasehold/tls.key',
    unauthenticatedMetricsAccess: false,
    apiAddr: 'https://vault.example.internal:8200',
    ui: true,
    defaultLeaseTtlSeconds: 768 * 3600,
    maxLeaseTtlSeconds: 768 * 3600,
    logLevel: 'info',
  });
  expect(config.notes.join('\n')).toMatch(/disable_mlock is accepted and ignored/);
});

it("reads Vault's JSON form, and merges a directory in name order", () => {
  write('10-storage.json', JSON.stringify({ storage: { file: { path: '/data' } }, log_level: 'warn' }));
  write('20-listener.hcl', 'listener "tcp" {\n  address = "0.0.0.0:8200"\n  tls_disable = true\n}\nlog_level = "debug"\n');
  write('README.txt', 'not a config');
  expect(loadVaultServerConfig(dir)).toMatchObject({ storagePath: '/data', listenAddress: '0.0.0.0:8200', tlsDisable: true, logLevel: 'debug' });
});

it('reports unknown keys, wrong types, bad syntax and missing files with the file and line', () => {
  const unknown = write('unknown.hcl', 'storage "sqlite" {\n  path = "/x"\n}\nlistener "tcp" {\n  adress = "127.0.0.1:8200"\n}\n');
  expect(() => loadVaultServerConfig(unknown)).toThrow(`${unknown}:5: unknown key "adress" in listener "tcp"`);
  const wrongType = write('type.hcl', '\nui = "yes please"\n');
  expect(() => loadVaultServerConfig(wrongType)).toThrow(`${wrongType}:2: "ui" must be a boolean`);
  const syntax = write('syntax.hcl', 'storage "sqlite" {\n  path = /var/lib\n}\n');
  expect(() => loadVaultServerConfig(syntax)).toThrow(`${syntax}:2:`);
  const storage = write('storage.hcl', 'storage "consul" { path = "x" }\n');
  expect(() => loadVaultServerConfig(storage)).toThrow(`${storage}:1: storage "consul" is not supported`);
  const missing = path.join(dir, 'missing.hcl');
  expect(() => loadVaultServerConfig(missing)).toThrow(`${missing}: config file not found (ENOENT)`);
});

it('a server process starts from a config file, flags overriding it; a bad key stops it with file:line', async () => {
  const dataDir = path.join(dir, 'data');
  const file = write('server.hcl', `storage "sqlite" { path = ${JSON.stringify(dataDir)} }\nlistener "tcp" {\n  address = "127.0.0.1:1"\n  tls_disable = true\n}\ndisable_mlock = true\n`);
  const server = await startServerProcess([`-config=${file}`], await freePort());
  try {
    const status = (await (await fetch(`${server.url}/v1/sys/seal-status`)).json()) as { initialized: boolean; sealed: boolean };
    expect(status).toMatchObject({ initialized: false, sealed: true });
    expect(fs.existsSync(path.join(dataDir, 'leasehold.db'))).toBe(true);
  } finally {
    await server.kill();
  }
  const bad = write('bad.hcl', `storage "sqlite" { path = ${JSON.stringify(dataDir)} }\nlog_levl = "info"\n`);
  const refused = await runCli('http://127.0.0.1:1', ['server', `-config=${bad}`]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain(`${bad}:2: unknown key "log_levl"`);
});

it('refuses a system default lease TTL above the system max', () => {
  const file = write('ttl.hcl', 'default_lease_ttl = "2h"\nmax_lease_ttl = "1h"\n');
  expect(() => loadVaultServerConfig(file)).toThrow(`${file}: default_lease_ttl (7200s) cannot be greater than max_lease_ttl (3600s)`);
  // An unset max stands for 768h.
  expect(() => loadVaultServerConfig(write('ttl2.hcl', 'default_lease_ttl = "800h"\n'))).toThrow('cannot be greater than max_lease_ttl (2764800s)');
});

it('a server process applies default_lease_ttl and max_lease_ttl as the system TTLs, turns the console off with ui = false, and serves metrics without a token when telemetry says so', async () => {
  const dataDir = path.join(dir, 'data');
  const file = write(
    'server.hcl',
    `storage "sqlite" { path = ${JSON.stringify(dataDir)} }\nlistener "tcp" {\n  address = "127.0.0.1:1"\n  tls_disable = true\n  telemetry { unauthenticated_metrics_access = true }\n}\nui = false\ndefault_lease_ttl = "1h"\nmax_lease_ttl = "2h"\n`,
  );
  const server = await startServerProcess([`-config=${file}`], await freePort());
  try {
    const ui = await fetch(`${server.url}/ui/`);
    expect(ui.status).not.toBe(200);
    expect(ui.headers.get('content-security-policy')).toBeNull();
    expect((await fetch(`${server.url}/v1/sys/metrics?format=prometheus`)).status).not.toBe(403);
    const init = await call(server.url, 'PUT', 'sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    await call(server.url, 'PUT', 'sys/unseal', { body: { key: init.body?.keys_base64[0] } });
    const token = init.body?.root_token as string;
    // Mounts without their own tune get the system TTLs; a tune may go below the system max, not above.
    expect((await call(server.url, 'POST', 'sys/mounts/kv', { token, body: { type: 'kv' } })).status).toBe(204);
    expect((await call(server.url, 'GET', 'sys/mounts/kv/tune', { token })).body).toMatchObject({ default_lease_ttl: 3600, max_lease_ttl: 7200 });
    expect((await call(server.url, 'POST', 'sys/mounts/kv/tune', { token, body: { max_lease_ttl: '90m' } })).status).toBe(204);
    const tooLong = await call(server.url, 'POST', 'sys/mounts/kv/tune', { token, body: { max_lease_ttl: '3h' } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body?.errors[0]).toMatch(/max_lease_ttl of 10800s is greater than the system max lease TTL of 7200s/);
    expect((await call(server.url, 'GET', 'sys/mounts/kv/tune', { token })).body).toMatchObject({ default_lease_ttl: 3600, max_lease_ttl: 5400 });
    expect((await call(server.url, 'POST', 'sys/mounts/kv2', { token, body: { type: 'kv', config: { default_lease_ttl: '5h' } } })).status).toBe(400);
    // Tokens without a TTL of their own get the system default, and no more than the system max.
    const plain = await call(server.url, 'POST', 'auth/token/create', { token, body: { policies: ['default'] } });
    expect(plain.body?.auth.lease_duration).toBe(3600);
    const capped = await call(server.url, 'POST', 'auth/token/create', { token, body: { policies: ['default'], ttl: '10h' } });
    expect(capped.body?.auth.lease_duration).toBe(7200);
  } finally {
    await server.kill();
  }
});
