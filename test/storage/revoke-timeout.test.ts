// A backend revoke that never settles is cut off after revokeTimeoutMs and recorded as a failed
// attempt (retried later), whether it returns a native Promise or another thenable.
import type { BackendFactory } from '../../src/core/framework';
import { ManualClock } from '../../src/util/clock';
import { unsealedVault } from '../helpers/vault';

const NEVER_SETTLES: PromiseLike<void> = { then: () => NEVER_SETTLES as never };

function hangingEngine(kind: 'promise' | 'thenable'): BackendFactory {
  return () => ({
    paths: [],
    secrets: { hang: { revoke: () => (kind === 'promise' ? new Promise<void>(() => {}) : (NEVER_SETTLES as Promise<void>)) } },
  });
}

describe.each(['promise', 'thenable'] as const)('a revoke that returns a %s that never settles', (kind) => {
  it('times out and stays revoking with the error recorded, for the sweep to retry', async () => {
    const clock = new ManualClock(Date.now());
    const { vault, db } = await unsealedVault({ clock, registry: { hang: hangingEngine(kind) }, expiration: { revokeTimeoutMs: 50 } });
    try {
      vault.mounts.mount({ table: 'secret', path: 'hang/', type: 'hang', description: '', config: { defaultLeaseTtlSeconds: 0, maxLeaseTtlSeconds: 0, forceNoCache: false }, options: {}, local: false, sealWrap: false });
      const mountUuid = vault.mounts.get('hang/')?.entry.uuid as string;
      const { leaseId } = await vault.expiration.register({
        mountUuid,
        requestPath: 'creds/x',
        secret: { type: 'hang', internalData: {}, ttlSeconds: 1, maxTtlSeconds: 1, renewable: false },
        requester: {},
      });
      clock.advanceSeconds(2);
      expect(await vault.expiration.sweep()).toBe(1);
      expect(vault.expiration.state(leaseId)).toEqual({ state: 'revoking', attempts: 1, lastError: 'revocation timed out after 50 ms' });
    } finally {
      await vault.seal.seal();
      db.close();
    }
  });
});
