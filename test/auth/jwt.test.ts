// The JWT auth method on real encrypted in-memory storage with a manual clock, against a local JWKS / OIDC issuer:
// a GitHub-Actions-shaped login, every refusal (algorithms, keys, aud, iss, times, globs), key sources and caching.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK, type JWTPayload, SignJWT } from 'jose';
import { jwtBackendFactory } from '../../src/auth/jwt';
import { globMatch } from '../../src/auth/jwt/claims';
import type { BackendResponse } from '../../src/core/framework';
import { mountForTest, rejection } from '../helpers/backend';
import { GITHUB_CI_METADATA, GITHUB_ISSUER, githubClaims } from './github-token';


interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
  pem: string;
}

async function signingKey(kid: string, alg = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, jwk, pem: await exportSPKI(publicKey) };
}

/** A local issuer: serves a JWKS, an OIDC discovery document, and some misbehaving endpoints; counts fetches. */
async function startIssuer() {
  const state = { keys: [] as JWK[], jwksFetches: 0, discoveryFetches: 0, discoveryIssuer: '' };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const json = (body: unknown) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    if (req.url === '/jwks') {
      state.jwksFetches += 1;
      json({ keys: state.keys });
    } else if (req.url === '/.well-known/openid-configuration') {
      state.discoveryFetches += 1;
      json({ issuer: state.discoveryIssuer || url, jwks_uri: `${url}/jwks`, id_token_signing_alg_values_supported: ['RS256'] });
    } else if (req.url === '/big') {
      // 2 MiB in chunks without a Content-Length: the reader must stop on its own.
      res.setHeader('content-type', 'application/json');
      const chunk = 'x'.repeat(64 * 1024);
      res.write('{"keys":[],"padding":"');
      for (let i = 0; i < 32; i += 1) res.write(chunk);
      res.end('"}');
    } else if (req.url === '/hang') {
      // Never answers: the fetch must time out.
    } else if (req.url === '/not-json') {
      res.end('<html>hello</html>');
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { url, state, close };
}

const CI_ROLE = {
  role_type: 'jwt',
  bound_audiences: ['https://github.com/acme'],
  bound_claims_type: 'glob',
  bound_claims: { sub: 'repo:acme/app:*', ref: 'refs/heads/main' },
  user_claim: 'sub',
  token_policies: ['deploy', 'Read-Only '],
  token_ttl: '10m',
  token_max_ttl: '1h',
};

let issuer: Awaited<ReturnType<typeof startIssuer>>;
let rsa: SigningKey;
let ec: SigningKey;

beforeAll(async () => {
  issuer = await startIssuer();
  rsa = await signingKey('rsa-1');
  ec = await signingKey('ec-1', 'ES256');
});

afterAll(async () => {
  await issuer.close();
});

beforeEach(() => {
  issuer.state.keys = [rsa.jwk, ec.jwk];
  issuer.state.jwksFetches = 0;
  issuer.state.discoveryFetches = 0;
  issuer.state.discoveryIssuer = '';
});

/** A mounted JWT method whose clock the tokens are issued against. */
async function setup(config: Record<string, unknown> = {}) {
  const mount = mountForTest(jwtBackendFactory, {}, 'auth/jwt/');
  const nowSeconds = () => Math.floor(mount.clock.nowMs() / 1000);
  await mount.call('write', 'config', { jwks_url: `${issuer.url}/jwks`, bound_issuer: GITHUB_ISSUER, ...config });
  await mount.call('write', 'role/ci', CI_ROLE);
  /** Signs `claims` with `key`, issued now and valid for five minutes unless the claims say otherwise. */
  const sign = (claims: JWTPayload, key: SigningKey = rsa, header: Record<string, unknown> = {}) =>
    new SignJWT({ iat: nowSeconds(), exp: nowSeconds() + 300, ...claims }).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey);
  const login = (jwt: string, role = 'ci') => mount.call('write', 'login', { role, jwt });
  const refusal = async (jwt: string, role = 'ci') => {
    const error = await rejection(login(jwt, role));
    expect(error.statusCode).toBe(400);
    expect(error.message).not.toContain(jwt);
    for (const part of jwt.split('.')) if (part.length > 8) expect(error.message).not.toContain(part);
    return error.message;
  };
  return { ...mount, nowSeconds, sign, login, refusal };
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('JWT login with a GitHub-Actions-shaped token', () => {
  it('logs in against a glob-bound sub and an exact ref and returns the CI claims as metadata', async () => {
    const { sign, login } = await setup();
    const response = (await login(await sign(githubClaims()))) as BackendResponse;
    expect(response.auth).toEqual({
      policies: ['deploy', 'read-only'],
      displayName: 'repo:acme/app:ref:refs/heads/main',
      metadata: { role: 'ci', ...GITHUB_CI_METADATA },
      ttlSeconds: 600,
      maxTtlSeconds: 3600,
      explicitMaxTtlSeconds: 0,
      periodSeconds: undefined,
      numUses: undefined,
      renewable: true,
      boundCidrs: undefined,
      internalData: { role: 'ci' },
      // The identity alias is the user_claim value; the mapped claims are the request context.
      alias: { name: 'repo:acme/app:ref:refs/heads/main' },
      roleName: 'ci',
      context: GITHUB_CI_METADATA,
    });
  });

  it('verifies an ES256 token when the config allows ES256', async () => {
    const { sign, login } = await setup({ jwt_supported_algs: ['RS256', 'ES256'] });
    const response = (await login(await sign(githubClaims(), ec))) as BackendResponse;
    expect(response.auth?.metadata.repository).toBe('acme/app');
    const rsaOnly = await setup();
    expect(await rsaOnly.refusal(await rsaOnly.sign(githubClaims(), ec))).toBe('error validating token: signing algorithm not allowed');
  });

  it('applies claim_mappings (names and JSON pointers) and uses the role named by default_role', async () => {
    const { call, sign } = await setup({ default_role: 'mapped' });
    await call('write', 'role/mapped', {
      bound_audiences: 'https://github.com/acme',
      bound_claims: { '/context/env': ['staging', 'production'] },
      claim_mappings: { event_name: 'event', '/context/env': 'environment', repository: 'repository' },
      user_claim: 'actor',
    });
    const jwt = await sign(githubClaims({ context: { env: 'production' } }));
    const response = (await call('write', 'login', { jwt })) as BackendResponse;
    expect(response.auth?.displayName).toBe('octocat');
    expect(response.auth?.metadata).toMatchObject({ role: 'mapped', event: 'push', environment: 'production', repository: 'acme/app' });
  });
});

describe('JWT login refusals', () => {
  it('refuses alg none', async () => {
    const { refusal, nowSeconds } = await setup();
    const unsigned = `${base64url({ alg: 'none', kid: 'rsa-1' })}.${base64url(githubClaims({ iat: nowSeconds(), exp: nowSeconds() + 300 }))}.`;
    expect(await refusal(unsigned)).toBe('error validating token: signing algorithm not allowed');
  });

  it('refuses HS256 signed with the RSA public key as the HMAC secret (algorithm confusion)', async () => {
    const { refusal, nowSeconds } = await setup({ jwt_supported_algs: ['RS256', 'ES256'] });
    const forged = await new SignJWT({ ...githubClaims(), iat: nowSeconds(), exp: nowSeconds() + 300 })
      .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
      .sign(new TextEncoder().encode(rsa.pem));
    expect(await refusal(forged)).toBe('error validating token: signing algorithm not allowed');
    // Also with PEM keys configured: the public key is never an HMAC secret.
    const pem = await setup({ jwks_url: '', jwt_validation_pubkeys: [rsa.pem] });
    expect(await pem.refusal(forged)).toBe('error validating token: signing algorithm not allowed');
  });

  it('refuses HS256 in jwt_supported_algs at config time', async () => {
    const { call } = await setup();
    const error = await rejection(call('write', 'config', { jwks_url: `${issuer.url}/jwks`, jwt_supported_algs: ['HS256'] }));
    expect(error.statusCode).toBe(400);
    expect(error.message).toContain('jwt_supported_algs');
  });

  it('refuses an unknown kid', async () => {
    const { refusal, sign } = await setup();
    const stranger = await signingKey('stranger');
    expect(await refusal(await sign(githubClaims(), stranger))).toBe('error validating token: no configured key matches the token');
  });

  it('refuses a token whose signature does not verify', async () => {
    const { refusal, sign } = await setup();
    const impostor = await signingKey('rsa-1');
    expect(await refusal(await sign(githubClaims(), impostor))).toBe('error validating token: signature verification failed');
    const valid = await sign(githubClaims());
    const [header, , signature] = valid.split('.');
    const tampered = `${header}.${base64url(githubClaims({ repository: 'acme/other' }))}.${signature}`;
    expect(await refusal(tampered)).toBe('error validating token: signature verification failed');
    expect(await refusal('not-a-jwt')).toBe('error validating token: malformed token');
  });

  it('refuses a wrong aud', async () => {
    const { refusal, sign } = await setup();
    expect(await refusal(await sign(githubClaims({ aud: 'https://github.com/evil' })))).toBe('error validating claims: aud claim does not match any bound audience');
  });

  it('refuses a missing aud when the role binds audiences', async () => {
    const { refusal, sign } = await setup();
    const claims = githubClaims();
    delete claims.aud;
    expect(await refusal(await sign(claims))).toBe('error validating claims: aud claim is missing but the role binds audiences');
  });

  it('refuses any aud when the role binds none', async () => {
    const { call, refusal, sign, login } = await setup();
    await call('write', 'role/subject-only', { bound_subject: 'repo:acme/app:ref:refs/heads/main' });
    expect(await refusal(await sign(githubClaims()), 'subject-only')).toBe('error validating claims: audience claim found in JWT but no audiences bound to the role');
    const claims = githubClaims();
    delete claims.aud;
    expect(((await login(await sign(claims), 'subject-only')) as BackendResponse).auth?.displayName).toBe('repo:acme/app:ref:refs/heads/main');
  });

  it('refuses a wrong iss', async () => {
    const { refusal, sign } = await setup();
    expect(await refusal(await sign(githubClaims({ iss: 'https://token.actions.githubusercontent.com.evil.example' })))).toBe(
      'error validating claims: iss claim does not match the bound issuer',
    );
  });

  it('refuses an expired token, allowing the 60s clock skew leeway', async () => {
    const { refusal, sign, login, nowSeconds } = await setup();
    expect(await refusal(await sign(githubClaims({ iat: nowSeconds() - 3600, exp: nowSeconds() - 3000 })))).toBe('error validating token: token is expired (exp)');
    expect(await refusal(await sign(githubClaims({ iat: nowSeconds() - 600, exp: nowSeconds() - 61 })))).toBe('error validating token: token is expired (exp)');
    expect(((await login(await sign(githubClaims({ iat: nowSeconds() - 600, exp: nowSeconds() - 59 })))) as BackendResponse).auth).toBeDefined();
  });

  it('refuses a token that is used again after the clock has moved past its exp', async () => {
    const { refusal, sign, login, clock } = await setup();
    const jwt = await sign(githubClaims());
    expect(((await login(jwt)) as BackendResponse).auth).toBeDefined();
    clock.advanceSeconds(300 + 61);
    expect(await refusal(jwt)).toBe('error validating token: token is expired (exp)');
  });

  it('refuses nbf in the future', async () => {
    const { refusal, sign, nowSeconds } = await setup();
    expect(await refusal(await sign(githubClaims({ iat: nowSeconds() - 10, nbf: nowSeconds() + 600, exp: nowSeconds() + 900 })))).toBe(
      'error validating token: token not valid yet (nbf)',
    );
  });

  it('refuses iat in the future and a token with no time claims; a token without exp lives expiration_leeway', async () => {
    const { refusal, login, nowSeconds, clock } = await setup();
    const signRaw = (claims: JWTPayload) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).sign(rsa.privateKey);
    expect(await refusal(await signRaw(githubClaims({ nbf: nowSeconds() - 10, iat: nowSeconds() + 600, exp: nowSeconds() + 900 })))).toBe(
      'error validating token: token issued in the future (iat)',
    );
    expect(await refusal(await signRaw(githubClaims()))).toBe('error validating token: no issue time, notbefore, or expiration time encoded in token');
    const iatOnly = await signRaw(githubClaims({ iat: nowSeconds() }));
    expect(((await login(iatOnly)) as BackendResponse).auth).toBeDefined();
    clock.advanceSeconds(150 + 60 + 1);
    expect(await refusal(iatOnly)).toBe('error validating token: token is expired (exp)');
  });

  it('a glob binding does not match another repository that shares the prefix', async () => {
    const { refusal, sign } = await setup();
    for (const sub of ['repo:acme/app-evil:ref:refs/heads/main', 'repo:acme/ap:ref:refs/heads/main', 'xrepo:acme/app:ref:refs/heads/main', 'repo:acme/app']) {
      expect(await refusal(await sign(githubClaims({ sub })))).toBe('error validating claims: claim "sub" does not match any associated bound claim values');
    }
  });

  it('refuses a ref that does not match exactly and a missing bound claim', async () => {
    const { refusal, sign } = await setup();
    expect(await refusal(await sign(githubClaims({ ref: 'refs/heads/main-evil' })))).toBe('error validating claims: claim "ref" does not match any associated bound claim values');
    const claims = githubClaims();
    delete claims.ref;
    expect(await refusal(await sign(claims))).toBe('error validating claims: claim "ref" is missing');
  });

  it('refuses a login from outside token_bound_cidrs with 403', async () => {
    const { call, sign, login } = await setup();
    await call('write', 'role/ci', { token_bound_cidrs: ['10.0.0.0/8'] });
    const error = await rejection(login(await sign(githubClaims())));
    expect(error.statusCode).toBe(403);
  });

  it('refuses missing role, unknown role, missing jwt and an oversized jwt', async () => {
    const { call } = await setup();
    expect((await rejection(call('write', 'login', { jwt: 'x' }))).message).toBe('missing role');
    expect((await rejection(call('write', 'login', { role: 'nope', jwt: 'x' }))).message).toBe('role "nope" could not be found');
    expect((await rejection(call('write', 'login', { role: 'ci' }))).message).toBe('missing token');
    expect((await rejection(call('write', 'login', { role: '../config', jwt: 'x' }))).message).toBe('role could not be found');
    const big = await rejection(call('write', 'login', { role: 'ci', jwt: 'a'.repeat(17 * 1024) }));
    expect(big.statusCode).toBe(400);
    expect(big.message).toContain('"jwt"');
  });
});

describe('glob matching', () => {
  it('treats only * as special and anchors both ends', () => {
    expect(globMatch('repo:acme/app:*', 'repo:acme/app:ref:refs/heads/main')).toBe(true);
    expect(globMatch('repo:acme/app:*', 'repo:acme/app-evil:ref:refs/heads/main')).toBe(false);
    expect(globMatch('repo:acme/*:ref:refs/heads/main', 'repo:acme/app:ref:refs/heads/main')).toBe(true);
    expect(globMatch('repo:acme/*:ref:refs/heads/main', 'repo:acme/app:ref:refs/heads/main2')).toBe(false);
    expect(globMatch('a.c', 'abc')).toBe(false);
    expect(globMatch('a+(b', 'a+(b')).toBe(true);
    expect(globMatch('ab*ba', 'aba')).toBe(false);
    expect(globMatch('*', '')).toBe(true);
    expect(globMatch('a*b*c', 'axxbyyc')).toBe(true);
    expect(globMatch('a*b*c', 'axxcyyb')).toBe(false);
  });
});

describe('config', () => {
  it('requires exactly one key source', async () => {
    const { call } = mountForTest(jwtBackendFactory, {}, 'auth/jwt/');
    const message = "exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set";
    const two = await rejection(call('write', 'config', { jwks_url: `${issuer.url}/jwks`, jwt_validation_pubkeys: [rsa.pem] }));
    expect(two.statusCode).toBe(400);
    expect(two.message).toBe(message);
    expect((await rejection(call('write', 'config', { jwks_url: `${issuer.url}/jwks`, oidc_discovery_url: issuer.url }))).message).toBe(message);
    expect((await rejection(call('write', 'config', { bound_issuer: GITHUB_ISSUER }))).message).toBe(message);
  });

  it('refuses non-http URLs, CA PEMs, private keys and garbage keys', async () => {
    const { call } = mountForTest(jwtBackendFactory, {}, 'auth/jwt/');
    for (const body of [
      { jwks_url: 'file:///etc/passwd' },
      { jwks_url: 'not a url' },
      { oidc_discovery_url: 'ftp://example.com' },
      { jwks_url: 'http://user:pass@127.0.0.1/jwks' },
      { jwks_url: `${issuer.url}/jwks`, jwks_ca_pem: '-----BEGIN CERTIFICATE-----' },
      { jwt_validation_pubkeys: ['-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----'] },
      { jwt_validation_pubkeys: ['hello'] },
      { jwks_url: `${issuer.url}/jwks`, default_role: '../x' },
    ]) {
      const error = await rejection(call('write', 'config', body));
      expect(error.statusCode).toBe(400);
      expect(error.message).not.toContain('pass');
    }
    expect(issuer.state.jwksFetches).toBe(0);
  });

  it('fetches a URL source when it is written and refuses one that does not answer properly', async () => {
    const { call } = mountForTest(jwtBackendFactory, {}, 'auth/jwt/');
    const cases: [string, string][] = [
      [`${issuer.url}/missing`, 'unexpected HTTP status 404'],
      [`${issuer.url}/big`, 'larger than 1048576 bytes'],
      [`${issuer.url}/not-json`, 'not valid JSON'],
    ];
    for (const [jwksUrl, reason] of cases) {
      const error = await rejection(call('write', 'config', { jwks_url: jwksUrl }));
      expect(error.statusCode).toBe(400);
      expect(error.message).toContain(reason);
    }
    await call('write', 'config', { jwks_url: `${issuer.url}/jwks` });
    expect(issuer.state.jwksFetches).toBe(1);
  });

  it('gives up on a key set URL that does not answer within the timeout', async () => {
    const { call } = mountForTest(jwtBackendFactory, {}, 'auth/jwt/');
    const started = Date.now();
    const error = await rejection(call('write', 'config', { jwks_url: `${issuer.url}/hang` }));
    expect(error.statusCode).toBe(400);
    expect(error.message).toContain('no answer within 5000 ms');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('reads back without the client secret and warns that the browser flow is not supported', async () => {
    const { call } = mountForTest(jwtBackendFactory, {}, 'auth/jwt/');
    const written = await call('write', 'config', { jwks_url: `${issuer.url}/jwks`, oidc_client_id: 'vault', oidc_client_secret: 'very-secret-value', default_role: 'CI' });
    expect(written?.warnings?.[0]).toContain('not supported');
    const read = (await call('read', 'config')) as BackendResponse;
    expect(read.data).toMatchObject({ jwks_url: `${issuer.url}/jwks`, oidc_client_id: 'vault', default_role: 'ci', jwt_supported_algs: [], bound_issuer: '' });
    expect(JSON.stringify(read)).not.toContain('very-secret-value');
    expect(read.data).not.toHaveProperty('oidc_client_secret');
  });
});

describe('key sources', () => {
  it('verifies with static PEM keys, trying each and ignoring kid', async () => {
    const other = await signingKey('other');
    const { sign, login, refusal } = await setup({ jwks_url: '', jwt_validation_pubkeys: [other.pem, rsa.pem] });
    expect(issuer.state.jwksFetches).toBe(0);
    expect(((await login(await sign(githubClaims(), rsa, { kid: 'anything' }))) as BackendResponse).auth?.metadata.actor).toBe('octocat');
    const stranger = await signingKey('stranger');
    expect(await refusal(await sign(githubClaims(), stranger))).toBe('error validating token: signature verification failed');
  });

  it('verifies through OIDC discovery and requires the discovered issuer', async () => {
    const { call, sign, login, refusal } = await setup();
    await call('write', 'config', { oidc_discovery_url: issuer.url });
    expect(issuer.state.discoveryFetches).toBe(1);
    const ok = (await login(await sign(githubClaims({ iss: issuer.url })))) as BackendResponse;
    expect(ok.auth?.metadata.iss).toBe(issuer.url);
    expect(await refusal(await sign(githubClaims()))).toBe('error validating claims: iss claim does not match the discovered issuer');
  });

  it('refuses a discovery document that names another issuer', async () => {
    const { call } = mountForTest(jwtBackendFactory, {}, 'auth/jwt/');
    issuer.state.discoveryIssuer = 'https://accounts.example.com';
    const error = await rejection(call('write', 'config', { oidc_discovery_url: issuer.url }));
    expect(error.statusCode).toBe(400);
    expect(error.message).toContain('does not match oidc_discovery_url');
  });

  it('caches the key set for five minutes and refetches once, after a cooldown, for an unknown kid', async () => {
    const { sign, login, refusal, clock } = await setup();
    expect(issuer.state.jwksFetches).toBe(1);
    await login(await sign(githubClaims()));
    await login(await sign(githubClaims()));
    expect(issuer.state.jwksFetches).toBe(1);

    // The issuer rotates in a new key. Straight after a fetch, an unknown kid is refused without a refetch storm.
    const rotated = await signingKey('rsa-2');
    issuer.state.keys = [rotated.jwk];
    expect(await refusal(await sign(githubClaims(), rotated))).toBe('error validating token: no configured key matches the token');
    expect(issuer.state.jwksFetches).toBe(1);

    clock.advanceSeconds(11);
    expect(((await login(await sign(githubClaims(), rotated))) as BackendResponse).auth).toBeDefined();
    expect(issuer.state.jwksFetches).toBe(2);
    // The old key is gone from the set now.
    expect(await refusal(await sign(githubClaims(), rsa))).toBe('error validating token: no configured key matches the token');
    expect(issuer.state.jwksFetches).toBe(2);

    clock.advanceSeconds(300);
    issuer.state.keys = [rsa.jwk, rotated.jwk];
    await login(await sign(githubClaims(), rsa));
    expect(issuer.state.jwksFetches).toBe(3);
  });
});

describe('roles', () => {
  it('refuses a jwt role that binds nothing', async () => {
    const { call } = await setup();
    const error = await rejection(call('write', 'role/open', { token_policies: ['admin'], user_claim: 'sub' }));
    expect(error.statusCode).toBe(400);
    expect(error.message).toContain('at least one bound constraint');
    expect(await rejection(call('read', 'role/open'))).toMatchObject({ statusCode: 404 });
  });

  it('refuses oidc roles, batch tokens, reserved metadata keys and a ttl above max ttl', async () => {
    const { call } = await setup();
    const bound = { bound_audiences: ['x'] };
    for (const body of [
      { ...bound, role_type: 'oidc' },
      { ...bound, token_type: 'batch' },
      { ...bound, claim_mappings: { email: 'role' } },
      { ...bound, claim_mappings: { email: 'repository' } },
      { ...bound, claim_mappings: { a: 'same', b: 'same' } },
      { ...bound, token_ttl: '2h', token_max_ttl: '1h' },
      { ...bound, token_bound_cidrs: ['not-a-cidr'] },
      { ...bound, bound_claims_type: 'regex' },
      { ...bound, policies: ['a'], token_policies: ['b'] },
    ]) {
      const error = await rejection(call('write', 'role/bad', body));
      expect(error.statusCode).toBe(400);
    }
  });

  it('reads, lists, updates in place and deletes roles; legacy token fields are accepted', async () => {
    const { call } = await setup();
    await call('write', 'role/Legacy', { bound_subject: 'abc', policies: 'a, b', ttl: 60, max_ttl: '2m', bound_cidrs: '127.0.0.1/32', verbose_oidc_logging: true });
    const read = (await call('read', 'role/legacy')) as BackendResponse;
    expect(read.data).toMatchObject({
      role_type: 'jwt',
      bound_subject: 'abc',
      user_claim: 'sub',
      bound_claims_type: 'string',
      token_policies: ['a', 'b'],
      policies: ['a', 'b'],
      token_ttl: 60,
      token_max_ttl: 120,
      token_bound_cidrs: ['127.0.0.1/32'],
      clock_skew_leeway: 0,
      expiration_leeway: 0,
      not_before_leeway: 0,
    });
    await call('write', 'role/legacy', { token_ttl: 30 });
    expect(((await call('read', 'role/legacy')) as BackendResponse).data).toMatchObject({ bound_subject: 'abc', token_ttl: 30, token_policies: ['a', 'b'] });
    expect(((await call('list', 'role/')) as BackendResponse).data).toEqual({ keys: ['ci', 'legacy'] });
    await call('delete', 'role/legacy');
    expect(((await call('list', 'role')) as BackendResponse).data).toEqual({ keys: ['ci'] });
  });
});
