// The HTTP client: address/token precedence, the requests it sends, and errors that never show the token.
import { ApiError, ConnectionError, DEFAULT_ADDRESS, encodeApiPath, resolveConnection, VaultClient } from '../../src/cli/client';

describe('resolveConnection', () => {
  it('prefers --address, then LEASEHOLD_ADDR, then VAULT_ADDR, then the default', () => {
    const env = { LEASEHOLD_ADDR: 'http://leasehold:8200', VAULT_ADDR: 'http://vault:8200' };
    expect(resolveConnection('https://flag:8200/', env).address).toBe('https://flag:8200');
    expect(resolveConnection(undefined, env).address).toBe('http://leasehold:8200');
    expect(resolveConnection(undefined, { VAULT_ADDR: 'http://vault:8200' }).address).toBe('http://vault:8200');
    expect(resolveConnection(undefined, {}).address).toBe(DEFAULT_ADDRESS);
  });

  it('prefers LEASEHOLD_TOKEN over VAULT_TOKEN and treats empty variables as unset', () => {
    expect(resolveConnection(undefined, { LEASEHOLD_TOKEN: 'lh', VAULT_TOKEN: 'vt' }).token).toBe('lh');
    expect(resolveConnection(undefined, { LEASEHOLD_TOKEN: '', VAULT_TOKEN: 'vt' }).token).toBe('vt');
    expect(resolveConnection(undefined, { LEASEHOLD_ADDR: ' ', VAULT_ADDR: 'http://v:1' }).address).toBe('http://v:1');
    expect(resolveConnection(undefined, {})).toEqual({ address: DEFAULT_ADDRESS });
  });

  it('rejects an address that is not an http(s) URL', () => {
    expect(() => resolveConnection('127.0.0.1:8200', {})).toThrow(/invalid address/);
    expect(() => resolveConnection('ftp://x', {})).toThrow(/http or https/);
  });
});

interface Captured {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

function fakeFetch(status: number, body: unknown, calls: Captured[] = []): typeof fetch {
  return (async (input: URL | string, init?: RequestInit) => {
    calls.push({
      url: String(input),
      method: init?.method ?? 'GET',
      headers: (init?.headers ?? {}) as Record<string, string>,
      ...(typeof init?.body === 'string' ? { body: init.body } : {}),
    });
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    return new Response(status === 204 ? null : text, { status, headers: { 'Content-Type': 'application/json' } });
  }) as typeof fetch;
}

describe('VaultClient', () => {
  const settings = { address: 'http://127.0.0.1:8200', token: 'hvs.SECRET-TOKEN' };

  it('sends the token as X-Vault-Token and lists with GET ?list=true', async () => {
    const calls: Captured[] = [];
    const client = new VaultClient(settings, fakeFetch(200, { data: { keys: ['a', 'b/'] } }, calls));
    const response = await client.list('secret/metadata/app');
    expect(response?.data).toEqual({ keys: ['a', 'b/'] });
    expect(calls[0]).toMatchObject({ method: 'GET', url: 'http://127.0.0.1:8200/v1/secret/metadata/app/?list=true' });
    expect(calls[0]?.headers['X-Vault-Token']).toBe('hvs.SECRET-TOKEN');
  });

  it('sends JSON bodies, merge-patch for PATCH, and no token header without a token', async () => {
    const calls: Captured[] = [];
    const client = new VaultClient({ address: 'http://h:1' }, fakeFetch(204, undefined, calls));
    await expect(client.write('/secret/data/x', { data: { a: '1' } })).resolves.toBeUndefined();
    await client.patch('secret/data/x', { data: { a: null } });
    expect(calls[0]).toMatchObject({ method: 'PUT', url: 'http://h:1/v1/secret/data/x', body: '{"data":{"a":"1"}}' });
    expect(calls[0]?.headers['Content-Type']).toBe('application/json');
    expect(calls[0]?.headers['X-Vault-Token']).toBeUndefined();
    expect(calls[1]?.headers['Content-Type']).toBe('application/merge-patch+json');
  });

  it('encodes each path segment but keeps the slashes', () => {
    expect(encodeApiPath('secret/my app/a?b#c')).toBe('secret/my%20app/a%3Fb%23c');
  });

  it('answers undefined for a 404 read, but keeps a 404 body that carries data', async () => {
    await expect(new VaultClient(settings, fakeFetch(404, { errors: [] })).read('secret/x')).resolves.toBeUndefined();
    const deleted = { data: { data: null, metadata: { version: 2 } } };
    await expect(new VaultClient(settings, fakeFetch(404, deleted)).read('secret/data/x')).resolves.toEqual(deleted);
  });

  it("turns 4xx/5xx into ApiError with Vault's errors, redacting the token if a server echoes it", async () => {
    const client = new VaultClient(settings, fakeFetch(403, { errors: ['permission denied for hvs.SECRET-TOKEN'] }));
    const error = (await client.read('secret/x').catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.statusCode).toBe(403);
    expect(error.message).toContain('Code: 403. Errors:');
    expect(error.message).toContain('* permission denied for <redacted>');
    expect(error.message).not.toContain('SECRET-TOKEN');
    const sealed = (await new VaultClient(settings, fakeFetch(503, { errors: ['Vault is sealed'] })).write('secret/x', {}).catch((e: unknown) => e)) as ApiError;
    expect(sealed.errors).toEqual(['Vault is sealed']);
  });

  it('reports an unreachable server as ConnectionError without headers', async () => {
    const failing = (async () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: new Error('connect ECONNREFUSED 127.0.0.1:8200') });
    }) as typeof fetch;
    const error = (await new VaultClient(settings, failing).read('sys/seal-status').catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toBe('GET "http://127.0.0.1:8200/v1/sys/seal-status": connect ECONNREFUSED 127.0.0.1:8200');
  });
});
