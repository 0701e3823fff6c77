// A throwaway JWKS endpoint for JWT login tests: one RS256 key pair, its public key served at /jwks
// on 127.0.0.1 (anything else is a 404), and the private key to sign test tokens with.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair } from 'jose';

export interface JwksServer {
  /** The jwks_url to configure. */
  url: string;
  privateKey: CryptoKey;
  close: () => Promise<void>;
}

export async function startJwksServer(kid: string): Promise<JwksServer> {
  const pair = await generateKeyPair('RS256', { extractable: true });
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' }] });
  const server = createServer((req, res) => {
    if (req.url !== '/jwks') {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(jwks);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
    privateKey: pair.privateKey,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
