// The operator sets revocation retries in the server config (issue 15 item 15).
import { parseServerConfig, resolveServerOptions } from '../../src/cli/commands/server';

describe('server config: revocation retries', () => {
  it('passes attempts, base backoff and cap through to the server options', () => {
    const config = parseServerConfig(JSON.stringify({ data_dir: '/tmp/x', revoke_max_attempts: 10, revoke_backoff_base_ms: 500, revoke_backoff_max_ms: 30_000 }), 'c.json');
    expect(resolveServerOptions({}, config)).toMatchObject({ revokeMaxAttempts: 10, revokeBackoffBaseMs: 500, revokeBackoffMaxMs: 30_000 });
  });

  it('refuses nonsense values, naming the field', () => {
    expect(() => parseServerConfig(JSON.stringify({ revoke_max_attempts: 0 }), 'c.json')).toThrow(/revoke_max_attempts/);
    expect(() => parseServerConfig(JSON.stringify({ revoke_backoff_max_ms: 'soon' }), 'c.json')).toThrow(/revoke_backoff_max_ms/);
  });
});
