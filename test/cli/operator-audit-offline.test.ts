// `leasehold operator audit disable --data DIR PATH` on a stopped server: the way out when the only
// audit device fails every write and survives restarts. It needs the unseal keys (the device table
// is behind the barrier).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { newVault } from '../helpers/vault';
import { runCli } from './cli-harness';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-offline-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const hex = (key: Uint8Array) => Buffer.from(key).toString('hex');

it('disables a failing device in a stopped server\'s data directory, after which the vault serves', async () => {
  const dbFile = path.join(dir, 'data', 'leasehold.db');
  const auditFile = path.join(dir, 'audit.log');
  let keys: string[];
  let rootToken: string;
  {
    const { vault, app, db } = newVault({ file: dbFile });
    const init = await vault.initialize(3, 2);
    keys = init.keys.map(hex);
    rootToken = init.rootToken;
    for (const key of keys.slice(0, 2)) await vault.seal.submitShare(key);
    expect((await request(app).put('/v1/sys/audit/file').set('X-Vault-Token', rootToken).send({ type: 'file', options: { file_path: auditFile } })).status).toBe(204);
    await vault.seal.seal();
    db.close();
  }
  // The audit file's place is taken by a directory: after a restart the device fails every write.
  fs.rmSync(auditFile);
  fs.mkdirSync(auditFile);
  {
    const { vault, app, db } = newVault({ file: dbFile });
    for (const key of keys.slice(0, 2)) await vault.seal.submitShare(key);
    expect((await request(app).get('/v1/sys/mounts').set('X-Vault-Token', rootToken)).status).toBe(500);
    await vault.seal.seal();
    db.close();
  }

  const dataDir = path.dirname(dbFile);
  const tooFew = await runCli('http://127.0.0.1:1', ['operator', 'audit', 'disable', '--data', dataDir, 'file/'], { input: `${keys[0]}\n` });
  expect(tooFew.code).toBe(2);
  expect(tooFew.stderr).toMatch(/not enough unseal keys: 2 are needed/);
  for (const key of keys) expect(tooFew.stderr + tooFew.stdout).not.toContain(key);

  const done = await runCli('http://127.0.0.1:1', ['operator', 'audit', 'disable', '--data', dataDir, 'file/'], { input: `${keys[1]}\n${keys[2]}\n` });
  // The server-side log lines say which device failed and that it was disabled; never a key.
  expect(done.stderr).toContain('audit device disabled');
  for (const key of keys) expect(done.stderr + done.stdout).not.toContain(key);
  expect(done.stdout).toContain('Success! Disabled audit device at: file/');
  expect(done.code).toBe(0);

  const { vault, app, db } = newVault({ file: dbFile });
  try {
    for (const key of keys.slice(0, 2)) await vault.seal.submitShare(key);
    expect(vault.audit.hasDevices()).toBe(false);
    expect((await request(app).get('/v1/sys/mounts').set('X-Vault-Token', rootToken)).status).toBe(200);
  } finally {
    await vault.seal.seal();
    db.close();
  }
}, 60_000);
