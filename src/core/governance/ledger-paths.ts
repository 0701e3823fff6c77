// sys/governance/ledger and sys/governance/ledger/verify: read and prove the governance ledger.
// Ordinary ACL'd sys paths (no sudo): a policy must grant `read` on them, as for any other path.
import { z } from 'zod';
import { BadRequestError } from '../../errors';
import { int, str } from '../fields';
import type { BackendRequest, PathDefinition } from '../framework';
import { LEDGER_MAX_PAGE, type Ledger } from './ledger';

/** RFC 3339 date-time with an explicit offset, e.g. 2026-01-02T03:04:05Z. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

const timeField = (label: string) =>
  str(64)
    .regex(RFC3339, `${label} must be an RFC 3339 time, e.g. 2026-01-02T03:04:05Z`)
    .optional()
    .describe(`Only events at or ${label === 'since' ? 'after' : 'before'} this RFC 3339 time.`);

const queryFields = z.object({
  entity_id: str(256).optional().describe('Only events of this holder entity.'),
  owner: str(256).optional().describe('Only events of this accountable owner.'),
  lease_id: str(1024).optional().describe('Only events of this lease.'),
  mount: str(256).optional().describe('Only events on this mount path, e.g. database/.'),
  event: str(64).optional().describe('Only events of this kind, e.g. lease.issued.'),
  since: timeField('since'),
  until: timeField('until'),
  after: str(128).optional().describe('The opaque cursor of the previous page (its data.next).'),
  limit: int(1, LEDGER_MAX_PAGE).optional().describe(`Events per page, at most ${LEDGER_MAX_PAGE} (default 100).`),
});

function timeMs(req: BackendRequest, field: 'since' | 'until'): number | undefined {
  const value = req.fields[field] as string | undefined;
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new BadRequestError(`${field} must be an RFC 3339 time`);
  return ms;
}

/** The ledger paths relative to sys/. */
export function ledgerPaths(ledger: Ledger): PathDefinition[] {
  return [
    {
      pattern: 'governance/ledger',
      description: 'Ledger events, oldest first, filtered by holder, owner, lease, mount, kind and time; `data.next` is the next page\'s cursor.',
      fields: queryFields,
      operations: {
        read: (req) => {
          const f = req.fields as Record<string, string | number | undefined>;
          const page = ledger.query({
            entityId: f.entity_id as string | undefined,
            owner: f.owner as string | undefined,
            leaseId: f.lease_id as string | undefined,
            mount: f.mount as string | undefined,
            event: f.event as string | undefined,
            sinceMs: timeMs(req, 'since'),
            untilMs: timeMs(req, 'until'),
            after: f.after as string | undefined,
            limit: f.limit as number | undefined,
          });
          return { data: { events: page.events, next: page.next } };
        },
      },
    },
    {
      pattern: 'governance/ledger/verify',
      description: 'Walk the ledger\'s HMAC chain from its anchor; `first_bad_seq` names the first event that does not verify.',
      operations: { read: async () => ({ data: { ...(await ledger.verify()) } }) },
    },
  ];
}
