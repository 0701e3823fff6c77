// An in-process engine that issues leased credentials and records every renew and revoke, with a
// switch to make revocation fail: the stand-in for a database in lease lifecycle tests.
import { z } from 'zod';
import { durationSeconds } from '../../src/core/fields';
import type { BackendFactory } from '../../src/core/framework';

/** What the engine saw, shared with the test. */
export interface LeaseEngineLog {
  issued: string[];
  revoked: string[];
  renewed: { username: string; ttlSeconds: number }[];
  failRevocations: boolean;
}

/** A factory plus its log. Mount it with type `leases` at e.g. `creds-test/`. */
export function leaseEngine(): { factory: BackendFactory; log: LeaseEngineLog } {
  const log: LeaseEngineLog = { issued: [], revoked: [], renewed: [], failRevocations: false };
  let counter = 0;
  const factory: BackendFactory = () => ({
    paths: [
      {
        pattern: 'creds/(?<role>[a-z0-9-]+)',
        description: 'Issue a leased credential.',
        fields: z.object({ role: z.string().max(64), ttl: durationSeconds().optional(), max_ttl: durationSeconds().optional() }),
        operations: {
          read: (req) => {
            const username = `u-${req.fields.role as string}-${++counter}`;
            log.issued.push(username);
            return {
              data: { username, password: `pw-${counter}` },
              secret: {
                type: 'cred',
                internalData: { username },
                ttlSeconds: (req.fields.ttl as number | undefined) ?? 60,
                maxTtlSeconds: (req.fields.max_ttl as number | undefined) ?? 3600,
                renewable: true,
              },
            };
          },
        },
      },
    ],
    secrets: {
      cred: {
        renew: ({ internalData, ttlSeconds }) => {
          log.renewed.push({ username: String(internalData.username), ttlSeconds });
        },
        revoke: ({ internalData }) => {
          if (log.failRevocations) throw new Error('backend unavailable: connection refused');
          log.revoked.push(String(internalData.username));
        },
      },
    },
  });
  return { factory, log };
}
