// Audit devices through the pipeline: fail closed when no device can record, HMAC'd entries,
// and sudo protection of sys/audit.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { breakAuditFile } from '../helpers/audit';
import { unsealedVault } from '../helpers/vault';

describe('audit devices in the request pipeline', () => {
  it('refuses at enable a device that opens but cannot write (/dev/full), with a 400 saying why', async () => {
    const { app, rootToken, vault } = await unsealedVault();
    const root = { 'X-Vault-Token': rootToken };
    const res = await request(app).put('/v1/sys/audit/full').set(root).send({ type: 'file', options: { file_path: '/dev/full' } });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatch(/cannot write to "\/dev\/full".*ENOSPC/);
    expect(vault.audit.hasDevices()).toBe(false);
    expect((await request(app).get('/v1/sys/audit').set(root)).body.data).toEqual({});
    // Nothing was persisted: a reload finds no device, and requests are served.
    vault.audit.unload();
    vault.audit.load();
    expect((await request(app).get('/v1/sys/mounts').set(root)).status).toBe(200);
  });

  it('a device that fails later refuses requests, shows its health, and a sudo token can disable it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-audit-'));
    try {
      const { app, rootToken, vault } = await unsealedVault();
      const root = { 'X-Vault-Token': rootToken };
      await request(app).post('/v1/sys/mounts/secret').set(root).send({ type: 'kv-v2' });
      await request(app).post('/v1/secret/data/before').set(root).send({ data: { v: 'visible' } });
      await request(app).put('/v1/sys/policies/acl/ops').set(root).send({ policy: 'path "sys/audit*" { capabilities = ["create", "read", "update", "delete", "list"] }' });
      const ops = (await request(app).post('/v1/auth/token/create').set(root).send({ policies: ['ops'] })).body.auth.client_token;
      const file = path.join(dir, 'a.log');
      expect((await request(app).put('/v1/sys/audit/file').set(root).send({ type: 'file', options: { file_path: file } })).status).toBe(204);
      breakAuditFile(vault.audit, file);

      const read = await request(app).get('/v1/secret/data/before').set(root);
      expect(read.status).toBe(500);
      expect(JSON.stringify(read.body)).not.toContain('visible');
      expect((await request(app).post('/v1/secret/data/during').set(root).send({ data: { v: 'x' } })).status).toBe(500);
      const health = vault.audit.list()['file/']?.health;
      expect(health?.failures_since_enable).toBeGreaterThanOrEqual(2);
      expect(health?.last_error).not.toBe('');
      expect(health?.last_error_time).not.toBe('');

      // Enabling another device is refused (fail closed), and so is a disable without sudo.
      expect((await request(app).put('/v1/sys/audit/other').set(root).send({ type: 'file', options: { file_path: path.join(dir, 'b.log') } })).status).toBe(500);
      expect((await request(app).delete('/v1/sys/audit/file').set('X-Vault-Token', ops)).status).not.toBe(204);
      expect(vault.audit.hasDevices()).toBe(true);

      // The sudo disable goes through although no device can record it; the vault serves again.
      expect((await request(app).delete('/v1/sys/audit/file').set(root)).status).toBe(204);
      expect(vault.audit.hasDevices()).toBe(false);
      const again = await request(app).get('/v1/secret/data/before').set(root);
      expect(again.status).toBe(200);
      expect(again.body.data.data).toEqual({ v: 'visible' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the disable of a failing device is recorded by the devices that still write', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-audit-'));
    try {
      const { app, rootToken, vault } = await unsealedVault();
      const root = { 'X-Vault-Token': rootToken };
      const good = path.join(dir, 'good.log');
      const bad = path.join(dir, 'bad.log');
      expect((await request(app).put('/v1/sys/audit/good').set(root).send({ type: 'file', options: { file_path: good } })).status).toBe(204);
      expect((await request(app).put('/v1/sys/audit/bad').set(root).send({ type: 'file', options: { file_path: bad } })).status).toBe(204);
      breakAuditFile(vault.audit, bad);
      expect((await request(app).get('/v1/sys/mounts').set(root)).status).toBe(200);
      const listed = (await request(app).get('/v1/sys/audit').set(root)).body.data;
      expect(listed['bad/'].health.failures_since_enable).toBeGreaterThan(0);
      expect(listed['good/'].health.failures_since_enable).toBe(0);
      expect((await request(app).delete('/v1/sys/audit/bad').set(root)).status).toBe(204);
      const entries = fs.readFileSync(good, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const disable = entries.filter((e) => e.request.path === 'sys/audit/bad' && e.request.operation === 'delete');
      expect(disable.map((e) => e.type)).toEqual(['request', 'response']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with one working device among failing ones, requests are served and logged with HMACs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-audit-'));
    try {
      const { app, rootToken, vault } = await unsealedVault();
      const root = { 'X-Vault-Token': rootToken };
      const file = path.join(dir, 'audit.log');
      expect((await request(app).put('/v1/sys/audit/file').set(root).send({ type: 'file', options: { file_path: file } })).status).toBe(204);
      const broken = path.join(dir, 'broken.log');
      expect((await request(app).put('/v1/sys/audit/full').set(root).send({ type: 'file', options: { file_path: broken } })).status).toBe(204);
      breakAuditFile(vault.audit, broken);
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
