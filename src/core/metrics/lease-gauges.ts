// The read-only queries behind the lease and ledger gauges of sys/metrics, run at scrape time only
// (never on a request path). Each names the index it walks, as the expiration manager's do, so a
// scrape of a vault with a million leases reads index entries rather than rows.
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from '../../storage/database';

export const LEASE_GAUGE_SQL = {
  /** Leases not yet revoked, by state: Vault's num_leases (all three) and num_irrevocable_leases. */
  byState: `SELECT state, COUNT(*) AS n FROM leases INDEXED BY leases_by_state
    WHERE state IN ('active', 'revoking', 'irrevocable') GROUP BY state`,
  /** Live leases (active and not past their expiry) by mount path. */
  liveByMount: `SELECT mount_path, COUNT(*) AS n FROM leases INDEXED BY leases_active_by_expiry
    WHERE state = 'active' AND expire_at > ? GROUP BY mount_path`,
  /** The earliest expiry of a lease past it that the sweep has not revoked yet. */
  oldestOverdue: `SELECT MIN(expire_at) AS since FROM leases INDEXED BY leases_active_by_expiry
    WHERE state = 'active' AND expire_at <= ?`,
  /**
   * When the oldest queued revocation became due: the earliest of its expiry, the time it was queued
   * (a first attempt's `next_attempt_at` is the queueing time) and its first recorded revocation event.
   */
  oldestQueued: `SELECT MIN(MIN(l.expire_at,
      CASE WHEN l.attempts = 0 THEN l.next_attempt_at ELSE l.expire_at END,
      COALESCE((SELECT MIN(e.at) FROM lease_events e WHERE e.lease_id = l.lease_id
        AND e.event IN ('revoke-requested', 'revocation-failed', 'irrevocable')), l.expire_at))) AS since
    FROM leases l INDEXED BY leases_pending_by_attempt WHERE l.state IN ('revoking', 'irrevocable')`,
  /** The ledger's last sequence number: where counting starts. */
  ledgerHead: 'SELECT MAX(seq) AS seq FROM ledger_events',
  /** Ledger events appended after a sequence number, by kind: a range of the primary key, so a scrape reads only what is new. */
  ledgerSince: 'SELECT event, COUNT(*) AS n, MAX(seq) AS last FROM ledger_events WHERE seq > ? GROUP BY event',
} as const;

/** What the lease gauges report at one scrape. */
export interface LeaseGauges {
  /** Leases not yet revoked (active, being revoked, or irrevocable). */
  notRevoked: number;
  irrevocable: number;
  liveByMount: Record<string, number>;
  /** Seconds since the oldest revocation still to do became due; 0 when none is. */
  oldestPendingRevocationAgeSeconds: number;
}

/** The scrape-time queries over the lease and ledger tables, prepared once. */
export class LeaseGaugeQueries {
  private readonly stmts: {
    byState: Statement<[], { state: string; n: number }>;
    liveByMount: Statement<[number], { mount_path: string; n: number }>;
    oldestOverdue: Statement<[number], { since: number | null }>;
    oldestQueued: Statement<[], { since: number | null }>;
    ledgerHead: Statement<[], { seq: number | null }>;
    ledgerSince: Statement<[number], { event: string; n: number; last: number }>;
  };
  /** Ledger events counted so far, and the last sequence number counted. */
  private readonly ledgerCounts: Record<string, number> = {};
  private ledgerSeq: number;

  constructor(db: SqliteDatabase) {
    this.stmts = {
      byState: db.prepare(LEASE_GAUGE_SQL.byState),
      liveByMount: db.prepare(LEASE_GAUGE_SQL.liveByMount),
      oldestOverdue: db.prepare(LEASE_GAUGE_SQL.oldestOverdue),
      oldestQueued: db.prepare(LEASE_GAUGE_SQL.oldestQueued),
      ledgerHead: db.prepare(LEASE_GAUGE_SQL.ledgerHead),
      ledgerSince: db.prepare(LEASE_GAUGE_SQL.ledgerSince),
    };
    // Counted from now on: a count of the whole ledger would read every event at each scrape.
    this.ledgerSeq = this.stmts.ledgerHead.get()?.seq ?? 0;
  }

  leases(nowMs: number): LeaseGauges {
    let notRevoked = 0;
    let irrevocable = 0;
    for (const row of this.stmts.byState.all()) {
      notRevoked += row.n;
      if (row.state === 'irrevocable') irrevocable = row.n;
    }
    const liveByMount: Record<string, number> = {};
    for (const row of this.stmts.liveByMount.all(nowMs)) liveByMount[row.mount_path] = row.n;
    const since = [this.stmts.oldestOverdue.get(nowMs)?.since, this.stmts.oldestQueued.get()?.since].filter((v): v is number => typeof v === 'number');
    const oldest = since.length > 0 ? Math.min(...since) : nowMs;
    return { notRevoked, irrevocable, liveByMount, oldestPendingRevocationAgeSeconds: Math.max(0, (nowMs - oldest) / 1000) };
  }

  /** Ledger events appended since the vault started, by kind (committed rows only, so a rolled-back event never counts). */
  ledgerEventsByKind(): Record<string, number> {
    // A restore can take the ledger back to an earlier sequence number: count on from there.
    const head = this.stmts.ledgerHead.get()?.seq ?? 0;
    if (head < this.ledgerSeq) this.ledgerSeq = head;
    for (const row of this.stmts.ledgerSince.all(this.ledgerSeq)) {
      this.ledgerCounts[row.event] = (this.ledgerCounts[row.event] ?? 0) + row.n;
      if (row.last > this.ledgerSeq) this.ledgerSeq = row.last;
    }
    return { ...this.ledgerCounts };
  }
}
