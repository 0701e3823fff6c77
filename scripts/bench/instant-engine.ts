// A secrets engine whose revoke does nothing and returns at once: lets the sweep scenario measure the lease machinery alone.
import type { BackendFactory } from '../../src/core/framework';

/** The secret type leases of this engine carry. */
export const INSTANT_SECRET_TYPE = 'instant';

/** Mount with type `instant`. It declares no paths: the bench registers its leases in-process. */
export const instantRevokeEngine: BackendFactory = () => ({
  paths: [],
  secrets: {
    [INSTANT_SECRET_TYPE]: {
      revoke: () => {},
    },
  },
});
