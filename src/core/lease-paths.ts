// sys/leases/* (and the legacy sys/renew, sys/revoke paths node-vault still uses): lookup, list,
// renew, revoke, revoke-prefix, revoke-force, tidy, count, and the lease ledger.
import { z } from 'zod';
import { BadRequestError } from '../errors';
import type { ExpirationManager } from './expiration';
import { bool, durationSeconds, int, str } from './fields';
import type { BackendRequest, PathDefinition } from './framework';
import { requestActor } from './governance/events';

const leaseIdField = str(1024).optional().describe('The lease id, e.g. database/creds/readonly/AbC...');

function leaseIdOf(req: BackendRequest): string {
  const id = (req.fields.url_lease_id ?? req.fields.lease_id) as string | undefined;
  if (!id) throw new BadRequestError('missing lease ID');
  return id;
}

/** Lease management paths relative to sys/. */
export function leasePaths(expiration: ExpirationManager): PathDefinition[] {
  const renewFields = z.object({ lease_id: leaseIdField, url_lease_id: str(1024).optional(), increment: durationSeconds().optional() });
  const revokeFields = z.object({ lease_id: leaseIdField, url_lease_id: str(1024).optional(), sync: bool().optional() });
  const prefixFields = z.object({ prefix: str(1024), sync: bool().optional() });

  const renew = async (req: BackendRequest) => {
    const renewed = await expiration.renew(leaseIdOf(req), req.fields.increment as number | undefined, requestActor(req.identity));
    return { leaseInfo: renewed, data: undefined, warnings: [] as string[] };
  };
  // A queued (sync=false) revocation answers 202 Accepted, as Vault does.
  const accepted = (sync: boolean) => (sync ? undefined : { raw: { statusCode: 202, body: undefined } });
  const revoke = async (req: BackendRequest) => {
    const sync = (req.fields.sync as boolean | undefined) ?? true;
    await expiration.revoke(leaseIdOf(req), { sync, actor: requestActor(req.identity) });
    return accepted(sync);
  };
  const revokePrefix = async (req: BackendRequest) => {
    const sync = (req.fields.sync as boolean | undefined) ?? true;
    await expiration.revokePrefix(String(req.fields.prefix), { sync, actor: requestActor(req.identity) });
    return accepted(sync);
  };
  const revokeForce = async (req: BackendRequest) => {
    await expiration.revokeForce(String(req.fields.prefix), requestActor(req.identity));
    return undefined;
  };

  const renewPaths = (base: string): PathDefinition[] => [
    { pattern: base, description: 'Renew a lease by `increment` seconds from now, within its maximum.', fields: renewFields, operations: { update: renew } },
    { pattern: `${base}/(?<url_lease_id>.+)`, description: 'Renew the lease in the URL.', fields: renewFields, operations: { update: renew } },
  ];
  const revokePaths = (base: string): PathDefinition[] => [
    { pattern: base, description: 'Revoke a lease (sync by default).', fields: revokeFields, operations: { update: revoke } },
    { pattern: `${base}/(?<url_lease_id>.+)`, description: 'Revoke the lease in the URL.', fields: revokeFields, operations: { update: revoke } },
  ];
  const prefixPaths = (base: string, force: boolean): PathDefinition => ({
    pattern: `${base}/(?<prefix>.+)`,
    description: force ? 'Mark every lease under the prefix revoked, ignoring backend errors. Root-protected.' : 'Revoke every lease under the prefix. Root-protected.',
    sudo: true,
    fields: prefixFields,
    operations: { update: force ? revokeForce : revokePrefix },
  });

  return [
    {
      pattern: 'leases/lookup',
      description: 'Look up a lease.',
      fields: z.object({ lease_id: leaseIdField }),
      operations: { update: (req) => ({ data: { ...expiration.lookup(leaseIdOf(req)) } }) },
    },
    {
      pattern: 'leases/lookup/(?<prefix>.*)',
      description: 'List lease ids under a prefix. Root-protected.',
      sudo: true,
      fields: z.object({ prefix: str(1024) }),
      operations: {
        list: (req) => {
          const keys = expiration.listPrefix(String(req.fields.prefix));
          if (keys.length === 0) return { raw: { statusCode: 404, body: { errors: [] } } };
          return { data: { keys } };
        },
      },
    },
    ...renewPaths('leases/renew'),
    ...renewPaths('renew'),
    ...revokePaths('leases/revoke'),
    ...revokePaths('revoke'),
    prefixPaths('leases/revoke-prefix', false),
    prefixPaths('revoke-prefix', false),
    prefixPaths('leases/revoke-force', true),
    prefixPaths('revoke-force', true),
    {
      pattern: 'leases/tidy',
      description: 'Remove revoked leases older than the retention period from the ledger.',
      operations: {
        update: () => {
          expiration.tidy();
          return { raw: { statusCode: 202, body: undefined } };
        },
      },
    },
    {
      pattern: 'leases/count',
      description: 'Count leases (type=irrevocable for the ones revocation gave up on for now).',
      fields: z.object({ type: z.enum(['irrevocable', 'active', 'all']).optional(), include_child_namespaces: bool().optional() }),
      operations: {
        read: (req) => {
          const counts = expiration.count((req.fields.type as 'irrevocable' | 'active' | 'all' | undefined) ?? 'active');
          return { data: { lease_count: counts.total, counts: counts.byMount } };
        },
      },
    },
    {
      pattern: 'leases',
      description: 'List irrevocable (or pending) leases with their last error.',
      sudo: true,
      fields: z.object({ type: z.enum(['irrevocable', 'revoking']).optional(), limit: int(1, 10_000).optional(), include_child_namespaces: bool().optional() }),
      operations: {
        read: (req) => {
          const leases = expiration.listByState((req.fields.type as 'irrevocable' | 'revoking' | undefined) ?? 'irrevocable', (req.fields.limit as number | undefined) ?? 10_000);
          return { data: { leases, lease_count: leases.length } };
        },
      },
    },
    {
      pattern: 'leases/events',
      description: 'The lifecycle ledger of one lease: issued, renewed, revoked, expired, failed.',
      sudo: true,
      fields: z.object({ lease_id: leaseIdField }),
      operations: { update: (req) => ({ data: { events: expiration.events(leaseIdOf(req)) } }) },
    },
  ];
}
