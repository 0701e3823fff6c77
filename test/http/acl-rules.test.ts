// ACL rules end to end: policies written through sys/policies/acl, enforced on real KV mounts over
// HTTP. Globs, `+` segments, Vault's precedence, unions across policies, deny, LIST on a parent,
// parameter constraints on KV v1 writes, and sys/capabilities-self agreeing with what requests get.
import request from 'supertest';
import { unsealedVault } from '../helpers/vault';

async function setup() {
  const v = await unsealedVault();
  const root = { 'X-Vault-Token': v.rootToken };
  expect((await request(v.app).post('/v1/sys/mounts/secret').set(root).send({ type: 'kv-v2' })).status).toBe(204);
  const writePolicy = async (name: string, policy: string) => {
    const res = await request(v.app).put(`/v1/sys/policies/acl/${name}`).set(root).send({ policy });
    expect(res.status).toBe(204);
  };
  const tokenWith = async (policies: string[]) => {
    const res = await request(v.app).post('/v1/auth/token/create').set(root).send({ policies });
    expect(res.status).toBe(200);
    return { 'X-Vault-Token': res.body.auth.client_token as string };
  };
  /** Writes a KV v2 secret as root so that a permitted read answers 200 rather than 404. */
  const seed = async (...paths: string[]) => {
    for (const p of paths) expect((await request(v.app).post(`/v1/secret/data/${p}`).set(root).send({ data: { at: p } })).status).toBe(200);
  };
  const read = async (as: Record<string, string>, p: string) => (await request(v.app).get(`/v1/secret/data/${p}`).set(as)).status;
  const write = async (as: Record<string, string>, p: string, data: Record<string, unknown> = { v: 'new' }) =>
    (await request(v.app).post(`/v1/secret/data/${p}`).set(as).send({ data })).status;
  const rootRead = async (p: string) => (await request(v.app).get(`/v1/secret/data/${p}`).set(root)).body.data?.data as Record<string, unknown> | undefined;
  return { ...v, root, writePolicy, tokenWith, seed, read, write, rootRead };
}

describe('path matching through HTTP', () => {
  it('a trailing `*` is a prefix glob (even inside a segment); a path without it matches exactly', async () => {
    const { writePolicy, tokenWith, seed, read } = await setup();
    await writePolicy('globs', 'path "secret/data/app*" { capabilities = ["read"] }\npath "secret/data/exact" { capabilities = ["read"] }');
    await seed('app', 'app-two', 'app/nested/deep', 'ap', 'exact', 'exact2', 'exact/sub', 'other');
    const as = await tokenWith(['globs']);
    expect(await read(as, 'app')).toBe(200);
    expect(await read(as, 'app-two')).toBe(200);
    expect(await read(as, 'app/nested/deep')).toBe(200);
    expect(await read(as, 'ap')).toBe(403);
    expect(await read(as, 'exact')).toBe(200);
    expect(await read(as, 'exact2')).toBe(403);
    expect(await read(as, 'exact/sub')).toBe(403);
    expect(await read(as, 'other')).toBe(403);
  });

  it('`+` matches exactly one segment: secret/data/team/app but not team/x/app or team itself', async () => {
    const { writePolicy, tokenWith, seed, read } = await setup();
    await writePolicy('plus', 'path "secret/data/+/app" { capabilities = ["read"] }');
    await seed('team/app', 'other-team/app', 'team/x/app', 'team', 'team/app/more');
    const as = await tokenWith(['plus']);
    expect(await read(as, 'team/app')).toBe(200);
    expect(await read(as, 'other-team/app')).toBe(200);
    expect(await read(as, 'team/x/app')).toBe(403);
    expect(await read(as, 'team')).toBe(403);
    expect(await read(as, 'team/app/more')).toBe(403);
  });
});

describe('precedence and unions', () => {
  it('the more specific pattern wins over secret/*, even when it grants less', async () => {
    const { writePolicy, tokenWith, seed, read, write, rootRead } = await setup();
    await writePolicy(
      'layered',
      [
        'path "secret/*" { capabilities = ["create", "read", "update"] }',
        'path "secret/data/team/*" { capabilities = ["read"] }',
        'path "secret/data/frozen" { capabilities = ["list"] }',
      ].join('\n'),
    );
    await seed('team/db', 'general', 'frozen');
    const as = await tokenWith(['layered']);
    // secret/* alone would allow the write; secret/data/team/* is longer and only grants read.
    expect(await write(as, 'team/db')).toBe(403);
    expect(await read(as, 'team/db')).toBe(200);
    expect(await rootRead('team/db')).toEqual({ at: 'team/db' });
    expect(await write(as, 'general')).toBe(200);
    expect(await rootRead('general')).toEqual({ v: 'new' });
    // An exact path beats every glob: no read, no write on secret/data/frozen.
    expect(await read(as, 'frozen')).toBe(403);
    expect(await write(as, 'frozen')).toBe(403);
    expect(await rootRead('frozen')).toEqual({ at: 'frozen' });
  });

  it('the same pattern in two policies unions their capabilities', async () => {
    const { writePolicy, tokenWith, seed, read, write, rootRead } = await setup();
    await writePolicy('shared-read', 'path "secret/data/shared/*" { capabilities = ["read"] }');
    await writePolicy('shared-write', 'path "secret/data/shared/*" { capabilities = ["update"] }');
    await seed('shared/k');
    const readerOnly = await tokenWith(['shared-read']);
    const writerOnly = await tokenWith(['shared-write']);
    const both = await tokenWith(['shared-read', 'shared-write']);
    expect(await write(readerOnly, 'shared/k')).toBe(403);
    expect(await read(writerOnly, 'shared/k')).toBe(403);
    expect(await read(both, 'shared/k')).toBe(200);
    expect(await write(both, 'shared/k', { v: 'both' })).toBe(200);
    expect(await rootRead('shared/k')).toEqual({ v: 'both' });
  });

  it('deny beats sudo and every other capability, on data paths and on sudo paths', async () => {
    const { app, root, writePolicy, tokenWith, seed, read, write, rootRead } = await setup();
    const everything = '["create", "read", "update", "delete", "list", "sudo", "patch"]';
    await writePolicy('all', `path "secret/data/locked" { capabilities = ${everything} }\npath "sys/rotate" { capabilities = ["update", "sudo"] }`);
    await writePolicy('deny', 'path "secret/data/locked" { capabilities = ["deny"] }\npath "sys/rotate" { capabilities = ["deny"] }');
    await seed('locked');
    const allowed = await tokenWith(['all']);
    const denied = await tokenWith(['all', 'deny']);
    // Control: without the deny, the same token shape can do all of it.
    expect(await read(allowed, 'locked')).toBe(200);
    expect((await request(app).get('/v1/sys/key-status').set(root)).body.data.term).toBe(1);
    expect((await request(app).post('/v1/sys/rotate').set(allowed)).status).toBe(204);
    expect((await request(app).get('/v1/sys/key-status').set(root)).body.data.term).toBe(2);

    expect(await read(denied, 'locked')).toBe(403);
    expect(await write(denied, 'locked')).toBe(403);
    expect((await request(app).delete('/v1/secret/data/locked').set(denied)).status).toBe(403);
    expect(await rootRead('locked')).toEqual({ at: 'locked' });
    expect((await request(app).post('/v1/sys/rotate').set(denied)).status).toBe(403);
    expect((await request(app).get('/v1/sys/key-status').set(root)).body.data.term).toBe(2);
  });

  it('LIST on the parent is allowed while a deny below it still denies reading and listing there', async () => {
    const { app, writePolicy, tokenWith, seed } = await setup();
    await writePolicy('browse', 'path "secret/metadata/*" { capabilities = ["list", "read"] }\npath "secret/metadata/private/*" { capabilities = ["deny"] }');
    await seed('public/db', 'private/db', 'top');
    const as = await tokenWith(['browse']);
    const top = await request(app).get('/v1/secret/metadata/?list=true').set(as);
    expect(top.status).toBe(200);
    expect(top.body.data.keys).toEqual(['private/', 'public/', 'top']);
    const publicList = await request(app).get('/v1/secret/metadata/public/?list=true').set(as);
    expect(publicList.status).toBe(200);
    expect(publicList.body.data.keys).toEqual(['db']);
    expect((await request(app).get('/v1/secret/metadata/public/db').set(as)).status).toBe(200);

    expect((await request(app).get('/v1/secret/metadata/private/?list=true').set(as)).status).toBe(403);
    // Without the trailing slash the list is canonicalised to private/ and still denied.
    expect((await request(app).get('/v1/secret/metadata/private?list=true').set(as)).status).toBe(403);
    expect((await request(app).get('/v1/secret/metadata/private/db').set(as)).status).toBe(403);
  });
});

describe('policy changes and tokens already in use', () => {
  it('a token in use gets the new rules on its next request after its policy is rewritten, deleted or re-created', async () => {
    const { app, root, writePolicy, tokenWith, seed, read } = await setup();
    await seed('a', 'b');
    await writePolicy('changing', 'path "secret/data/a" { capabilities = ["read"] }');
    const as = await tokenWith(['changing']);
    // Several requests first, so the token and its compiled ACL are cached.
    for (let i = 0; i < 3; i++) expect(await read(as, 'a')).toBe(200);
    expect(await read(as, 'b')).toBe(403);

    await writePolicy('changing', 'path "secret/data/b" { capabilities = ["read"] }');
    expect(await read(as, 'a')).toBe(403);
    expect(await read(as, 'b')).toBe(200);

    expect((await request(app).delete('/v1/sys/policies/acl/changing').set(root)).status).toBe(204);
    expect(await read(as, 'b')).toBe(403);

    await writePolicy('changing', 'path "secret/data/a" { capabilities = ["read"] }');
    expect(await read(as, 'a')).toBe(200);
    expect(await read(as, 'b')).toBe(403);
  });
});

describe('parameter constraints on a KV v1 write', () => {
  async function withKv1() {
    const v = await setup();
    expect((await request(v.app).post('/v1/sys/mounts/kv1').set(v.root).send({ type: 'kv' })).status).toBe(204);
    await v.writePolicy(
      'params',
      `path "kv1/params/*" {
        capabilities = ["create", "update", "read"]
        allowed_parameters = { "color" = ["red", "blue-*"], "size" = [] }
        denied_parameters = { "size" = ["huge"] }
        required_parameters = ["color"]
      }`,
    );
    const as = await v.tokenWith(['params']);
    const put = async (key: string, body: Record<string, unknown>) => (await request(v.app).post(`/v1/kv1/params/${key}`).set(as).send(body)).status;
    const rootGet = async (key: string) => request(v.app).get(`/v1/kv1/params/${key}`).set(v.root);
    return { ...v, as, put, rootGet };
  }

  it('allowed values (literal, glob, any-value key) are written', async () => {
    const { put, rootGet, vault } = await withKv1();
    expect(await put('a', { color: 'red' })).toBe(204);
    // The storage key the refusal tests below check for absence is where a write really lands.
    expect(vault.mounts.get('kv1/')?.storage.getJSON('params/a')).toEqual({ color: 'red' });
    expect(await put('b', { color: 'blue-green', size: 'small' })).toBe(204);
    expect((await rootGet('a')).body.data).toEqual({ color: 'red' });
    expect((await rootGet('b')).body.data).toEqual({ color: 'blue-green', size: 'small' });
  });

  it.each([
    ['a disallowed value', { color: 'green' }],
    ['an unlisted parameter', { color: 'red', shape: 'square' }],
    ['a denied value', { color: 'red', size: 'huge' }],
    ['a missing required parameter', { size: 'small' }],
  ])('%s is refused with 403 and nothing is written', async (_what, body) => {
    const { put, rootGet, vault } = await withKv1();
    const storage = vault.mounts.get('kv1/')?.storage;
    expect(storage).toBeDefined();
    expect(await put('fresh', body)).toBe(403);
    expect((await rootGet('fresh')).status).toBe(404);
    expect(storage?.get('params/fresh')).toBeUndefined();
    // Nor can a refused write overwrite an existing secret.
    expect(await put('kept', { color: 'red' })).toBe(204);
    expect(await put('kept', body)).toBe(403);
    expect((await rootGet('kept')).body.data).toEqual({ color: 'red' });
  });

  it('reads are subject to parameter constraints too, as in current Vault (issue 15 item 7)', async () => {
    const { app, as, put } = await withKv1();
    expect(await put('r', { color: 'red' })).toBe(204);
    expect((await request(app).get('/v1/kv1/params/r?anything=1').set(as)).status).toBe(403);
    // required_parameters holds for reads too.
    const res = await request(app).get('/v1/kv1/params/r?color=red').set(as);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ color: 'red' });
  });
});

describe('sys/capabilities-self agrees with what requests actually get', () => {
  it('reports, for each path, capabilities that match the status codes of real reads and writes', async () => {
    const { app, writePolicy, tokenWith, seed, read, write } = await setup();
    await writePolicy(
      'mixed',
      [
        'path "secret/*" { capabilities = ["read", "update"] }',
        'path "secret/data/team/*" { capabilities = ["read"] }',
        'path "secret/data/+/app" { capabilities = ["update"] }',
        'path "secret/data/blocked" { capabilities = ["deny"] }',
      ].join('\n'),
    );
    await writePolicy('extra', 'path "secret/data/team/*" { capabilities = ["list"] }');
    const paths = ['team/db', 'blocked', 'general', 'svc/app', 'team/app'];
    await seed(...paths);
    const as = await tokenWith(['mixed', 'extra']);
    const res = await request(app)
      .post('/v1/sys/capabilities-self')
      .set(as)
      .send({ paths: paths.map((p) => `secret/data/${p}`) });
    expect(res.status).toBe(200);
    const reported = Object.fromEntries(paths.map((p) => [p, res.body.data[`secret/data/${p}`] as string[]]));
    expect(reported).toEqual({
      // secret/data/team/* wins over secret/* and is unioned across both policies.
      'team/db': ['list', 'read'],
      blocked: ['deny'],
      general: ['read', 'update'],
      // secret/data/+/app: its first wildcard is later than secret/*'s.
      'svc/app': ['update'],
      // secret/data/team/* (wildcard at the end) beats secret/data/+/app (wildcard earlier).
      'team/app': ['list', 'read'],
    });
    for (const p of paths) {
      const caps = reported[p] as string[];
      expect({ p, read: await read(as, p) }).toEqual({ p, read: caps.includes('read') ? 200 : 403 });
      // Every seeded secret exists, so a write is an update.
      expect({ p, write: await write(as, p) }).toEqual({ p, write: caps.includes('update') ? 200 : 403 });
    }
  });
});
