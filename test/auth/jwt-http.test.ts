// The JWT auth method through HTTP: mounting (jwt and its oidc alias), config and roles as an operator writes them,
// and the exact login request hashicorp/vault-action sends, down to the token's lookup-self metadata.
import { type CryptoKey, type JWTPayload, SignJWT } from 'jose';
import request from 'supertest';
import { ManualClock } from '../../src/util/clock';
import { type JwksServer, startJwksServer } from '../helpers/jwks';
import { unsealedVault } from '../helpers/vault';
import { GITHUB_CI_METADATA, GITHUB_ISSUER, githubClaims } from './github-token';

let jwksUrl: string;
let privateKey: CryptoKey;
let jwksServer: JwksServer;

beforeAll(async () => {
  jwksServer = await startJwksServer('gh-1');
  ({ url: jwksUrl, privateKey } = jwksServer);
});

afterAll(() => jwksServer.close());

/** A vault with the JWT method mounted at `auth/<path>/`, configured for GitHub Actions, and a `ci` role. */
async function setup(type = 'jwt', path = 'jwt') {
  const clock = new ManualClock();
  const v = await unsealedVault({ clock });
  const root = { 'X-Vault-Token': v.rootToken };
  const mounted = await request(v.app).post(`/v1/sys/auth/${path}`).set(root).send({ type });
  expect(mounted.status).toBe(204);
  const configured = await request(v.app).post(`/v1/auth/${path}/config`).set(root).send({ jwks_url: jwksUrl, bound_issuer: GITHUB_ISSUER });
  expect(configured.status).toBe(204);
  const role = await request(v.app)
    .post(`/v1/auth/${path}/role/ci`)
    .set(root)
    .send({
      role_type: 'jwt',
      user_claim: 'sub',
      bound_audiences: ['https://github.com/acme'],
      bound_claims_type: 'glob',
      bound_claims: { sub: 'repo:acme/app:*', ref: 'refs/heads/main' },
      token_policies: ['deploy'],
      token_ttl: '15m',
    });
  expect(role.status).toBe(204);
  const now = () => Math.floor(clock.nowMs() / 1000);
  const sign = (claims: JWTPayload, header: Record<string, unknown> = {}) =>
    new SignJWT({ iat: now(), nbf: now() - 5, exp: now() + 300, ...claims }).setProtectedHeader({ alg: 'RS256', kid: 'gh-1', typ: 'JWT', ...header }).sign(privateKey);
  return { ...v, clock, root, sign, now };
}

describe('JWT login over HTTP', () => {
  it('accepts the request hashicorp/vault-action sends and the token carries the CI run claims', async () => {
    const { app, sign } = await setup();
    const jwt = await sign(githubClaims());
    const res = await request(app).post('/v1/auth/jwt/login').set('Content-Type', 'application/json').send(JSON.stringify({ jwt, role: 'ci' }));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const auth = res.body.auth as Record<string, any>;
    expect(auth.client_token).toMatch(/^hvs\./);
    expect(auth.policies).toEqual(['deploy', 'default']);
    expect(auth.lease_duration).toBe(900);
    expect(auth.renewable).toBe(true);
    expect(auth.metadata).toMatchObject({ role: 'ci', repository: 'acme/app', run_id: '9876543210' });
    expect(JSON.stringify(res.body)).not.toContain(jwt);

    const self = await request(app).get('/v1/auth/token/lookup-self').set('X-Vault-Token', auth.client_token);
    expect(self.status).toBe(200);
    expect(self.body.data.display_name).toBe('jwt-repo:acme/app:ref:refs/heads/main');
    expect(self.body.data.path).toBe('auth/jwt/login');
    expect(self.body.data.meta).toEqual({ role: 'ci', ...GITHUB_CI_METADATA });
  });

  it('mounts as type oidc too (an alias for JWT login)', async () => {
    const { app, sign } = await setup('oidc', 'oidc');
    const res = await request(app).put('/v1/auth/oidc/login').send({ role: 'ci', jwt: await sign(githubClaims()) });
    expect(res.status).toBe(200);
    expect(res.body.auth.metadata.sha).toBe('2f1c0b1a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b');
  });

  it('answers refusals with 400 and a reason that does not echo the token', async () => {
    const { app, sign, now } = await setup();
    const cases: [string, string][] = [
      [await sign(githubClaims({ sub: 'repo:acme/app-evil:ref:refs/heads/main' })), 'error validating claims: claim "sub" does not match any associated bound claim values'],
      [await sign(githubClaims({ aud: 'sts.amazonaws.com' })), 'error validating claims: aud claim does not match any bound audience'],
      [await sign(githubClaims({ iss: 'https://evil.example' })), 'error validating claims: iss claim does not match the bound issuer'],
      [await sign(githubClaims({ iat: now() - 7200, nbf: now() - 7200, exp: now() - 3600 })), 'error validating token: token is expired (exp)'],
      [`${Buffer.from('{"alg":"none","kid":"gh-1"}').toString('base64url')}.${Buffer.from(JSON.stringify(githubClaims({ exp: now() + 300 }))).toString('base64url')}.`, 'error validating token: signing algorithm not allowed'],
    ];
    for (const [jwt, reason] of cases) {
      const res = await request(app).post('/v1/auth/jwt/login').send({ jwt, role: 'ci' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ errors: [reason] });
      expect(res.text).not.toContain(jwt);
    }
  });

  it('needs a token for config and roles, and never reads back the client secret', async () => {
    const { app, root } = await setup();
    expect((await request(app).get('/v1/auth/jwt/config')).status).toBe(403);
    expect((await request(app).post('/v1/auth/jwt/role/x').send({ bound_subject: 'x' })).status).toBe(403);
    const write = await request(app).post('/v1/auth/jwt/config').set(root).send({ jwks_url: jwksUrl, oidc_client_id: 'id', oidc_client_secret: 'shh-do-not-tell' });
    expect(write.status).toBe(200);
    expect(write.body.warnings.join(' ')).toContain('not supported');
    const read = await request(app).get('/v1/auth/jwt/config').set(root);
    expect(read.status).toBe(200);
    expect(read.body.data.jwks_url).toBe(jwksUrl);
    expect(read.text).not.toContain('shh-do-not-tell');
    const list = await request(app).get('/v1/auth/jwt/role?list=true').set(root);
    expect(list.body.data.keys).toEqual(['ci']);
  });

  it('refuses a role without any binding and a config with two key sources', async () => {
    const { app, root } = await setup();
    const role = await request(app).post('/v1/auth/jwt/role/open').set(root).send({ token_policies: ['admin'] });
    expect(role.status).toBe(400);
    expect(role.body.errors[0]).toContain('at least one bound constraint');
    const config = await request(app)
      .post('/v1/auth/jwt/config')
      .set(root)
      .send({ jwks_url: jwksUrl, oidc_discovery_url: 'https://token.actions.githubusercontent.com' });
    expect(config.status).toBe(400);
    expect(config.body.errors).toEqual(["exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set"]);
  });
});
