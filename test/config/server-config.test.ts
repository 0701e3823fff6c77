// Vault-style server config files: HCL and JSON, directories merged, errors with file and line, and
// a real server process started from one (flags override the file; a bad key stops it).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadVaultServerConfig } from '../../src/config/server-config';
import { runCli } from '../cli/cli-harness';
import { freePort, startServerProcess } from '../helpers/process';

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
