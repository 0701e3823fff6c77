// Issue 15 item 1: a refused unmount of a built-in mount changes nothing. Before the fix,
// DELETE sys/auth/token revoked every token (root included), queued their leases and purged
// their cubbyholes, then answered 400.
import request from 'supertest';
import { leaseEngine } from '../helpers/lease-engine';
import { unsealedVault } from '../helpers/vault';

async function setup() {
  const engine = leaseEngine();
  const v = await unsealedVault({ registry: { leases: engine.factory } });
  const root = { 'X-Vault-Token': v.rootToken };
  expect((await request(v.app).post('/v1/sys/mounts/test').set(root).send({ type: 'leases' })).status).toBe(204);
  const child = await request(v.app).post('/v1/auth/token/create').set(root).send({ policies: ['default'], ttl: '1h' });
  expect(child.status).toBe(200);
  const childToken = { 'X-Vault-Token': child.body.auth.client_token as string };
  // The lease is held by the root token, so revoking the root token would revoke it.
  const issued = await request(v.app).get('/v1/test/creds/app?ttl=600').set(root);
  expect(issued.status).toBe(200);
  expect((await request(v.app).put('/v1/cubbyhole/note').set(root).send({ v: 'kept' })).status).toBe(204);
  return { ...v, root, childToken, leaseId: issued.body.lease_id as string, log: engine.log };
}

describe('refusing to unmount a built-in mount', () => {
  it.each([
    ['DELETE sys/auth/token', '/v1/sys/auth/token'],
    ['DELETE sys/mounts/sys', '/v1/sys/mounts/sys'],
    ['DELETE sys/mounts/cubbyhole', '/v1/sys/mounts/cubbyhole'],
  ])('%s answers 400 and leaves tokens, leases and cubbyholes untouched', async (_name, url) => {
    const { app, root, childToken, leaseId, log } = await setup();
    const refused = await request(app).delete(url).set(root);
    expect(refused.status).toBe(400);
    expect(refused.body.errors.join(' ')).toMatch(/cannot unmount/);

    expect((await request(app).get('/v1/auth/token/lookup-self').set(root)).status).toBe(200);
    expect((await request(app).get('/v1/auth/token/lookup-self').set(childToken)).status).toBe(200);
    const lookup = await request(app).put('/v1/sys/leases/lookup').set(root).send({ lease_id: leaseId });
    expect(lookup.status).toBe(200);
    expect(log.revoked).toEqual([]);
    const note = await request(app).get('/v1/cubbyhole/note').set(root);
    expect(note.status).toBe(200);
    expect(note.body.data).toEqual({ v: 'kept' });
    // The mounts are all still there.
    const mounts = await request(app).get('/v1/sys/mounts').set(root);
    expect(Object.keys(mounts.body.data)).toEqual(expect.arrayContaining(['sys/', 'cubbyhole/', 'test/']));
    expect(Object.keys((await request(app).get('/v1/sys/auth').set(root)).body.data)).toContain('token/');
  });
});
