// A child token stops working the moment its parent (or any ancestor) has expired, without
// waiting for the expiry job that revokes the tree (background jobs are off here).
import request from 'supertest';
import { ManualClock } from '../../src/util/clock';
import { unsealedVault } from '../helpers/vault';

describe('parent expiry at use', () => {
  it('a child and a grandchild are refused once an ancestor has expired; an orphan is not', async () => {
    const clock = new ManualClock();
    const { app, rootToken } = await unsealedVault({ clock });
    const create = async (as: string, body: Record<string, unknown>) => {
      const res = await request(app).post('/v1/auth/token/create').set('X-Vault-Token', as).send(body);
      expect(res.status).toBe(200);
      return res.body.auth.client_token as string;
    };
    await request(app).put('/v1/sys/policies/acl/creator').set('X-Vault-Token', rootToken).send({ policy: 'path "auth/token/create" { capabilities = ["update"] }' });
    const parent = await create(rootToken, { policies: ['creator'], ttl: '100s', explicit_max_ttl: '100s' });
    const child = await create(parent, { policies: ['creator'], ttl: '1h' });
    const grandchild = await create(child, { policies: ['creator'], ttl: '1h' });
    // Creation caps a child at its parent's remaining TTL, but renewal does not: renewed, they outlive it.
    for (const t of [child, grandchild]) {
      const renewed = await request(app).post('/v1/auth/token/renew-self').set('X-Vault-Token', t).send({ increment: '1h' });
      expect(renewed.body.auth.lease_duration).toBeGreaterThan(3000);
    }
    const orphan = await create(rootToken, { policies: ['default'], ttl: '1h' });
    const self = (t: string) => request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', t);
    for (const t of [parent, child, grandchild]) expect((await self(t)).status).toBe(200);
    clock.advanceSeconds(101);
    for (const t of [parent, child, grandchild]) expect((await self(t)).status).toBe(403);
    expect((await self(orphan)).status).toBe(200);
  });
});
