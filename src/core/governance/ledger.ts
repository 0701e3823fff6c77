// The governance ledger: an append-only, tamper-evident chain of lifecycle events. Each event's
// `hash` is HMAC-SHA256(ledger key, previous hash ‖ canonical form); the key is an HKDF sub-key of
// the barrier's keyring, so nobody holding only the database file can forge a consistent chain.
// Lifecycle events (tokens, leases) are written synchronously, inside the caller's transaction when
// there is one; `secret.released` (on the KV read path) is buffered and flushed in batches.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { BadRequestError } from '../../errors';
import type { Logger } from '../../logger';
import type { SqliteDatabase } from '../../storage/database';
import type { Clock } from '../../util/clock';
import type { Barrier } from '../barrier';

/** The HKDF purpose of the ledger's HMAC key (zeroed with every sub-key on seal). */
export const LEDGER_HMAC_PURPOSE = 'ledger-hmac-v1';

/** Default retention of ledger events: 90 days. */
export const DEFAULT_LEDGER_RETENTION_SECONDS = 90 * 24 * 3600;

/** Page size cap of `query`, and the batch of rows `verify` reads at a time. */
export const LEDGER_MAX_PAGE = 1000;
const VERIFY_BATCH = 1000;
/** Buffered releases beyond this are flushed at once, so memory stays bounded under a read storm. */
const MAX_BUFFERED = 10_000;
/** How long a buffered release waits before its batch is written (lost on a crash inside this window; never on seal). */
const FLUSH_DELAY_MS = 50;

/** The event kinds the ledger records. */
export type LedgerEventKind =
  | 'token.created'
  | 'token.revoked'
  | 'token.expired'
  | 'lease.issued'
  | 'lease.renewed'
  | 'lease.revoked'
  | 'lease.expired'
  | 'lease.revoke_failed'
  | 'lease.irrevocable'
  | 'secret.released'
  | 'entity.created'
  | 'entity.disabled'
  | 'offboarded'
  | 'approval.requested'
  | 'approval.granted'
  | 'approval.denied'
  | 'approval.expired'

  | 'run.revoked'
  | 'webhook.delivered';

/** What a caller knows about an event. Never put a secret value in any field. */
export interface LedgerEventInput {
  event: LedgerEventKind;
  entityId?: string | null;
  owner?: string | null;
  /** Who caused it: an entity id, a token accessor, or `scheduler`. */
  actor?: string | null;
  requestId?: string | null;
  mount?: string | null;
  path?: string | null;
  leaseId?: string | null;
  accessor?: string | null;
  reason?: string | null;
  detail?: string | null;
}

/** A stored event as the API renders it. */
export interface LedgerEventView {
  seq: number;
  at: string;
  event: string;
  entity_id: string | null;
  owner: string | null;
  actor: string | null;
  request_id: string | null;
  mount: string | null;
  path: string | null;
  lease_id: string | null;
  accessor: string | null;
  reason: string | null;
  detail: string | null;
  hash: string;
}

/** A stored event: the API's view with the time as epoch milliseconds. */
type LedgerRow = Omit<LedgerEventView, 'at'> & { at: number };

/** Filters of `GET sys/governance/ledger`; times in epoch milliseconds. */
export interface LedgerQuery {
  entityId?: string;
  owner?: string;
  leaseId?: string;
  mount?: string;
  event?: string;
  sinceMs?: number;
  untilMs?: number;
  after?: string;
  limit?: number;
}

/** The answer of `verify`. */
export interface LedgerVerification {
  verified: boolean;
  events: number;
  first_bad_seq?: number;
}

/** Deps of the ledger. */
export interface LedgerDeps {
  db: SqliteDatabase;
  barrier: Pick<Barrier, 'subKey' | 'sealed'>;
  clock: Clock;
  logger: Logger;
  retentionSeconds?: number;
}

/** Longest text kept in a free-form field (`reason`, `detail`, `path`). */
const MAX_FIELD = 1024;

function clip(value: string | null | undefined): string | null {
  if (value === undefined || value === null || value === '') return null;
  return value.length > MAX_FIELD ? value.slice(0, MAX_FIELD) : value;
}

/** The canonical form an event's HMAC covers: every stored column but the hash, in a fixed order. */
export function canonicalForm(row: Omit<LedgerRow, 'hash'>): string {
  return JSON.stringify([row.seq, row.at, row.event, row.entity_id, row.owner, row.actor, row.request_id, row.mount, row.path, row.lease_id, row.accessor, row.reason, row.detail]);
}

function encodeCursor(seq: number): string {
  return Buffer.from(`l1:${seq}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^l1:(\d{1,15})$/.exec(text);
  if (!match) throw new BadRequestError('invalid "after" cursor');
  return Number(match[1]);
}

function constantTimeEqualHex(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The append-only ledger store with its buffer of pending releases. */
export class Ledger {
  private buffered: Array<Omit<LedgerRow, 'seq' | 'hash'>> = [];
  /** Buffered events by what they say, so repeats inside one flush window are folded into one event with a count. */
  private readonly bufferedByKey = new Map<string, { row: Omit<LedgerRow, 'seq' | 'hash'>; count: number }>();
  private flushScheduled = false;
  readonly retentionSeconds: number;
  private readonly stmts: {
    head: Statement<[]>;
    anchor: Statement<[]>;
    insert: Statement<unknown[]>;
    batch: Statement<[number, number]>;
    count: Statement<[]>;
    lastBefore: Statement<[number]>;
    deleteUpTo: Statement<[number]>;
    upsertAnchor: Statement<[number, string, string]>;
  };

  constructor(private readonly deps: LedgerDeps) {
    this.retentionSeconds = deps.retentionSeconds ?? DEFAULT_LEDGER_RETENTION_SECONDS;
    const db = deps.db;
    this.stmts = {
      head: db.prepare('SELECT seq, hash FROM ledger_events ORDER BY seq DESC LIMIT 1'),
      anchor: db.prepare('SELECT seq, hash, mac FROM ledger_anchor WHERE id = 1'),
      insert: db.prepare(
        'INSERT INTO ledger_events (seq, at, event, entity_id, owner, actor, request_id, mount, path, lease_id, accessor, reason, detail, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      batch: db.prepare('SELECT * FROM ledger_events WHERE seq > ? ORDER BY seq LIMIT ?'),
      count: db.prepare('SELECT COUNT(*) AS n FROM ledger_events'),
      lastBefore: db.prepare('SELECT seq, hash FROM ledger_events WHERE at < ? ORDER BY seq DESC LIMIT 1'),
      deleteUpTo: db.prepare('DELETE FROM ledger_events WHERE seq <= ?'),
      upsertAnchor: db.prepare('INSERT INTO ledger_anchor (id, seq, hash, mac) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, mac = excluded.mac'),
    };
  }

  private mac(data: string): string {
    return createHmac('sha256', this.deps.barrier.subKey(LEDGER_HMAC_PURPOSE)).update(data, 'utf8').digest('hex');
  }

  private chainHash(previous: string, row: Omit<LedgerRow, 'hash'>): string {
    return this.mac(`${previous}\n${canonicalForm(row)}`);
  }

  private anchorMac(seq: number, hash: string): string {
    return this.mac(`anchor\n${seq}\n${hash}`);
  }

  private toRow(input: LedgerEventInput, atMs: number): Omit<LedgerRow, 'seq' | 'hash'> {
    return {
      at: atMs,
      event: input.event,
      entity_id: clip(input.entityId),
      owner: clip(input.owner),
      actor: clip(input.actor),
      request_id: clip(input.requestId),
      mount: clip(input.mount),
      path: clip(input.path),
      lease_id: clip(input.leaseId),
      accessor: clip(input.accessor),
      reason: clip(input.reason),
      detail: clip(input.detail),
    };
  }

  /** The chain's head: the last stored event, or the tidy anchor, or the empty genesis. Read from the database so a rolled-back transaction leaves nothing stale. */
  private head(): { seq: number; hash: string } {
    const last = this.stmts.head.get() as { seq: number; hash: string } | undefined;
    if (last) return last;
    const anchor = this.stmts.anchor.get() as { seq: number; hash: string } | undefined;
    return anchor ? { seq: anchor.seq, hash: anchor.hash } : { seq: 0, hash: '' };
  }

  private append(rows: Array<Omit<LedgerRow, 'seq' | 'hash'>>): void {
    if (rows.length === 0) return;
    // A savepoint when the caller already runs a transaction: the event commits (or rolls back) with its change.
    this.deps.db.transaction(() => {
      let { seq, hash } = this.head();
      for (const row of rows) {
        seq += 1;
        const full = { ...row, seq };
        hash = this.chainHash(hash, full);
        this.stmts.insert.run(seq, full.at, full.event, full.entity_id, full.owner, full.actor, full.request_id, full.mount, full.path, full.lease_id, full.accessor, full.reason, full.detail, hash);
      }
    })();
  }

  /**
   * Records lifecycle events now, in the caller's transaction if there is one. Pending buffered
   * releases are written first so the chain keeps the order things happened in.
   */
  record(...events: LedgerEventInput[]): void {
    const nowMs = this.deps.clock.nowMs();
    const rows = events.map((e) => this.toRow(e, nowMs));
    this.append([...this.takeBuffered(), ...rows]);
  }

  /** Empties the buffer; a folded event says how many identical releases it stands for (`count=N`). */
  private takeBuffered(): Array<Omit<LedgerRow, 'seq' | 'hash'>> {
    if (this.buffered.length === 0) return [];
    const rows = this.buffered;
    for (const { row, count } of this.bufferedByKey.values()) {
      if (count > 1) row.detail = row.detail ? `${row.detail} count=${count}` : `count=${count}`;
    }
    this.buffered = [];
    this.bufferedByKey.clear();
    return rows;
  }

  /** Queues an event off the request path (`secret.released`); written in a batch within FLUSH_DELAY_MS, or on seal. */
  buffer(event: LedgerEventInput): void {
    // The same holder reading the same version of the same path again inside one window is one event with a count;
    // the audit log keeps each request.
    const key = `${event.event}\u0000${event.accessor ?? ''}\u0000${event.entityId ?? ''}\u0000${event.owner ?? ''}\u0000${event.path ?? ''}\u0000${event.detail ?? ''}`;
    const existing = this.bufferedByKey.get(key);
    if (existing) {
      existing.count += 1;
      return;
    }
    const row = this.toRow(event, this.deps.clock.nowMs());
    this.buffered.push(row);
    this.bufferedByKey.set(key, { row, count: 1 });
    if (this.buffered.length >= MAX_BUFFERED) {
      this.flush();
      return;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // A short timer rather than the next tick: one fsync'd transaction per window, however many reads landed in it.
      setTimeout(() => {
        this.flushScheduled = false;
        this.flush();
      }, FLUSH_DELAY_MS).unref();
    }
  }

  /** Writes every buffered event in one transaction. Called by the timer and on seal (while keys exist). */
  flush(): void {
    if (this.buffered.length === 0) return;
    if (this.deps.barrier.sealed) {
      this.deps.logger.warn({ dropped: this.buffered.length }, 'ledger events buffered while sealed were dropped');
      this.takeBuffered();
      return;
    }
    const pending = this.takeBuffered();
    try {
      this.append(pending);
    } catch (error) {
      this.deps.logger.error({ err: error instanceof Error ? error.message : 'failed', events: pending.length }, 'failed to write ledger events');
    }
  }

  /** Events matching the filters, oldest first, with the cursor of the next page. */
  query(filter: LedgerQuery): { events: LedgerEventView[]; next: string | null } {
    this.flush();
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), LEDGER_MAX_PAGE);
    const where: string[] = ['seq > ?'];
    const params: Array<string | number> = [filter.after ? decodeCursor(filter.after) : 0];
    const add = (column: string, value: string | undefined) => {
      if (value === undefined || value === '') return;
      where.push(`${column} = ?`);
      params.push(value);
    };
    add('entity_id', filter.entityId);
    add('owner', filter.owner);
    add('lease_id', filter.leaseId);
    add('mount', filter.mount);
    add('event', filter.event);
    if (filter.sinceMs !== undefined) {
      where.push('at >= ?');
      params.push(filter.sinceMs);
    }
    if (filter.untilMs !== undefined) {
      where.push('at <= ?');
      params.push(filter.untilMs);
    }
    const rows = this.deps.db.prepare(`SELECT * FROM ledger_events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`).all(...params, limit + 1) as LedgerRow[];
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    return { events: page.map(renderEvent), next: more && page.length > 0 ? encodeCursor((page[page.length - 1] as LedgerRow).seq) : null };
  }

  /**
   * Walks the chain from the anchor in bounded batches. A row whose seq is not the next one, or
   * whose hash does not match, fails verification at that seq (a deleted row fails at its own seq).
   * Yields to the event loop between batches so a long chain does not stall requests.
   */
  async verify(): Promise<LedgerVerification> {
    this.flush();
    let expectedSeq = 1;
    let previous = '';
    const anchor = this.stmts.anchor.get() as { seq: number; hash: string; mac: string } | undefined;
    if (anchor) {
      if (!constantTimeEqualHex(anchor.mac, this.anchorMac(anchor.seq, anchor.hash))) return { verified: false, events: 0, first_bad_seq: anchor.seq };
      expectedSeq = anchor.seq + 1;
      previous = anchor.hash;
    }
    let events = 0;
    let cursor = expectedSeq - 1;
    for (;;) {
      const rows = this.stmts.batch.all(Math.min(cursor, expectedSeq - 1), VERIFY_BATCH) as LedgerRow[];
      if (rows.length === 0) break;
      for (const row of rows) {
        if (row.seq !== expectedSeq) return { verified: false, events, first_bad_seq: Math.min(row.seq, expectedSeq) };
        const { hash, ...rest } = row;
        const expected = this.chainHash(previous, rest);
        if (!constantTimeEqualHex(hash, expected)) return { verified: false, events, first_bad_seq: row.seq };
        previous = hash;
        expectedSeq += 1;
        events += 1;
      }
      cursor = (rows[rows.length - 1] as LedgerRow).seq;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // Rows below the anchor (re-inserted after tidy) are not part of the chain.
    if (anchor) {
      const stray = this.deps.db.prepare('SELECT seq FROM ledger_events WHERE seq <= ? ORDER BY seq LIMIT 1').get(anchor.seq) as { seq: number } | undefined;
      if (stray) return { verified: false, events, first_bad_seq: stray.seq };
    }
    return { verified: true, events };
  }

  /** Deletes events older than the retention period and records the last deleted one as the chain's new anchor. */
  tidy(retentionSeconds = this.retentionSeconds): number {
    this.flush();
    const cutoff = this.deps.clock.nowMs() - retentionSeconds * 1000;
    let deleted = 0;
    this.deps.db.transaction(() => {
      const last = this.stmts.lastBefore.get(cutoff) as { seq: number; hash: string } | undefined;
      if (!last) return;
      deleted = this.stmts.deleteUpTo.run(last.seq).changes;
      this.stmts.upsertAnchor.run(last.seq, last.hash, this.anchorMac(last.seq, last.hash));
    })();
    return deleted;
  }

  /** Total stored events (after flushing the buffer). */
  count(): number {
    this.flush();
    return (this.stmts.count.get() as { n: number }).n;
  }
}

function renderEvent(row: LedgerRow): LedgerEventView {
  return { ...row, at: new Date(row.at).toISOString() };
}
