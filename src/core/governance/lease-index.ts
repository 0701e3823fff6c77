// sys/governance/leases and sys/governance/summary: the lease table as an operator reads it —
// filtered by mount, owner, holder and state, sorted by expiry, paged by cursor — and the counts
// an overview shows. Read from the lease and token rows' plain columns: no payload is decrypted,
// so nothing secret can leave through these paths.
import { z } from 'zod';
import { BadRequestError } from '../../errors';
import type { SqliteDatabase } from '../../storage/database';
import { int, str } from '../fields';
import type { BackendRequest, PathDefinition } from '../framework';

export const LEASE_PAGE_MAX = 1000;

const rfc3339 = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

interface Row {
  lease_id: string;
  mount_path: string;
  request_path: string;
  token_accessor: string | null;
  entity_id: string | null;
  owner: string | null;
  issued_at: number;
  expire_at: number;
  renewable: number;
  state: string;
  attempts: number;
  last_error: string | null;
}

/** The opaque cursor of a page: where the next one starts in (expire_at, lease_id) order. */
function encodeCursor(row: Row): string {
  return Buffer.from(JSON.stringify([row.expire_at, row.lease_id])).toString('base64url');
}

function decodeCursor(cursor: string): [number, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string') return [value[0], value[1]];
  } catch {
    // fall through
  }
  throw new BadRequestError('after is not a cursor this server returned');
}

const STATES = ['active', 'revoking', 'irrevocable', 'revoked'] as const;

const leaseQuery = z.object({
  mount: str(256).optional().describe('Only leases of this mount path, e.g. database/.'),
  owner: str(256).optional().describe('Only leases of this accountable owner.'),
  entity_id: str(256).optional().describe('Only leases held by this entity.'),
  state: z.enum(STATES).optional().describe('Only leases in this state (default: every state but revoked).'),
  expire_before: int(0).optional().describe('Only leases expiring before this Unix time (seconds).'),
  after: str(256).optional().describe("The previous page's data.next."),
  limit: int(1, LEASE_PAGE_MAX).optional().describe(`Leases per page, at most ${LEASE_PAGE_MAX} (default 100).`),
});
type LeaseQuery = z.infer<typeof leaseQuery>;

/** Reads of the lease and token tables for operators and the console. */
export class LeaseIndex {
  constructor(private readonly deps: { db: SqliteDatabase; nowMs: () => number }) {}

  /** One page of leases in expiry order, and the cursor of the next page (null at the end). */
  page(q: LeaseQuery): { leases: Record<string, unknown>[]; next: string | null } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.state !== undefined) {
      where.push('state = ?');
      args.push(q.state);
    } else where.push("state != 'revoked'");
    if (q.mount !== undefined) {
      where.push('mount_path = ?');
      args.push(q.mount.endsWith('/') ? q.mount : `${q.mount}/`);
    }
    if (q.owner !== undefined) {
      where.push('owner = ?');
      args.push(q.owner);
    }
    if (q.entity_id !== undefined) {
      where.push('entity_id = ?');
      args.push(q.entity_id);
    }
    if (q.expire_before !== undefined) {
      where.push('expire_at < ?');
      args.push(q.expire_before * 1000);
    }
    if (q.after !== undefined) {
      const [expireAt, leaseId] = decodeCursor(q.after);
      where.push('(expire_at > ? OR (expire_at = ? AND lease_id > ?))');
      args.push(expireAt, expireAt, leaseId);
    }
    const limit = q.limit ?? 100;
    const rows = this.deps.db
      .prepare(
        `SELECT lease_id, mount_path, request_path, token_accessor, entity_id, owner, issued_at, expire_at, renewable, state, attempts, last_error
         FROM leases WHERE ${where.join(' AND ')} ORDER BY expire_at, lease_id LIMIT ?`,
      )
      .all(...args, limit + 1) as Row[];
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    const now = this.deps.nowMs();
    return {
      leases: page.map((r) => ({
        lease_id: r.lease_id,
        mount: r.mount_path,
        path: r.request_path,
        state: r.state,
        entity_id: r.entity_id,
        owner: r.owner,
        token_accessor: r.token_accessor,
        issue_time: rfc3339(r.issued_at),
        expire_time: rfc3339(r.expire_at),
        ttl: Math.max(0, Math.floor((r.expire_at - now) / 1000)),
        renewable: r.renewable === 1,
        attempts: r.attempts,
        last_error: r.last_error,
      })),
      next: more ? encodeCursor(page[page.length - 1] as Row) : null,
    };
  }

  /** The counts an overview shows: live leases and tokens, what expires within the hour, what revocation has not finished. */
  summary(): Record<string, number> {
    const now = this.deps.nowMs();
    const lease = this.deps.db
      .prepare(
        `SELECT
           SUM(state = 'active') AS active,
           SUM(state = 'active' AND expire_at < ?) AS expiring_hour,
           SUM(state = 'revoking') AS revoking,
           SUM(state = 'irrevocable') AS irrevocable
         FROM leases WHERE state != 'revoked'`,
      )
      .get(now + 3600_000) as Record<string, number | null>;
    const tokens = this.deps.db.prepare('SELECT COUNT(*) AS n FROM tokens WHERE expire_at IS NULL OR expire_at > ?').get(now) as { n: number };
    return {
      live_leases: lease.active ?? 0,
      leases_expiring_within_hour: lease.expiring_hour ?? 0,
      revocations_pending: lease.revoking ?? 0,
      revocations_irrevocable: lease.irrevocable ?? 0,
      live_tokens: tokens.n,
    };
  }
}

/** The paths relative to sys/; ordinary ACL'd paths (a policy grants `read` on them). */
export function leaseIndexPaths(index: () => LeaseIndex): PathDefinition[] {
  return [
    {
      pattern: 'governance/leases',
      description: 'Leases in expiry order, filtered by mount, owner, holder, state and expiry; `data.next` is the next page\'s cursor. No secret data.',
      fields: leaseQuery,
      operations: { read: (req: BackendRequest<LeaseQuery>) => ({ data: index().page(req.fields) }) },
    },
    {
      pattern: 'governance/summary',
      description: 'Counts of live leases and tokens, leases expiring within the hour, and revocations pending or irrevocable.',
      operations: { read: () => ({ data: index().summary() }) },
    },
  ];
}
