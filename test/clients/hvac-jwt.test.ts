// JWT login driven by the real Python client (Debian's python3-hvac): hvac's jwt auth API
// configures the method and role with its defaults (nulls for every unset option) and logs in.
import path from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { githubClaims, GITHUB_ISSUER } from '../auth/github-token';
import { runPython } from '../helpers/python';
import { listen, unsealedVault } from '../helpers/vault';

describe('python3-hvac: JWT auth', () => {
  it('configures the method and a role, and logs in with a signed token that gets an entity', async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    const claims = githubClaims();
    const jwt = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).setIssuedAt().setExpirationTime('5m').sign(pair.privateKey);
    const v = await unsealedVault();
    const server = await listen(v.app);
    try {
      const run = await runPython(path.join(__dirname, 'hvac', 'jwt.py'), {
        VAULT_ADDR: server.url,
        VAULT_TOKEN: v.rootToken,
        JWT_PUBLIC_PEM: await exportSPKI(pair.publicKey),
        JWT_ISSUER: GITHUB_ISSUER,
        JWT_AUDIENCE: String(claims.aud),
        JWT: jwt,
      });
      expect(run.code === 0 ? 'ok' : run.stderr).toBe('ok');
      expect(JSON.parse(run.stdout)).toEqual({ policies: ['default'], ttl: 600, display_name: expect.stringMatching(/^jwt-/) });
    } finally {
      await server.close();
    }
  }, 60_000);
});
