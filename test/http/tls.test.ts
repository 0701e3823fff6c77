// HTTPS on the listener: a throwaway CA made with Debian's openssl, clients that verify against it
// (node https, node-vault, hvac), LIST over TLS, keep-alive, SIGHUP certificate swap, and client certificates.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import nodeVault from 'node-vault';
import { type RunningServer, startServer } from '../../src/server';
import { runPythonCode } from '../helpers/python';

jest.setTimeout(60_000);

let dir: string;
const f = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

/** A certificate for `san`, signed by the CA, as name.crt / name.key. */
function issue(name: string, san: string, extra: string[] = []): void {
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  fs.writeFileSync(f(`${name}.ext`), `subjectAltName=${san}\n${extra.join('\n')}\n`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, '-extfile', `${name}.ext`);
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-tls-'));
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=leasehold test CA');
  issue('server', 'IP:127.0.0.1,DNS:localhost');
  issue('server2', 'IP:127.0.0.1,DNS:localhost');
  issue('wronghost', 'DNS:other.example');
  issue('client', 'DNS:client', ['extendedKeyUsage=clientAuth']);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const servers: RunningServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function tlsServer(tls: Parameters<typeof startServer>[0]['tls']): Promise<RunningServer> {
  const server = await startServer({ dev: true, devRootTokenId: 'root', listen: '127.0.0.1:0', logLevel: 'silent', tls });
  servers.push(server);
  return server;
}

interface Answer {
  status: number;
  body: any;
  serial: string;
  socket: TLSSocket;
}

function call(url: string, method: string, p: string, options: https.RequestOptions = {}, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${url}/v1/${p}`, { method, ca: fs.readFileSync(f('ca.crt')), headers: { 'X-Vault-Token': 'root', 'content-type': 'application/json' }, ...options }, (res) => {
      let text = '';
      const socket = res.socket as TLSSocket;
      const serial = socket.getPeerCertificate().serialNumber;
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {}, serial, socket });
      });
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const serialOf = (name: string) => new (require('node:crypto').X509Certificate)(fs.readFileSync(f(`${name}.crt`))).serialNumber as string;

it('serves HTTPS with the configured certificate; LIST and keep-alive work over TLS; node-vault verifies with the CA', async () => {
  const server = await tlsServer({ certFile: f('server.crt'), keyFile: f('server.key') });
  expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    expect((await call(server.url, 'POST', 'secret/data/app', { agent }, { data: { v: 'over-tls' } })).status).toBe(200);
    const listed = await call(server.url, 'LIST', 'secret/metadata', { agent });
    expect(listed.status).toBe(200);
    expect(listed.body.data.keys).toEqual(['app']);
    const again = await call(server.url, 'LIST', 'secret/metadata/', { agent });
    expect(again.socket).toBe(listed.socket);
    expect(listed.serial).toBe(serialOf('server'));
    expect(listed.socket.getProtocol()).toMatch(/^TLSv1\.[23]$/);
  } finally {
    agent.destroy();
  }
  const client = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: 'root', requestOptions: { ca: fs.readFileSync(f('ca.crt')) } });
  expect((await client.read('secret/data/app')).data.data).toEqual({ v: 'over-tls' });
  expect((await client.list('secret/metadata')).data.keys).toEqual(['app']);
  // Without the CA the client refuses the server.
  const untrusting = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: 'root' });
  await expect(untrusting.read('secret/data/app')).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
});

it('a certificate for another host is refused by the client; tls_min_version is enforced', async () => {
  const wrong = await tlsServer({ certFile: f('wronghost.crt'), keyFile: f('wronghost.key') });
  await expect(call(wrong.url, 'GET', 'sys/health')).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  const modern = await tlsServer({ certFile: f('server.crt'), keyFile: f('server.key'), minVersion: 'tls13' });
  await expect(call(modern.url, 'GET', 'sys/health', { maxVersion: 'TLSv1.2' })).rejects.toThrow();
  expect((await call(modern.url, 'GET', 'sys/health')).socket.getProtocol()).toBe('TLSv1.3');
});

it('SIGHUP swaps the certificate: the next connection sees the new one, a kept-alive connection keeps working', async () => {
  const certFile = f('live.crt');
  const keyFile = f('live.key');
  fs.copyFileSync(f('server.crt'), certFile);
  fs.copyFileSync(f('server.key'), keyFile);
  const server = await tlsServer({ certFile, keyFile });
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const before = await call(server.url, 'GET', 'sys/health', { agent });
    expect(before.serial).toBe(serialOf('server'));
    fs.copyFileSync(f('server2.crt'), certFile);
    fs.copyFileSync(f('server2.key'), keyFile);
    // The SIGHUP listener, as a signal delivers it (jest's sandboxed process object does not see real signals).
    process.emit('SIGHUP' as never);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const inFlight = await call(server.url, 'GET', 'sys/health', { agent });
    expect(inFlight.socket).toBe(before.socket);
    expect(inFlight.status).toBe(200);
    const fresh = await call(server.url, 'GET', 'sys/health', { agent: false });
    expect(fresh.serial).toBe(serialOf('server2'));
  } finally {
    agent.destroy();
  }
});

it('a required client certificate is enforced', async () => {
  const server = await tlsServer({ certFile: f('server.crt'), keyFile: f('server.key'), clientCaFile: f('ca.crt'), requireAndVerifyClientCert: true });
  await expect(call(server.url, 'GET', 'sys/health', { agent: false })).rejects.toThrow();
  const ok = await call(server.url, 'GET', 'sys/health', { agent: false, cert: fs.readFileSync(f('client.crt')), key: fs.readFileSync(f('client.key')) });
  expect(ok.status).toBe(200);
});


// No skip when hvac is missing: `npm test` installs it (scripts/ensure-test-deps.sh), and a real-client
// test that quietly skips proves nothing.
it('hvac works over TLS with verify= the CA file, LIST included', async () => {
  const server = await tlsServer({ certFile: f('server.crt'), keyFile: f('server.key') });
  const script = `
import json, sys, hvac
c = hvac.Client(url=sys.argv[1], token='root', verify=sys.argv[2])
c.secrets.kv.v2.create_or_update_secret(path='py', secret={'k': 'v'}, mount_point='secret')
keys = c.secrets.kv.v2.list_secrets(path='', mount_point='secret')['data']['keys']
bad = None
try:
    hvac.Client(url=sys.argv[1], token='root', verify=True).sys.read_health_status(method='GET')
except Exception as e:
    bad = type(e).__name__
print(json.dumps({'keys': keys, 'bad': bad}))
`;
  const result = await runPythonCode(script, [server.url, f('ca.crt')]);
  expect(result.stderr).toBe('');
  expect(JSON.parse(result.stdout)).toEqual({ keys: ['py'], bad: 'SSLError' });
});
