// Auth methods, the parts other files leave out: tuning an auth mount (and login tokens honouring it), the JWT
// groups_claim, the JWKS size limit, and the exact requests hvac (the Python client) sends for AppRole and JWT,
// replayed as raw HTTP on a real listener.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type CryptoKey, type JWTPayload, SignJWT } from 'jose';
import request from 'supertest';
import { MAX_DOCUMENT_BYTES } from '../../src/auth/jwt/bounded-fetch';
import { KEY_SET_TTL_MS } from '../../src/auth/jwt/key-source';
import { ManualClock } from '../../src/util/clock';
import { listen, unsealedVault } from '../helpers/vault';
import { GITHUB_ISSUER } from './github-token';

const AUDIENCE = 'https://github.com/acme';

// --- A JWKS endpoint whose answer each test can change ------------------------------------------------------------

type JwksMode = 'good' | 'padded-to-limit' | 'over-limit-declared' | 'over-limit-streamed';

let privateKey: CryptoKey;
let jwksText: string;
let jwksBase: string;
let jwksServer: Server;
let mode: JwksMode = 'good';
/** What the endless stream saw: bytes it wrote, and whether the client hung up. */
const stream = { written: 0, closed: false };

function serveJwks(res: ServerResponse): void {
  res.setHeader('content-type', 'application/json');
  switch (mode) {
    case 'good':
      res.end(jwksText);
      return;
    case 'padded-to-limit':
      // Valid JSON of exactly the limit: trailing whitespace is allowed after the value.
      res.end(jwksText + ' '.repeat(MAX_DOCUMENT_BYTES - Buffer.byteLength(jwksText)));
      return;
    case 'over-limit-declared':
      res.end(jwksText + ' '.repeat(MAX_DOCUMENT_BYTES + 1 - Buffer.byteLength(jwksText)));
      return;
    case 'over-limit-streamed': {
      // Chunked, no Content-Length, and it never ends by itself (capped at 64 MiB so a broken client cannot run away).
      stream.written = 0;
      stream.closed = false;
      res.on('close', () => {
        stream.closed = true;
      });
      res.write('{"keys":[], "padding": "');
      const chunk = 'x'.repeat(64 * 1024);
      const pump = () => {
        while (!res.destroyed && stream.written < 64 * 1024 * 1024) {
          stream.written += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        if (!res.destroyed) res.end('"}');
      };
      pump();
      return;
    }
  }
}

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  jwksText = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] });
  jwksServer = createServer((req, res) => {
    if (req.url === '/jwks') return serveJwks(res);
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', () => resolve()));
  jwksBase = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    jwksServer.close(() => resolve());
    jwksServer.closeAllConnections();
  });
});

beforeEach(() => {
  mode = 'good';
});

/** A vault with the JWT method at auth/jwt/, configured against the JWKS endpoint, and a signer on its clock. */
async function jwtVault() {
  const clock = new ManualClock();
  const v = await unsealedVault({ clock });
  const root = { 'X-Vault-Token': v.rootToken };
  expect((await request(v.app).post('/v1/sys/auth/jwt').set(root).send({ type: 'jwt' })).status).toBe(204);
  expect((await request(v.app).post('/v1/auth/jwt/config').set(root).send({ jwks_url: `${jwksBase}/jwks`, bound_issuer: GITHUB_ISSUER })).status).toBe(204);
  const now = () => Math.floor(clock.nowMs() / 1000);
  const sign = (claims: JWTPayload) =>
    new SignJWT({ iss: GITHUB_ISSUER, aud: AUDIENCE, sub: 'repo:acme/app:ref:refs/heads/main', iat: now(), nbf: now() - 5, exp: now() + 300, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT' })
      .sign(privateKey);
  const login = async (claims: JWTPayload, role = 'ci') => request(v.app).post('/v1/auth/jwt/login').send({ role, jwt: await sign(claims) });
  return { ...v, clock, root, sign, login };
}

// --- sys/auth/<path>/tune ------------------------------------------------------------------------------------------

describe('tuning an auth mount', () => {
  async function approleVault() {
    const clock = new ManualClock();
    const v = await unsealedVault({ clock });
    const root = { 'X-Vault-Token': v.rootToken };
    expect((await request(v.app).post('/v1/sys/auth/approle').set(root).send({ type: 'approle' })).status).toBe(204);
    const loginAs = async (role: string, body: Record<string, unknown>) => {
      expect((await request(v.app).post(`/v1/auth/approle/role/${role}`).set(root).send({ token_policies: 'app', ...body })).status).toBe(204);
      const roleId = (await request(v.app).get(`/v1/auth/approle/role/${role}/role-id`).set(root)).body.data.role_id;
      const secretId = (await request(v.app).post(`/v1/auth/approle/role/${role}/secret-id`).set(root).send({})).body.data.secret_id;
      const res = await request(v.app).post('/v1/auth/approle/login').send({ role_id: roleId, secret_id: secretId });
      expect(res.status).toBe(200);
      return res.body.auth as { client_token: string; lease_duration: number };
    };
    return { ...v, clock, root, loginAs };
  }

  it('reads the system defaults, writes TTLs and a description, and reads them back', async () => {
    const { app, root } = await approleVault();
    const before = await request(app).get('/v1/sys/auth/approle/tune').set(root);
    expect(before.status).toBe(200);
    expect(before.body.data).toEqual({ default_lease_ttl: 2764800, max_lease_ttl: 2764800, force_no_cache: false, description: '', options: null });
    // Vault also puts the tune fields at the top level.
    expect(before.body).toMatchObject({ default_lease_ttl: 2764800, max_lease_ttl: 2764800, description: '' });

    const tuned = await request(app).post('/v1/sys/auth/approle/tune').set(root).send({ default_lease_ttl: '10m', max_lease_ttl: 3600, description: 'CI machines' });
    expect(tuned.status).toBe(204);
    const after = await request(app).get('/v1/sys/auth/approle/tune').set(root);
    expect(after.body.data).toMatchObject({ default_lease_ttl: 600, max_lease_ttl: 3600, description: 'CI machines' });
    // The same mount seen through sys/mounts/auth/<path>/tune and in the sys/auth listing.
    expect((await request(app).get('/v1/sys/mounts/auth/approle/tune').set(root)).body.data).toMatchObject({ default_lease_ttl: 600, max_lease_ttl: 3600 });
    const listing = await request(app).get('/v1/sys/auth').set(root);
    expect(listing.body.data['approle/']).toMatchObject({ type: 'approle', description: 'CI machines', config: { default_lease_ttl: 600, max_lease_ttl: 3600 } });

    // A partial tune changes only what it names.
    expect((await request(app).post('/v1/sys/auth/approle/tune').set(root).send({ description: 'renamed' })).status).toBe(204);
    expect((await request(app).get('/v1/sys/auth/approle/tune').set(root)).body.data).toMatchObject({ default_lease_ttl: 600, max_lease_ttl: 3600, description: 'renamed' });

    // Unknown mounts and bad values are refused; a token without sudo on sys/auth cannot tune.
    expect((await request(app).get('/v1/sys/auth/nope/tune').set(root)).status).toBe(400);
    expect((await request(app).post('/v1/sys/auth/nope/tune').set(root).send({ description: 'x' })).status).toBe(400);
    expect((await request(app).post('/v1/sys/auth/approle/tune').set(root).send({ max_lease_ttl: 'forever' })).status).toBe(400);
    expect((await request(app).post('/v1/sys/auth/approle/tune').send({ description: 'x' })).status).toBe(403);
  });

  it("login tokens take the tuned default TTL and never outlive the tuned max, renewals included", async () => {
    const { app, root, clock, loginAs } = await approleVault();
    const untuned = await loginAs('plain', {});
    expect(untuned.lease_duration).toBe(2764800);

    await request(app).post('/v1/sys/auth/approle/tune').set(root).send({ default_lease_ttl: '10m', max_lease_ttl: '1h' }).expect(204);
    // No token_ttl on the role: the mount's default.
    expect((await loginAs('plain2', {})).lease_duration).toBe(600);
    // A role asking for more than the mount allows gets the mount's max.
    const greedy = await loginAs('greedy', { token_ttl: '2h', token_max_ttl: '4h' });
    expect(greedy.lease_duration).toBe(3600);
    // A role asking for less keeps its own.
    expect((await loginAs('modest', { token_ttl: '5m' })).lease_duration).toBe(300);

    // Renewing half way through cannot go past the hour from creation.
    clock.advanceSeconds(1800);
    const renewed = await request(app).post('/v1/auth/token/renew-self').set('X-Vault-Token', greedy.client_token).send({ increment: '2h' });
    expect(renewed.status).toBe(200);
    expect(renewed.body.auth.lease_duration).toBe(1800);
    const self = await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', greedy.client_token);
    expect(self.body.data.ttl).toBe(1800);
    clock.advanceSeconds(1801);
    expect((await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', greedy.client_token)).status).toBe(403);
  });
});

// --- JWT groups_claim ----------------------------------------------------------------------------------------------

describe('JWT groups_claim', () => {
  async function withGroupsRole(groupsClaim: string) {
    const v = await jwtVault();
    const role = await request(v.app)
      .post('/v1/auth/jwt/role/ci')
      .set(v.root)
      .send({ role_type: 'jwt', user_claim: 'sub', bound_audiences: [AUDIENCE], groups_claim: groupsClaim, token_policies: ['deploy'] });
    expect(role.status).toBe(204);
    expect((await request(v.app).get('/v1/auth/jwt/role/ci').set(v.root)).body.data.groups_claim).toBe(groupsClaim);
    return v;
  }

  it('accepts the claim as a list of strings, a single string or an empty list', async () => {
    const { login } = await withGroupsRole('groups');
    for (const groups of [['admins', 'devs'], 'admins', []]) {
      const res = await login({ groups });
      expect(res.status).toBe(200);
      expect(res.body.auth.policies).toEqual(['deploy', 'default']);
    }
  });

  it('refuses a token without the claim, or with a claim that is not strings', async () => {
    const { login } = await withGroupsRole('groups');
    const notFound = 'error validating claims: claim "groups" not found in token';
    const wrongType = 'error validating claims: claim "groups" could not be converted to string list';
    const cases: [unknown, string][] = [
      [undefined, notFound],
      [null, notFound],
      [42, wrongType],
      [true, wrongType],
      [[1, 2], wrongType],
      [['admins', 7], wrongType],
      [['admins', null], wrongType],
      [[['nested']], wrongType],
      [{ admins: true }, wrongType],
    ];
    for (const [groups, reason] of cases) {
      const res = await login(groups === undefined ? {} : { groups } as JWTPayload);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ errors: [reason] });
    }
  });

  it('reads a JSON-pointer groups claim inside a nested object', async () => {
    const { login } = await withGroupsRole('/org/teams');
    expect((await login({ org: { teams: ['platform'] } })).status).toBe(200);
    const wrong = await login({ org: { teams: { platform: 1 } } });
    expect(wrong.body).toEqual({ errors: ['error validating claims: claim "/org/teams" could not be converted to string list'] });
    const missing = await login({ org: {} });
    expect(missing.body).toEqual({ errors: ['error validating claims: claim "/org/teams" not found in token'] });
  });

  it('without groups_claim the groups are not looked at', async () => {
    const v = await jwtVault();
    await request(v.app).post('/v1/auth/jwt/role/ci').set(v.root).send({ user_claim: 'sub', bound_audiences: [AUDIENCE], token_policies: ['deploy'] }).expect(204);
    expect((await v.login({ groups: 42 })).status).toBe(200);
  });
});

// --- JWKS size limit -----------------------------------------------------------------------------------------------

describe('JWKS size limit', () => {
  const tooLarge = `response is larger than ${MAX_DOCUMENT_BYTES} bytes`;

  it(`accepts a key set of exactly ${MAX_DOCUMENT_BYTES} bytes`, async () => {
    const v = await jwtVault();
    mode = 'padded-to-limit';
    const res = await request(v.app).post('/v1/auth/jwt/config').set(v.root).send({ jwks_url: `${jwksBase}/jwks`, bound_issuer: GITHUB_ISSUER });
    expect(res.status).toBe(204);
  });

  it('refuses a config whose key set declares one byte too many, or streams without end, quickly and with a clear 400', async () => {
    const v = await jwtVault();
    for (const m of ['over-limit-declared', 'over-limit-streamed'] as const) {
      mode = m;
      const started = Date.now();
      const res = await request(v.app).post('/v1/auth/jwt/config').set(v.root).send({ jwks_url: `${jwksBase}/jwks`, bound_issuer: GITHUB_ISSUER });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ errors: [`error checking jwks_url: ${tooLarge}`] });
      expect(Date.now() - started).toBeLessThan(4_000);
    }
    // The endless stream was cut off just past the limit: the vault hung up rather than reading on.
    await new Promise((r) => setTimeout(r, 50));
    expect(stream.closed).toBe(true);
    expect(stream.written).toBeLessThan(8 * MAX_DOCUMENT_BYTES);
    // Nothing was saved: the earlier, good configuration still serves logins.
    mode = 'good';
    await request(v.app).post('/v1/auth/jwt/role/ci').set(v.root).send({ user_claim: 'sub', bound_audiences: [AUDIENCE], token_policies: ['deploy'] }).expect(204);
    expect((await v.login({})).status).toBe(200);
  });

  it('a login that must refetch an oversized key set fails with a 400, and recovers once the set is small again', async () => {
    const v = await jwtVault();
    await request(v.app).post('/v1/auth/jwt/role/ci').set(v.root).send({ user_claim: 'sub', bound_audiences: [AUDIENCE], token_policies: ['deploy'] }).expect(204);
    expect((await v.login({})).status).toBe(200);
    for (const m of ['over-limit-declared', 'over-limit-streamed'] as const) {
      mode = m;
      // The cached set expires; the next login fetches again.
      v.clock.advanceSeconds(KEY_SET_TTL_MS / 1000 + 1);
      const started = Date.now();
      const res = await v.login({});
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ errors: [`error validating token: could not load verification keys: ${tooLarge}`] });
      expect(Date.now() - started).toBeLessThan(4_000);
    }
    // The failure is not cached.
    mode = 'good';
    expect((await v.login({})).status).toBe(200);
  });
});

// --- hvac, replayed ------------------------------------------------------------------------------------------------

/** Sends what hvac's requests-based adapter sends: JSON bodies, X-Vault-Request and the client's token. */
function hvacClient(baseUrl: string, token?: string) {
  const call = async (method: 'GET' | 'POST' | 'LIST' | 'DELETE', path: string, body?: Record<string, unknown>, as = token) => {
    const headers: Record<string, string> = { 'X-Vault-Request': 'true', 'User-Agent': 'python-requests/2.32.3', Accept: '*/*' };
    if (as) headers['X-Vault-Token'] = as;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as Record<string, any>) };
  };
  return { call };
}

describe('hvac requests, replayed over HTTP', () => {
  let closeListener: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await closeListener?.();
    closeListener = undefined;
  });

  it('AppRole: enable, create_or_update_approle, read_role_id, generate_secret_id, login, lookup, list and destroy', async () => {
    const clock = new ManualClock();
    const v = await unsealedVault({ clock });
    const server = await listen(v.app);
    closeListener = server.close;
    const hvac = hvacClient(server.url, v.rootToken);

    // client.sys.enable_auth_method('approle')
    expect((await hvac.call('POST', '/v1/sys/auth/approle', { type: 'approle', local: false })).status).toBe(204);
    // client.sys.tune_auth_method('approle', default_lease_ttl=1800, max_lease_ttl=7200, description='...')
    expect((await hvac.call('POST', '/v1/sys/auth/approle/tune', { default_lease_ttl: 1800, max_lease_ttl: 7200, description: 'hvac' })).status).toBe(204);
    expect((await hvac.call('GET', '/v1/sys/auth/approle/tune')).body?.data).toMatchObject({ default_lease_ttl: 1800, max_lease_ttl: 7200, description: 'hvac' });

    // create_or_update_approle('web', token_policies=['app-reader', 'audit'], secret_id_bound_cidrs=[...], ...): lists go comma-joined.
    const created = await hvac.call('POST', '/v1/auth/approle/role/web', {
      secret_id_bound_cidrs: '127.0.0.0/8,::1/128',
      token_policies: 'app-reader,audit',
      bind_secret_id: true,
      secret_id_num_uses: 5,
      secret_id_ttl: '10m',
      token_ttl: '1h',
      token_max_ttl: '4h',
    });
    expect(created.status).toBe(204);
    // read_role / list_roles
    const role = await hvac.call('GET', '/v1/auth/approle/role/web');
    expect(role.body?.data).toMatchObject({
      token_policies: ['app-reader', 'audit'],
      secret_id_bound_cidrs: ['127.0.0.0/8', '::1/128'],
      secret_id_num_uses: 5,
      secret_id_ttl: 600,
      token_ttl: 3600,
      token_max_ttl: 14400,
    });
    expect((await hvac.call('LIST', '/v1/auth/approle/role')).body?.data.keys).toEqual(['web']);

    // read_role_id
    const roleId = await hvac.call('GET', '/v1/auth/approle/role/web/role-id');
    expect(roleId.status).toBe(200);
    const role_id = roleId.body?.data.role_id as string;
    expect(role_id).toMatch(/^[0-9a-f-]{36}$/);

    // generate_secret_id('web', metadata={'team': 'payments', 'env': 'prod'}, cidr_list=['127.0.0.1/32']): metadata is json.dumps'd.
    const generated = await hvac.call('POST', '/v1/auth/approle/role/web/secret-id', { metadata: '{"team": "payments", "env": "prod"}', cidr_list: '127.0.0.1/32' });
    expect(generated.status).toBe(200);
    expect(generated.body?.data).toMatchObject({ secret_id_ttl: 600, secret_id_num_uses: 5 });
    const secret_id = generated.body?.data.secret_id as string;
    const accessor = generated.body?.data.secret_id_accessor as string;

    // login(role_id, secret_id), sent with the client's current (root) token as hvac does: the new token is still only the role's.
    const login = await hvac.call('POST', '/v1/auth/approle/login', { role_id, secret_id });
    expect(login.status).toBe(200);
    const auth = login.body?.auth as Record<string, any>;
    expect(auth.policies).toEqual(['app-reader', 'audit', 'default']);
    expect(auth.token_policies).toEqual(['app-reader', 'audit', 'default']);
    expect(auth.metadata).toEqual({ team: 'payments', env: 'prod', role_name: 'web' });
    // The role asks for 1h, the tuned mount allows 2h at most.
    expect(auth.lease_duration).toBe(3600);
    expect(JSON.stringify(login.body)).not.toContain(secret_id);
    const self = await hvac.call('GET', '/v1/auth/token/lookup-self', undefined, auth.client_token);
    expect(self.body?.data).toMatchObject({ path: 'auth/approle/login', meta: { team: 'payments', env: 'prod', role_name: 'web' }, orphan: true });

    // read_secret_id, list_secret_id_accessors, read_secret_id_accessor
    const lookup = await hvac.call('POST', '/v1/auth/approle/role/web/secret-id/lookup', { secret_id });
    expect(lookup.body?.data).toMatchObject({ metadata: { team: 'payments', env: 'prod' }, cidr_list: ['127.0.0.1/32'], secret_id_num_uses: 4, secret_id_accessor: accessor });
    expect((await hvac.call('LIST', '/v1/auth/approle/role/web/secret-id')).body?.data.keys).toEqual([accessor]);
    expect((await hvac.call('POST', '/v1/auth/approle/role/web/secret-id-accessor/lookup', { secret_id_accessor: accessor })).body?.data.metadata).toEqual({ team: 'payments', env: 'prod' });

    // hvac refuses non-dict metadata itself; a string that is not a JSON object of strings is refused here.
    const badMetadata = await hvac.call('POST', '/v1/auth/approle/role/web/secret-id', { metadata: JSON.stringify({ n: 1 }) });
    expect(badMetadata.status).toBe(400);
    expect(badMetadata.body?.errors[0]).toMatch(/^failed to parse metadata/);

    // destroy_secret_id: the secret ID no longer logs in.
    expect((await hvac.call('POST', '/v1/auth/approle/role/web/secret-id/destroy', { secret_id })).status).toBe(204);
    const again = await hvac.call('POST', '/v1/auth/approle/login', { role_id, secret_id });
    expect(again).toEqual({ status: 400, body: { errors: ['invalid role or secret ID'] } });

    // delete_role
    expect((await hvac.call('DELETE', '/v1/auth/approle/role/web')).status).toBe(204);
    expect((await hvac.call('GET', '/v1/auth/approle/role/web')).status).toBe(404);
  });

  it('JWT: enable, configure(jwks_url, bound_issuer), create_role, jwt_login, read_config and list_roles', async () => {
    const clock = new ManualClock();
    const v = await unsealedVault({ clock });
    const server = await listen(v.app);
    closeListener = server.close;
    const hvac = hvacClient(server.url, v.rootToken);

    expect((await hvac.call('POST', '/v1/sys/auth/jwt', { type: 'jwt', local: false })).status).toBe(204);
    // client.auth.jwt.configure(jwks_url=..., bound_issuer=...)
    expect((await hvac.call('POST', '/v1/auth/jwt/config', { jwks_url: `${jwksBase}/jwks`, bound_issuer: GITHUB_ISSUER })).status).toBe(204);
    // read_config
    expect((await hvac.call('GET', '/v1/auth/jwt/config')).body?.data).toMatchObject({ jwks_url: `${jwksBase}/jwks`, bound_issuer: GITHUB_ISSUER, oidc_discovery_url: '' });

    // client.auth.jwt.create_role(name='ci', user_claim='sub', allowed_redirect_uris=[...], bound_audiences=[...], bound_claims={...},
    // groups_claim='groups', token_policies=['deploy'], token_ttl='15m'): hvac sends its defaults too, and `name` in the body.
    const created = await hvac.call('POST', '/v1/auth/jwt/role/ci', {
      name: 'ci',
      role_type: 'jwt',
      bound_audiences: [AUDIENCE],
      user_claim: 'sub',
      bound_claims: { repository: 'acme/app' },
      groups_claim: 'groups',
      allowed_redirect_uris: ['https://localhost:8200/jwt-test/callback'],
      bound_claims_type: 'string',
      verbose_oidc_logging: false,
      token_ttl: '15m',
      token_policies: ['deploy'],
      user_claim_json_pointer: false,
    });
    // Accepted; allowed_redirect_uris (OIDC browser flow only) is ignored with a warning, as Vault does for unknown fields.
    expect(created.status).toBe(200);
    expect(created.body?.warnings).toEqual(['Endpoint ignored these unrecognized parameters: [allowed_redirect_uris]']);
    const role = await hvac.call('GET', '/v1/auth/jwt/role/ci');
    expect(role.body?.data).toMatchObject({ role_type: 'jwt', bound_audiences: [AUDIENCE], user_claim: 'sub', bound_claims: { repository: 'acme/app' }, groups_claim: 'groups', token_ttl: 900, token_policies: ['deploy'] });
    expect((await hvac.call('LIST', '/v1/auth/jwt/role')).body?.data.keys).toEqual(['ci']);

    // client.auth.jwt.jwt_login(role='ci', jwt=...)
    const now = Math.floor(clock.nowMs() / 1000);
    const jwt = await new SignJWT({ iss: GITHUB_ISSUER, aud: AUDIENCE, sub: 'repo:acme/app:ref:refs/heads/main', repository: 'acme/app', groups: ['deployers'], iat: now, nbf: now - 5, exp: now + 300 })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT' })
      .sign(privateKey);
    const login = await hvac.call('POST', '/v1/auth/jwt/login', { role: 'ci', jwt });
    expect(login.status).toBe(200);
    const auth = login.body?.auth as Record<string, any>;
    expect(auth).toMatchObject({ policies: ['deploy', 'default'], lease_duration: 900, renewable: true, metadata: { role: 'ci', repository: 'acme/app' } });
    expect(JSON.stringify(login.body)).not.toContain(jwt);
    const self = await hvac.call('GET', '/v1/auth/token/lookup-self', undefined, auth.client_token);
    expect(self.body?.data).toMatchObject({ path: 'auth/jwt/login', display_name: 'jwt-repo:acme/app:ref:refs/heads/main' });

    // A token for another repository, through the same client, is refused with hvac's InvalidRequest (400).
    const other = await new SignJWT({ iss: GITHUB_ISSUER, aud: AUDIENCE, sub: 'repo:acme/other:ref:refs/heads/main', repository: 'acme/other', groups: [], iat: now, nbf: now - 5, exp: now + 300 })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT' })
      .sign(privateKey);
    const refused = await hvac.call('POST', '/v1/auth/jwt/login', { role: 'ci', jwt: other });
    expect(refused).toEqual({ status: 400, body: { errors: ['error validating claims: claim "repository" does not match any associated bound claim values'] } });
  });
});
