// Names that exist on Object.prototype (toString, valueOf, constructor, ...) are ordinary names:
// as request parameters they meet allowed/denied_parameters like any other, and as capabilities,
// legacy policy values or template functions they are unknown and refused.
import request from 'supertest';
import { Acl, parsePolicy } from '../../src/core/policy/acl';
import { parseUsernameTemplate } from '../../src/engines/database/plugins/username-template';
import { BadRequestError } from '../../src/errors';
import { unsealedVault } from '../helpers/vault';

const PROTO_KEYS = ['toString', 'valueOf', 'toLocaleString', 'constructor', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable'];

async function setup(policy: string) {
  const v = await unsealedVault();
  const root = { 'X-Vault-Token': v.rootToken };
  expect((await request(v.app).put('/v1/sys/policies/acl/p').set(root).send({ policy })).status).toBe(204);
  const token = (await request(v.app).post('/v1/auth/token/create').set(root).send({ policies: ['p'] })).body.auth.client_token as string;
  return { ...v, root, as: { 'X-Vault-Token': token } };
}

describe('Object.prototype names as request parameters', () => {
  it.each(PROTO_KEYS)('"%s" is not allowed by allowed_parameters = { username = [] }', async (key) => {
    const { app, root, as } = await setup('path "secret/*" { capabilities = ["create", "update", "read"]\n allowed_parameters = { "username" = [] } }');
    await request(app).post('/v1/sys/mounts/secret').set(root).send({ type: 'kv' });
    expect((await request(app).put('/v1/secret/a').set(as).send({ username: 'u' })).status).toBe(204);
    const res = await request(app).put('/v1/secret/b').set(as).send({ username: 'u', [key]: 'x' });
    expect(res.status).toBe(403);
    expect((await request(app).get('/v1/secret/b').set(root)).status).toBe(404);
  });

  it.each(PROTO_KEYS)('"%s" is refused by a deny naming it and ignored by an unrelated deny', async (key) => {
    const { app, root, as } = await setup(`path "secret/*" { capabilities = ["create", "update"]\n denied_parameters = { "${key}" = [] } }\npath "other/*" { capabilities = ["create", "update"]\n denied_parameters = { "admin" = [] } }`);
    await request(app).post('/v1/sys/mounts/secret').set(root).send({ type: 'kv' });
    await request(app).post('/v1/sys/mounts/other').set(root).send({ type: 'kv' });
    expect((await request(app).put('/v1/secret/b').set(as).send({ [key]: 'x' })).status).toBe(403);
    expect((await request(app).put('/v1/other/b').set(as).send({ [key]: 'x' })).status).toBe(204);
  });

  it('required_parameters is not satisfied by an inherited name', () => {
    const acl = new Acl([parsePolicy('p', 'path "x" { capabilities = ["update"]\n required_parameters = ["toString"] }')]);
    expect(acl.allowOperation('x', 'update', {}, false)).toBe(false);
    expect(acl.allowOperation('x', 'update', { toString: 'a' }, false)).toBe(true);
  });
});

describe('Object.prototype names in policies and templates', () => {
  it.each(PROTO_KEYS)('capability "%s" and as a legacy policy value is refused with 400', async (key) => {
    expect(() => parsePolicy('p', `path "x" { capabilities = ["${key}"] }`)).toThrow(BadRequestError);
    expect(() => parsePolicy('p', `path "x" { policy = "${key}" }`)).toThrow(BadRequestError);
    const { app, root } = await setup('path "x" { capabilities = ["read"] }');
    expect((await request(app).put('/v1/sys/policies/acl/bad').set(root).send({ policy: `path "x" { capabilities = ["${key}"] }` })).status).toBe(400);
    expect((await request(app).put('/v1/sys/policies/acl/bad').set(root).send({ policy: `path "x" { policy = "${key}" }` })).status).toBe(400);
  });

  it('a username template naming an Object.prototype function is refused', () => {
    for (const key of PROTO_KEYS) expect(() => parseUsernameTemplate(`{{${key} "a"}}`)).toThrow();
    expect(() => parseUsernameTemplate('{{.RoleName}}')).not.toThrow();
  });
});
