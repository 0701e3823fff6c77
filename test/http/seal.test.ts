// Init, unseal with Shamir shares, seal and health, over real HTTP.
import request from 'supertest';
import { newVault } from '../helpers/vault';

describe('init, unseal and seal', () => {
  it('reports 501 before init and refuses other paths while uninitialised', async () => {
    const { app } = newVault();
    const health = await request(app).get('/v1/sys/health');
    expect(health.status).toBe(501);
    expect(health.body).toMatchObject({ initialized: false, sealed: true });
    expect((await request(app).get('/v1/sys/init')).body).toEqual({ initialized: false });
    const other = await request(app).get('/v1/secret/data/x').set('X-Vault-Token', 'anything');
    expect(other.status).toBe(503);
    expect(other.body).toEqual({ errors: ['Vault is sealed'] });
  });

  it('initialises 5/3, unseals with any three shares in hex and base64, seals and unseals again', async () => {
    const { app } = newVault();
    const init = await request(app).put('/v1/sys/init').send({ secret_shares: 5, secret_threshold: 3 });
    expect(init.status).toBe(200);
    expect(init.body.keys).toHaveLength(5);
    expect(init.body.keys_base64).toHaveLength(5);
    expect(init.body.root_token).toMatch(/^hvs\./);
    const { keys, keys_base64: keysB64, root_token: rootToken } = init.body as { keys: string[]; keys_base64: string[]; root_token: string };

    // Still sealed after init, as Vault.
    expect((await request(app).get('/v1/sys/health')).status).toBe(503);
    expect((await request(app).put('/v1/sys/init').send({ secret_shares: 1, secret_threshold: 1 })).status).toBe(400);

    let status = await request(app).put('/v1/sys/unseal').send({ key: keys[4] });
    expect(status.body).toMatchObject({ sealed: true, t: 3, n: 5, progress: 1 });
    // A duplicate share does not advance progress.
    status = await request(app).put('/v1/sys/unseal').send({ key: keysB64[4] });
    expect(status.body.progress).toBe(1);
    status = await request(app).put('/v1/sys/unseal').send({ key: keysB64[1] });
    expect(status.body.progress).toBe(2);
    status = await request(app).put('/v1/sys/unseal').send({ key: keys[2] });
    expect(status.body).toMatchObject({ sealed: false, progress: 0 });
    expect((await request(app).get('/v1/sys/health')).status).toBe(200);

    expect((await request(app).put('/v1/sys/seal').set('X-Vault-Token', rootToken)).status).toBe(204);
    expect((await request(app).get('/v1/sys/seal-status')).body.sealed).toBe(true);
    expect((await request(app).get('/v1/sys/mounts').set('X-Vault-Token', rootToken)).status).toBe(503);

    for (const k of [keysB64[0], keys[3], keysB64[2]]) await request(app).put('/v1/sys/unseal').send({ key: k });
    const mounts = await request(app).get('/v1/sys/mounts').set('X-Vault-Token', rootToken);
    expect(mounts.status).toBe(200);
  });

  it('a wrong share never unseals, resets progress and leaks no key material', async () => {
    const { app, vault } = newVault();
    const init = await request(app).put('/v1/sys/init').send({ secret_shares: 3, secret_threshold: 2 });
    const keys = init.body.keys as string[];
    const forged = (keys[0] as string).slice(0, -4) + ((keys[0] as string).endsWith('0000') ? '1111' : '0000');
    await request(app).put('/v1/sys/unseal').send({ key: keys[1] });
    const res = await request(app).put('/v1/sys/unseal').send({ key: forged });
    expect(res.status).toBe(400);
    const text = JSON.stringify(res.body);
    for (const k of [...keys, forged]) expect(text).not.toContain(k);
    expect(vault.seal.sealed).toBe(true);
    expect((await request(app).get('/v1/sys/seal-status')).body.progress).toBe(0);

    const malformed = await request(app).put('/v1/sys/unseal').send({ key: 'not-a-key!!' });
    expect(malformed.status).toBe(400);
    const short = await request(app).put('/v1/sys/unseal').send({ key: 'abcd' });
    expect(short.status).toBe(400);
    expect(JSON.stringify(short.body)).not.toContain('abcd');

    // The real shares still work afterwards.
    await request(app).put('/v1/sys/unseal').send({ key: keys[0] });
    const ok = await request(app).put('/v1/sys/unseal').send({ key: keys[2] });
    expect(ok.body.sealed).toBe(false);
  });

  it('reset forgets submitted shares', async () => {
    const { app } = newVault();
    const init = await request(app).put('/v1/sys/init').send({ secret_shares: 3, secret_threshold: 2 });
    await request(app).put('/v1/sys/unseal').send({ key: init.body.keys[0] });
    const reset = await request(app).put('/v1/sys/unseal').send({ reset: true });
    expect(reset.body.progress).toBe(0);
    const after = await request(app).put('/v1/sys/unseal').send({ key: init.body.keys[1] });
    expect(after.body).toMatchObject({ sealed: true, progress: 1 });
  });

  it('refuses invalid seal configurations', async () => {
    const { app, vault } = newVault();
    for (const body of [{ secret_shares: 0, secret_threshold: 0 }, { secret_shares: 3, secret_threshold: 4 }, { secret_shares: 3, secret_threshold: 1 }, { secret_shares: 'x', secret_threshold: 2 }, {}]) {
      expect((await request(app).put('/v1/sys/init').send(body)).status).toBe(400);
    }
    expect(vault.seal.initialized).toBe(false);
  });

  it('honours sys/health query overrides', async () => {
    const { app } = newVault();
    expect((await request(app).get('/v1/sys/health?uninitcode=299')).status).toBe(299);
    await request(app).put('/v1/sys/init').send({ secret_shares: 1, secret_threshold: 1 });
    expect((await request(app).get('/v1/sys/health?sealedcode=200')).status).toBe(200);
    expect((await request(app).head('/v1/sys/health')).status).toBe(503);
  });

  it('zeroes the keyring on seal', async () => {
    const { app, vault } = newVault();
    const init = await request(app).put('/v1/sys/init').send({ secret_shares: 1, secret_threshold: 1 });
    await request(app).put('/v1/sys/unseal').send({ key: init.body.keys[0] });
    const tokenKey = vault.barrier.subKey('token-hmac-v1');
    expect(tokenKey.some((b) => b !== 0)).toBe(true);
    await request(app).put('/v1/sys/seal').set('X-Vault-Token', init.body.root_token);
    expect(tokenKey.every((b) => b === 0)).toBe(true);
    expect(vault.barrier.sealed).toBe(true);
  });
});
