// Vault's HTTP contract: envelope, errors, auth headers, canonical paths, bounded bodies, sys/mounts.
import request from 'supertest';
import { createApp } from '../../src/http/app';
import { unsealedVault } from '../helpers/vault';

async function withKv() {
  const v = await unsealedVault();
  const enable = await request(v.app).post('/v1/sys/mounts/secret').set('X-Vault-Token', v.rootToken).send({ type: 'kv', options: { version: '2' } });
  expect(enable.status).toBe(204);
  return v;
}

describe('the response envelope and errors', () => {
  it('uses exactly application/json, the envelope, and request ids', async () => {
    const { app, rootToken } = await withKv();
    const res = await request(app).get('/v1/sys/mounts').set('X-Vault-Token', rootToken);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ lease_id: '', renewable: false, lease_duration: 0, wrap_info: null, warnings: null, auth: null });
    expect(res.body.request_id).toMatch(/^[0-9a-f-]{36}$/);
    // sys/mounts copies data's keys to the top level, as Vault does.
    expect(res.body.data['secret/']).toMatchObject({ type: 'kv', options: { version: '2' } });
    expect(res.body['secret/']).toEqual(res.body.data['secret/']);
    expect(res.body['sys/']).toMatchObject({ type: 'system' });
  });

  it('answers 403 for a missing or wrong token, with either header style', async () => {
    const { app, rootToken } = await withKv();
    expect((await request(app).get('/v1/sys/mounts')).status).toBe(403);
    const wrong = await request(app).get('/v1/sys/mounts').set('X-Vault-Token', 'hvs.nope');
    expect(wrong.status).toBe(403);
    expect(wrong.body).toEqual({ errors: ['permission denied'] });
    expect(wrong.headers['content-type']).toBe('application/json');
    expect((await request(app).get('/v1/sys/mounts').set('Authorization', `Bearer ${rootToken}`)).status).toBe(200);
  });

  it('answers 404 with {"errors":[]} for a missing secret, and 405 for an unsupported operation', async () => {
    const { app, rootToken } = await withKv();
    const missing = await request(app).get('/v1/secret/data/nope').set('X-Vault-Token', rootToken);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ errors: [] });
    const noRoute = await request(app).get('/v1/nomount/x').set('X-Vault-Token', rootToken);
    expect(noRoute.status).toBe(404);
    const method = await request(app).delete('/v1/sys/seal-status');
    expect(method.status).toBe(405);
  });

  it('warns about unknown parameters', async () => {
    const { app, rootToken } = await withKv();
    const res = await request(app).post('/v1/secret/config').set('X-Vault-Token', rootToken).send({ max_versions: 3, bogus: 1 });
    expect([200, 204]).toContain(res.status);
    expect(res.status).toBe(200);
    expect(res.body.warnings[0]).toContain('bogus');
  });
});

describe('canonical paths', () => {
  const bad = [
    '/v1/secret/data/a%2f..%2fb',
    '/v1/secret/data/%2e%2e/sys/mounts',
    '/v1/secret/data/a/%2E%2E/b',
    '/v1/secret/./data/a',
    '/v1/secret/data/a/..',
    '/v1/secret/data/a%5cb',
    '/v1/secret/data/a%00b',
  ];
  it.each(bad)('refuses %s with 400 and writes nothing', async (path) => {
    const { app, rootToken, db } = await withKv();
    const before = db.prepare('SELECT count(*) AS n FROM entries').get() as { n: number };
    const res = await request(app).post(path).set('X-Vault-Token', rootToken).send({ data: { a: 1 } });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/json');
    expect((db.prepare('SELECT count(*) AS n FROM entries').get() as { n: number }).n).toBe(before.n);
  });
  it('redirects /v1/secret//data/a with 301 to the cleaned path (as Vault does) and writes nothing', async () => {
    const { app, rootToken, db } = await withKv();
    const before = db.prepare('SELECT count(*) AS n FROM entries').get() as { n: number };
    const res = await request(app).post('/v1/secret//data/a').set('X-Vault-Token', rootToken).send({ data: { a: 1 } });
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('/v1/secret/data/a');
    expect((db.prepare('SELECT count(*) AS n FROM entries').get() as { n: number }).n).toBe(before.n);
  });
});

describe('bounded bodies', () => {
  async function countEntries(db: { prepare: (s: string) => { get: () => unknown } }) {
    return (db.prepare('SELECT count(*) AS n FROM entries').get() as { n: number }).n;
  }

  it('refuses malformed JSON, non-object bodies, deep nesting, too many keys and __proto__', async () => {
    const { app, rootToken, db } = await withKv();
    const before = await countEntries(db);
    const cases: string[] = [
      '{"data": {"a": 1}',
      '[1,2,3]',
      '"string"',
      `{"data": ${'['.repeat(100)}${']'.repeat(100)}}`,
      '{"data": {"__proto__": {"polluted": true}}}',
      '{"__proto__": {"polluted": true}, "data": {"a": 1}}',
    ];
    for (const body of cases) {
      const res = await request(app).post('/v1/secret/data/x').set('X-Vault-Token', rootToken).set('Content-Type', 'application/json').send(body);
      expect(res.status).toBe(400);
      expect(res.body.errors).toHaveLength(1);
    }
    const many: Record<string, number> = {};
    for (let i = 0; i < 100_001; i++) many[`k${i}`] = i;
    const tooMany = await request(app).post('/v1/secret/data/x').set('X-Vault-Token', rootToken).send({ data: many });
    expect(tooMany.status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await countEntries(db)).toBe(before);
    expect((await request(app).get('/v1/secret/data/x').set('X-Vault-Token', rootToken)).status).toBe(404);
  });

  it('refuses a body over the size limit with 413', async () => {
    const { vault, logger, rootToken } = await unsealedVault();
    const small = createApp({ vault, logger, bodyLimits: { maxBytes: 1024, maxDepth: 64, maxKeys: 1000 } });
    const res = await request(small).post('/v1/sys/mounts/kv').set('X-Vault-Token', rootToken).send({ type: 'kv', description: 'x'.repeat(5000) });
    expect(res.status).toBe(413);
    expect(vault.mounts.get('kv/')).toBeUndefined();
  });

  it('requires merge-patch content type for PATCH', async () => {
    const { app, rootToken } = await withKv();
    await request(app).post('/v1/secret/data/p').set('X-Vault-Token', rootToken).send({ data: { a: '1' } });
    const wrongType = await request(app).patch('/v1/secret/data/p').set('X-Vault-Token', rootToken).send({ data: { b: '2' } });
    expect(wrongType.status).toBe(415);
    const read = await request(app).get('/v1/secret/data/p').set('X-Vault-Token', rootToken);
    expect(read.body.data.data).toEqual({ a: '1' });
    const ok = await request(app)
      .patch('/v1/secret/data/p')
      .set('X-Vault-Token', rootToken)
      .set('Content-Type', 'application/merge-patch+json')
      .send(JSON.stringify({ data: { b: '2' } }));
    expect(ok.status).toBe(200);
    expect((await request(app).get('/v1/secret/data/p').set('X-Vault-Token', rootToken)).body.data.data).toEqual({ a: '1', b: '2' });
  });
});

describe('sys/mounts', () => {
  it('enables, reads, tunes, lists and disables engines; refuses overlaps and reserved paths', async () => {
    const { app, rootToken } = await unsealedVault();
    const auth = { 'X-Vault-Token': rootToken };
    expect((await request(app).post('/v1/sys/mounts/team/kv').set(auth).send({ type: 'kv-v2', description: 'team secrets' })).status).toBe(204);
    const read = await request(app).get('/v1/sys/mounts/team/kv').set(auth);
    expect(read.body.data).toMatchObject({ type: 'kv', description: 'team secrets', options: { version: '2' } });

    for (const [path, body] of [
      ['team', { type: 'kv' }],
      ['team/kv/inner', { type: 'kv' }],
      ['sys', { type: 'kv' }],
      ['auth/foo', { type: 'kv' }],
      ['other', { type: 'no-such-engine' }],
      ['other', {}],
    ] as const) {
      const res = await request(app).post(`/v1/sys/mounts/${path}`).set(auth).send(body);
      expect(res.status).toBe(400);
    }

    expect((await request(app).post('/v1/sys/mounts/team/kv/tune').set(auth).send({ default_lease_ttl: '1h', max_lease_ttl: '2h', description: 'tuned' })).status).toBe(204);
    const tune = await request(app).get('/v1/sys/mounts/team/kv/tune').set(auth);
    expect(tune.body.data).toMatchObject({ default_lease_ttl: 3600, max_lease_ttl: 7200, description: 'tuned' });
    expect((await request(app).post('/v1/sys/mounts/team/kv/tune').set(auth).send({ default_lease_ttl: 'soon' })).status).toBe(400);

    const ui = await request(app).get('/v1/sys/internal/ui/mounts/team/kv/some/secret').set(auth);
    expect(ui.body.data).toMatchObject({ path: 'team/kv/', type: 'kv', options: { version: '2' } });

    await request(app).post('/v1/team/kv/data/s').set(auth).send({ data: { v: 1 } });
    expect((await request(app).delete('/v1/sys/mounts/team/kv').set(auth)).status).toBe(204);
    expect((await request(app).get('/v1/sys/mounts').set(auth)).body.data['team/kv/']).toBeUndefined();
    // Re-enabling at the same path starts empty.
    await request(app).post('/v1/sys/mounts/team/kv').set(auth).send({ type: 'kv-v2' });
    expect((await request(app).get('/v1/team/kv/data/s').set(auth)).status).toBe(404);
  });

  it('rotates the keyring and reports the term', async () => {
    const { app, rootToken } = await unsealedVault();
    const auth = { 'X-Vault-Token': rootToken };
    expect((await request(app).get('/v1/sys/key-status').set(auth)).body.data.term).toBe(1);
    expect((await request(app).post('/v1/sys/rotate').set(auth)).status).toBe(204);
    expect((await request(app).get('/v1/sys/key-status').set(auth)).body.data.term).toBe(2);
  });
});
