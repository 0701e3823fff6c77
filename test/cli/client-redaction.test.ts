// Review 2: CLI error messages must not echo secrets sent as query parameters (`leasehold read PATH token=@file`).
import { ApiError, ConnectionError, VaultClient } from '../../src/cli/client';

const SECRET = 'hvs.wrappingTokenValue123';

describe('CLI errors do not echo query parameter values', () => {
  it('ApiError shows the query keys but not their values', async () => {
    const fake = (async () => new Response(JSON.stringify({ errors: ['wrapping token is not valid or does not exist'] }), { status: 400 })) as typeof fetch;
    const client = new VaultClient({ address: 'http://127.0.0.1:8200', token: 'root-token' }, fake);
    const error = await client.read('sys/wrapping/lookup', { token: SECRET }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as Error).message).not.toContain(SECRET);
    expect((error as Error).message).toContain('URL: GET http://127.0.0.1:8200/v1/sys/wrapping/lookup?token=<redacted>');
  });

  it('ConnectionError does not show query values either', async () => {
    const fake = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    const client = new VaultClient({ address: 'http://127.0.0.1:8200' }, fake);
    const error = await client.delete('auth/approle/role/r/secret-id/destroy', { secret_id: SECRET }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).not.toContain(SECRET);
  });
});
