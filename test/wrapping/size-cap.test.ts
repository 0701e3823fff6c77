// Issue 15 item 3 (size part): wrapped bodies had no size cap, so any token could fill the disk.
// A response over the cap (1 MiB by default) is refused with 400 and leaves no wrapping token.
import request from 'supertest';
import { unsealedVault } from '../helpers/vault';

describe('response wrapping: size cap', () => {
  it('refuses an oversized wrap with 400 and accepts one under the cap', async () => {
    const { app, rootToken, db } = await unsealedVault();
    const root = { 'X-Vault-Token': rootToken };
    const tokensBefore = (db.prepare('SELECT COUNT(*) AS n FROM tokens').get() as { n: number }).n;
    const big = await request(app).post('/v1/sys/wrapping/wrap').set({ ...root, 'X-Vault-Wrap-TTL': '5m' }).send({ blob: 'x'.repeat(1024 * 1024 + 1) });
    expect(big.status).toBe(400);
    expect(big.body.errors.join(' ')).toMatch(/larger than the limit/);
    expect((db.prepare('SELECT COUNT(*) AS n FROM tokens').get() as { n: number }).n).toBe(tokensBefore);
    const small = await request(app).post('/v1/sys/wrapping/wrap').set({ ...root, 'X-Vault-Wrap-TTL': '5m' }).send({ blob: 'x'.repeat(1000) });
    expect(small.status).toBe(200);
    expect(small.body.wrap_info.token).toEqual(expect.any(String));
  });
});
