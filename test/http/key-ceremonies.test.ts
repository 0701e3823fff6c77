// Rekey and root token generation over HTTP, on a real file database: new shares replace the old,
// generate-root yields a working root token, and bad shares are refused without key material.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { decodeToken, OTP_LENGTH } from '../../src/core/generate-root';
import { newVault } from '../helpers/vault';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-ceremony-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const hex = (key: Uint8Array) => Buffer.from(key).toString('hex');

/** A 3-of-5 vault on a file, unsealed, with one KV secret. */
async function fiveThree() {
  const file = path.join(dir, 'leasehold.db');
  const built = newVault({ file });
  const init = await built.vault.initialize(5, 3);
  const keys = init.keys.map(hex);
  for (const key of keys.slice(0, 3)) await built.vault.seal.submitShare(key);
  const root = { 'X-Vault-Token': init.rootToken };
  await request(built.app).post('/v1/sys/mounts/secret').set(root).send({ type: 'kv-v2' });
  expect((await request(built.app).post('/v1/secret/data/app').set(root).send({ data: { password: 'kept-across-rekey' } })).status).toBe(200);
  return { ...built, file, keys, root, rootToken: init.rootToken };
}

/** Submits shares to sys/unseal until unsealed or refused; returns the last answer. */
async function unsealWith(app: Parameters<typeof request>[0], keys: string[]) {
  let res: request.Response | undefined;
  for (const key of keys) {
    res = await request(app).put('/v1/sys/unseal').send({ key });
    if (res.status !== 200 || res.body.sealed === false) break;
  }
  return res as request.Response;
}

describe('sys/rekey', () => {
  it('rekeys 3-of-5 to 2-of-3: old shares stop unsealing, new ones do, and the data is intact', async () => {
    const { app, vault, keys, root } = await fiveThree();
    expect((await request(app).get('/v1/sys/rekey/init')).body).toMatchObject({ started: false, progress: 0, required: 3, nonce: '' });
    const started = await request(app).put('/v1/sys/rekey/init').send({ secret_shares: 3, secret_threshold: 2 });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ started: true, t: 2, n: 3, progress: 0, required: 3 });
    const nonce = started.body.nonce as string;
    expect((await request(app).put('/v1/sys/rekey/init').send({ secret_shares: 3, secret_threshold: 2 })).status).toBe(400);

    const first = await request(app).put('/v1/sys/rekey/update').send({ key: keys[0], nonce });
    expect(first.body).toMatchObject({ started: true, progress: 1, required: 3 });
    await request(app).put('/v1/sys/rekey/update').send({ key: keys[1], nonce });
    const done = await request(app).put('/v1/sys/rekey/update').send({ key: keys[2], nonce });
    expect(done.status).toBe(200);
    expect(done.body.complete).toBe(true);
    expect(done.body.keys).toHaveLength(3);
    expect(done.body.keys_base64).toHaveLength(3);
    const newKeys = done.body.keys_base64 as string[];
    // Shown once: the status no longer carries them.
    expect(JSON.stringify((await request(app).get('/v1/sys/rekey/init')).body)).not.toContain(newKeys[0]);
    expect((await request(app).get('/v1/sys/seal-status')).body).toMatchObject({ t: 2, n: 3 });

    await vault.seal.seal();
    const old = await unsealWith(app, keys.slice(0, 3));
    expect(old.status).toBe(400);
    expect(vault.seal.sealed).toBe(true);
    const fresh = await unsealWith(app, newKeys.slice(1, 3));
    expect(fresh.body.sealed).toBe(false);
    const read = await request(app).get('/v1/secret/data/app').set(root);
    expect(read.body.data.data).toEqual({ password: 'kept-across-rekey' });
    // sys/rotate re-seals the keyring under the new root key: a later unseal still works.
    expect((await request(app).post('/v1/sys/rotate').set(root)).status).toBeLessThan(300);
    await vault.seal.seal();
    expect((await unsealWith(app, [newKeys[0] as string, newKeys[2] as string])).body.sealed).toBe(false);
  });

  it('refuses wrong, duplicate and truncated shares, a wrong nonce and pgp_keys, without key material in the answer', async () => {
    const { app, keys } = await fiveThree();
    expect((await request(app).put('/v1/sys/rekey/init').send({ secret_shares: 3, secret_threshold: 2, pgp_keys: ['abc'] })).body.errors[0]).toMatch(/pgp_keys.*not supported/);
    const nonce = (await request(app).put('/v1/sys/rekey/init').send({ secret_shares: 3, secret_threshold: 2 })).body.nonce as string;
    const answers: request.Response[] = [];
    answers.push(await request(app).put('/v1/sys/rekey/update').send({ key: keys[0], nonce: 'not-the-nonce' }));
    expect(answers[0]?.body.errors[0]).toBe('incorrect nonce');
    await request(app).put('/v1/sys/rekey/update').send({ key: keys[0], nonce });
    answers.push(await request(app).put('/v1/sys/rekey/update').send({ key: keys[0], nonce }));
    expect(answers[1]?.body.errors[0]).toMatch(/already been provided/);
    answers.push(await request(app).put('/v1/sys/rekey/update').send({ key: (keys[1] as string).slice(0, 40), nonce }));
    expect(answers[2]?.body.errors[0]).toMatch(/wrong length/);
    // A well-formed share from another vault: refused once the threshold is reached, and progress resets.
    const other = newVault();
    const otherKeys = (await other.vault.initialize(5, 3)).keys.map(hex);
    await request(app).put('/v1/sys/rekey/update').send({ key: keys[1], nonce });
    answers.push(await request(app).put('/v1/sys/rekey/update').send({ key: otherKeys[0], nonce }));
    expect(answers[3]?.status).toBe(400);
    expect(answers[3]?.body.errors[0]).toMatch(/do not reconstruct the root key; progress has been reset/);
    expect((await request(app).get('/v1/sys/rekey/init')).body).toMatchObject({ started: false, progress: 0 });
    for (const answer of answers) for (const key of [...keys, ...otherKeys]) expect(JSON.stringify(answer.body)).not.toContain(key.slice(0, 16));
    // The old shares still unseal: a failed rekey changed nothing.
    expect((await request(app).get('/v1/sys/seal-status')).body).toMatchObject({ t: 3, n: 5 });
  });

  it('progress is lost on restart (and cancel), and the old shares still unseal', async () => {
    const { app, file, keys, db, vault } = await fiveThree();
    const nonce = (await request(app).put('/v1/sys/rekey/init').send({ secret_shares: 3, secret_threshold: 2 })).body.nonce as string;
    await request(app).put('/v1/sys/rekey/update').send({ key: keys[0], nonce });
    await request(app).put('/v1/sys/rekey/update').send({ key: keys[1], nonce });
    await vault.seal.seal();
    db.close();
    const restarted = newVault({ file });
    expect((await unsealWith(restarted.app, keys.slice(2, 5))).body.sealed).toBe(false);
    expect((await request(restarted.app).get('/v1/sys/rekey/init')).body).toMatchObject({ started: false, progress: 0 });
    const again = (await request(restarted.app).put('/v1/sys/rekey/init').send({ secret_shares: 3, secret_threshold: 2 })).body.nonce as string;
    expect((await request(restarted.app).delete('/v1/sys/rekey/init')).status).toBe(204);
    expect((await request(restarted.app).put('/v1/sys/rekey/update').send({ key: keys[0], nonce: again })).body.errors[0]).toBe('no rekey in progress');
    await restarted.vault.seal.seal();
    restarted.db.close();
  });
});

describe('sys/generate-root', () => {
  it('yields a working root token, encoded with the OTP as Vault does, and the flow is audited', async () => {
    const { app, keys, root } = await fiveThree();
    const log = path.join(dir, 'audit.log');
    expect((await request(app).put('/v1/sys/audit/file').set(root).send({ type: 'file', options: { file_path: log } })).status).toBe(204);
    const status = await request(app).get('/v1/sys/generate-root/attempt');
    expect(status.body).toMatchObject({ started: false, otp_length: OTP_LENGTH, required: 3 });
    const started = await request(app).put('/v1/sys/generate-root/attempt').send({});
    expect(started.status).toBe(200);
    const otp = started.body.otp as string;
    expect(otp).toMatch(/^[A-Za-z0-9]{28}$/);
    const nonce = started.body.nonce as string;
    expect((await request(app).get('/v1/sys/generate-root/attempt')).body).toMatchObject({ started: true, otp: '', progress: 0 });
    await request(app).put('/v1/sys/generate-root/update').send({ key: keys[4], nonce });
    await request(app).put('/v1/sys/generate-root/update').send({ key: keys[2], nonce });
    const done = await request(app).put('/v1/sys/generate-root/update').send({ key: keys[0], nonce });
    expect(done.body).toMatchObject({ complete: true, progress: 3, required: 3 });
    const encoded = done.body.encoded_token as string;
    expect(done.body.encoded_root_token).toBe(encoded);
    expect(encoded).not.toContain('=');
    const token = decodeToken(encoded, otp);
    expect(token).toMatch(/^hvs\.[A-Za-z0-9]{24}$/);
    const self = await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', token);
    expect(self.status).toBe(200);
    expect(self.body.data.policies).toEqual(['root']);
    expect((await request(app).get('/v1/secret/data/app').set('X-Vault-Token', token)).body.data.data).toEqual({ password: 'kept-across-rekey' });

    const text = fs.readFileSync(log, 'utf8');
    const entries = text.trim().split('\n').map((l) => JSON.parse(l));
    expect(entries.filter((e) => e.request.path === 'sys/generate-root/update').length).toBe(6);
    for (const secret of [token, otp, encoded, ...keys]) expect(text).not.toContain(secret);
  });

  it('accepts an operator OTP of the right length only, refuses pgp_key, and cancels', async () => {
    const { app, keys } = await fiveThree();
    expect((await request(app).put('/v1/sys/generate-root/attempt').send({ otp: 'short' })).body.errors[0]).toMatch(/wrong length/);
    expect((await request(app).put('/v1/sys/generate-root/attempt').send({ pgp_key: 'abc' })).body.errors[0]).toMatch(/not supported/);
    const otp = 'A'.repeat(OTP_LENGTH);
    const started = await request(app).put('/v1/sys/generate-root/attempt').send({ otp });
    expect(started.body.otp).toBe('');
    expect((await request(app).put('/v1/sys/generate-root/attempt').send({})).status).toBe(400);
    expect((await request(app).delete('/v1/sys/generate-root/attempt')).status).toBe(204);
    const res = await request(app).put('/v1/sys/generate-root/update').send({ key: keys[0], nonce: started.body.nonce });
    expect(res.body.errors[0]).toBe('no root generation in progress');
  });
});
