// Audit devices through the pipeline: fail closed when no device can record, HMAC'd entries,
// and sudo protection of sys/audit.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { unsealedVault } from '../helpers/vault';

describe('audit devices in the request pipeline', () => {
  it('a device writing to /dev/full refuses requests instead of serving them, and changes nothing', async () => {
    const { app, rootToken } = await unsealedVault();
    const root = { 'X-Vault-Token': rootToken };
    await request(app).post('/v1/sys/mounts/secret').set(root).send({ type: 'kv-v2' });
    await request(app).post('/v1/secret/data/before').set(root).send({ data: { v: 'visible' } });
    expect((await request(app).put('/v1/sys/audit/full').set(root).send({ type: 'file', options: { file_path: '/dev/full' } })).status).toBe(204);

    const read = await request(app).get('/v1/secret/data/before').set(root);
    expect(read.status).toBe(500);
    expect(JSON.stringify(read.body)).not.toContain('visible');
    const write = await request(app).post('/v1/secret/data/during').set(root).send({ data: { v: 'x' } });
    expect(write.status).toBe(500);

    // Disabling is itself refused while nothing can audit it; the operator fixes it by adding a working device.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-audit-'));
    try {
      expect((await request(app).put('/v1/sys/audit/file').set(root).send({ type: 'file', options: { file_path: path.join(dir, 'a.log') } })).status).toBe(500);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with one working device among failing ones, requests are served and logged with HMACs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-audit-'));
    try {
      const { app, rootToken } = await unsealedVault();
      const root = { 'X-Vault-Token': rootToken };
      const file = path.join(dir, 'audit.log');
      expect((await request(app).put('/v1/sys/audit/file').set(root).send({ type: 'file', options: { file_path: file } })).status).toBe(204);
      expect((await request(app).put('/v1/sys/audit/full').set(root).send({ type: 'file', options: { file_path: '/dev/full' } })).status).toBe(204);
      await request(app).post('/v1/sys/mounts/secret').set(root).send({ type: 'kv-v2' });
      const write = await request(app).post('/v1/secret/data/app').set(root).send({ data: { password: 'planted-pw-4711' } });
      expect(write.status).toBe(200);
      const created = await request(app).post('/v1/auth/token/create').set(root).send({ policies: ['default'] });
      const text = fs.readFileSync(file, 'utf8');
      const lines = text.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.some((l) => l.type === 'request' && l.request.path === 'secret/data/app')).toBe(true);
      for (const secret of ['planted-pw-4711', rootToken, created.body.auth.client_token]) expect(text).not.toContain(secret);
      const response = lines.find((l) => l.type === 'response' && l.request.path === 'auth/token/create');
      expect(response.response.auth.client_token).toMatch(/^hmac-sha256:/);
      const hash = await request(app).post('/v1/sys/audit-hash/file').set(root).send({ input: rootToken });
      expect(response.auth.client_token).toBe(hash.body.data.hash);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses executable or world-writable targets and relative paths, and needs sudo', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-audit-'));
    try {
      const { app, rootToken } = await unsealedVault();
      const root = { 'X-Vault-Token': rootToken };
      const exec = path.join(dir, 'exec.log');
      fs.writeFileSync(exec, '');
      fs.chmodSync(exec, 0o755);
      const world = path.join(dir, 'world.log');
      fs.writeFileSync(world, '');
      fs.chmodSync(world, 0o666);
      for (const options of [{ file_path: exec }, { file_path: world }, { file_path: 'relative.log' }, { file_path: path.join(dir, 'new.log'), mode: '0755' }, { file_path: dir }]) {
        expect((await request(app).put('/v1/sys/audit/bad').set(root).send({ type: 'file', options })).status).toBe(400);
      }
      expect(fs.statSync(exec).mode & 0o777).toBe(0o755);
      await request(app).put('/v1/sys/policies/acl/ops').set(root).send({ policy: 'path "sys/audit*" { capabilities = ["create", "read", "update", "delete", "list"] }' });
      const ops = (await request(app).post('/v1/auth/token/create').set(root).send({ policies: ['ops'] })).body.auth.client_token;
      expect((await request(app).put('/v1/sys/audit/x').set('X-Vault-Token', ops).send({ type: 'file', options: { file_path: path.join(dir, 'x.log') } })).status).toBe(403);
      expect((await request(app).get('/v1/sys/audit').set('X-Vault-Token', ops)).status).toBe(403);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
