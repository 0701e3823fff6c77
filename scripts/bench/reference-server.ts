// `reference-server.ts http|express|express-default PORT`: Leasehold's KV read path at its barest, a ceiling for scenario `kv` to compare with.
// `express` hosts its app as Leasehold does (req/res built on the app's prototypes, see src/http/message-classes.ts);
// `express-default` as `http.createServer(app)` does, where Express re-prototypes every request.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import Database from 'better-sqlite3';
import express from 'express';
import { messageClassesFor } from '../../src/http/message-classes';
import { BENCH_SECRET } from './vault-api';

// Per request: HMAC of the token + SELECT by hash, SELECT of the secret row, one AEAD decrypt, a Vault-shaped JSON answer.
const [kind, portArg] = process.argv.slice(2);
const token = process.env.BENCH_REF_TOKEN;
if ((kind !== 'http' && kind !== 'express' && kind !== 'express-default') || !portArg || !token) {
  console.error('usage: BENCH_REF_TOKEN=... reference-server.ts http|express|express-default PORT');
  process.exit(2);
}

const SECRET_PREFIX = '/v1/secret/data/';
const hmacKey = randomBytes(32);
const dataKey = randomBytes(32);
const encoder = new TextEncoder();

// In-memory like `leasehold server --dev`, which scenario `kv` compares against.
const db = new Database(':memory:');
db.exec(`CREATE TABLE tokens (token_hash BLOB PRIMARY KEY, policies TEXT NOT NULL, expire_at INTEGER NOT NULL);
  CREATE TABLE entries (path TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;`);
const tokenByHash = db.prepare<[Buffer], { policies: string; expire_at: number }>('SELECT policies, expire_at FROM tokens WHERE token_hash = ?');
const entryByPath = db.prepare<[string], { value: Buffer }>('SELECT value FROM entries WHERE path = ?');

function hashToken(value: string): Buffer {
  return createHmac('sha256', hmacKey).update(value).digest();
}

/** nonce ‖ ciphertext+tag, with the storage path as additional data (as Leasehold's barrier binds records to their location). */
function encrypt(location: string, plaintext: string): Buffer {
  const nonce = randomBytes(24);
  return Buffer.concat([nonce, xchacha20poly1305(dataKey, nonce, encoder.encode(location)).encrypt(encoder.encode(plaintext))]);
}

function decrypt(location: string, record: Buffer): string {
  return Buffer.from(xchacha20poly1305(dataKey, record.subarray(0, 24), encoder.encode(location)).decrypt(record.subarray(24))).toString('utf8');
}

db.prepare('INSERT INTO tokens VALUES (?, ?, ?)').run(hashToken(token), 'bench-reader', Date.now() + 4 * 3600_000);
const createdTime = new Date().toISOString();
db.prepare('INSERT INTO entries VALUES (?, ?)').run(
  'bench/app',
  encrypt('bench/app', JSON.stringify({ data: BENCH_SECRET, metadata: { created_time: createdTime, custom_metadata: null, deletion_time: '', destroyed: false, version: 1 } })),
);

/** The whole read: one token lookup, one secret row, one decrypt, a Vault-shaped envelope. */
function readSecret(tokenHeader: unknown, secretPath: string): { status: number; body: string } {
  const row = typeof tokenHeader === 'string' && tokenHeader !== '' ? tokenByHash.get(hashToken(tokenHeader)) : undefined;
  if (!row || row.expire_at <= Date.now()) return { status: 403, body: '{"errors":["permission denied"]}' };
  const entry = entryByPath.get(secretPath);
  if (!entry) return { status: 404, body: '{"errors":[]}' };
  const data = JSON.parse(decrypt(secretPath, entry.value)) as unknown;
  const envelope = { request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null, mount_type: 'kv' };
  return { status: 200, body: JSON.stringify(envelope) };
}

function send(res: http.ServerResponse, result: { status: number; body: string }): void {
  res.writeHead(result.status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(result.body) });
  res.end(result.body);
}

let server: http.Server;
if (kind === 'http') {
  server = http.createServer((req, res) => {
    const url = req.url ?? '';
    send(res, url.startsWith(SECRET_PREFIX) ? readSecret(req.headers['x-vault-token'], url.slice(SECRET_PREFIX.length)) : { status: 404, body: '{"errors":[]}' });
  });
} else {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.get('/v1/secret/data/*secretPath', (req, res) => {
    const parts = req.params.secretPath as unknown as string[] | string;
    send(res, readSecret(req.headers['x-vault-token'], Array.isArray(parts) ? parts.join('/') : parts));
  });
  server = kind === 'express' ? http.createServer(messageClassesFor(app), app) : http.createServer(app);
}
server.listen(Number(portArg), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
