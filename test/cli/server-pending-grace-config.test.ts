// The grace before an unfinished credential issuance is revoked is an operator setting (issue 15 item 14).
import { parseServerConfig, resolveServerOptions } from '../../src/cli/commands/server';

describe('server config: pending lease grace', () => {
  it('passes pending_lease_grace_ms through to the server options', () => {
    const config = parseServerConfig(JSON.stringify({ data_dir: '/tmp/x', pending_lease_grace_ms: 45_000 }), 'c.json');
    expect(resolveServerOptions({}, config)).toMatchObject({ pendingLeaseGraceMs: 45_000 });
  });

  it('refuses a grace too short for any creation statement, naming the field', () => {
    expect(() => parseServerConfig(JSON.stringify({ data_dir: '/tmp/x', pending_lease_grace_ms: 10 }), 'c.json')).toThrow(/pending_lease_grace_ms/);
  });
});
