// The expiration manager: the only place lease ids are minted, leases stored, and engines asked
// to renew or revoke. The lease table is the source of truth and is read by index: nothing is
// loaded at start. A revocation that fails is retried with backoff and never dropped.
import type { Statement } from 'better-sqlite3';
import { BadRequestError, InternalError } from '../errors';
import type { Logger } from '../logger';
import type { SqliteDatabase } from '../storage/database';
import type { Clock } from '../util/clock';
import type { Barrier } from './barrier';
import type { SecretDescriptor, SecretType } from './framework';
import type { StorageView } from './storage-view';
import { randomBase62 } from './tokens';

/** Tunables of lease handling; every number carries its unit. */
export interface ExpirationConfig {
  /** Failed attempts before a lease is marked irrevocable (Vault hardcodes 6). */
  maxRevokeAttempts: number;
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** How often irrevocable leases are retried. */
  irrevocableRetryMs: number;
  sweepBatchSize: number;
  /** Concurrent backend revocations per mount. */
  revokeConcurrencyPerMount: number;
  /** How long one sweep may keep going before yielding to the next tick. */
  sweepBudgetMs: number;
  /** The longest the sweep holds the event loop before letting API requests in. */
  sweepSliceMs: number;
  /** How long revoked leases stay in the ledger before tidy removes them. */
  tombstoneRetentionSeconds: number;
  /** Upper bound on one backend revoke call. */
  revokeTimeoutMs: number;
  /**
   * How long a pending lease (a credential being created) may stay pending before the sweep takes its
   * issuance for interrupted and revokes the credential. Longer than any creation statement may run.
   */
  pendingLeaseGraceMs: number;
}

export const DEFAULT_EXPIRATION_CONFIG: ExpirationConfig = {
  maxRevokeAttempts: 6,
  baseBackoffMs: 1000,
  // Capped at a minute, irrevocable retries too: after an outage, every pending revocation is
  // attempted again within a minute of the backend returning (issue 15 item 15).
  maxBackoffMs: 60_000,
  irrevocableRetryMs: 60_000,
  sweepBatchSize: 400,
  revokeConcurrencyPerMount: 32,
  sweepBudgetMs: 5000,
  sweepSliceMs: 10,
  tombstoneRetentionSeconds: 7 * 86400,
  revokeTimeoutMs: 30_000,
  // Twice the database plugin's statement timeout (30 s): a creation still running is never revoked.
  pendingLeaseGraceMs: 60_000,
};

/** What the manager needs to reach a mount's revoke/renew callbacks. */
export interface LeaseMountTarget {
  path: string;
  secrets: Record<string, SecretType>;
  storage: StorageView;
  defaultLeaseTtlSeconds: number;
  maxLeaseTtlSeconds: number;
}

/** Deps of the expiration manager; wired in the composition root. */
export interface ExpirationDeps {
  db: SqliteDatabase;
  barrier: Barrier;
  clock: Clock;
  logger: Logger;
  config: ExpirationConfig;
  /** Whether a token still exists: a lease requested by a token revoked meanwhile is born revoking. */
  tokenExists: (accessor: string) => boolean;
  /** Finds a live mount by its uuid (undefined if unmounted or sealed). */
  resolveMount: (mountUuid: string) => LeaseMountTarget | undefined;
  random?: () => number;
  /** Lifecycle events for the governance ledger, called inside the transaction that makes the change. */
  events?: (event: LeaseLifecycleEvent) => void;
}

/** One lease lifecycle change, as the expiration manager reports it to the governance ledger. */
export interface LeaseLifecycleEvent {
  kind: 'issued' | 'renewed' | 'revoked' | 'revoke_failed' | 'irrevocable';
  leaseId: string;
  /** On `issued`: the requester's reason and the control-group approvers. */
  justification?: string;
  approvers?: LeaseApprover[];
  /** The revocation reason ('expired' when the sweep revoked it at its TTL). */
  reason?: string | null;
  detail?: string;
  /** Who caused it (a requester's entity id or token accessor); absent for the scheduler's own work. */
  actor?: string | null;
}

/** A pending lease as the sweep reads it: enough to turn it into a revoking lease. */
interface PendingLeaseRow {
  lease_id: string;
  mount_uuid: string;
  mount_path: string;
  request_path: string;
  secret_type: string;
  created_at: number;
  payload: Buffer;
}

/** The revocation reason of a lease whose issuance never finished (a crash, or creation past the grace). */
export const INTERRUPTED_ISSUANCE_REASON = 'issuance-interrupted';

/** The lease states of the design. */
export type LeaseState = 'active' | 'revoking' | 'revoked' | 'irrevocable';

interface LeaseRow {
  lease_id: string;
  mount_uuid: string;
  mount_path: string;
  request_path: string;
  secret_type: string;
  token_accessor: string | null;
  identity: string | null;
  owner: string | null;
  entity_id: string | null;
  mount_accessor: string | null;
  role_name: string | null;
  issued_at: number;
  expire_at: number;
  max_expire_at: number;
  last_renewed_at: number | null;
  renewable: number;
  state: LeaseState;
  attempts: number;
  next_attempt_at: number | null;
  last_error: string | null;
  revoked_at: number | null;
  revocation_reason: string | null;
  /** Who asked for the revocation (null: the scheduler, at expiry). */
  revoked_by: string | null;
  payload: Buffer;
}

/** An entity that approved the request a lease was issued for (control groups). */
export interface LeaseApprover {
  entity_id: string;
  entity_name: string;
}

interface LeasePayload {
  internalData: Record<string, unknown>;
  justification?: string;
  approvers?: LeaseApprover[];
  /** The request context (client address, CI claims): kept encrypted, no index needs it. */
  context?: Record<string, unknown>;
}

/** Who asked for a lease: recorded with it for governance. */
export interface LeaseRequester {
  tokenAccessor?: string;
  identity?: string;
  owner?: string;
  justification?: string;
  /** Who approved the request (control groups). */
  approvers?: LeaseApprover[];
  /** The holder: the token's identity entity. */
  entityId?: string;
  /** Accessor of the auth mount that issued the token. */
  mountAccessor?: string;
  /** The role that issued the token. */
  roleName?: string;
  /** The CI run the token is bound to (indexed column `run_key`). */
  runKey?: string;
  /** Request context (client address, CI claims), stored encrypted. */
  context?: Record<string, unknown>;
}

/** A lease as sys/leases/lookup reports it. */
export interface LeaseView {
  id: string;
  issue_time: string;
  expire_time: string;
  last_renewal: string | null;
  renewable: boolean;
  ttl: number;
  state: LeaseState;
  /** Leasehold governance: the holder entity, accountable owner and issuing role ('' when unknown). */
  entity_id: string;
  owner: string;
  role: string;
  /** Leasehold release controls: the requester's reason and the approvers ('' and [] when none). */
  justification: string;
  approvers: LeaseApprover[];
}

const MAX_ERROR_LENGTH = 500;

function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/** Keeps an error message short and single-line; plugins are already wrapped so no secret reaches here. */
export function sanitiseError(error: unknown): string {
  const message = error instanceof Error ? error.message : 'revocation failed';
  return message.replace(/\s+/g, ' ').slice(0, MAX_ERROR_LENGTH);
}

/** Bounds a backend call by `ms`; a call that already returned (a synchronous revoke) needs no timer. */
async function withTimeout<T>(result: T | Promise<T>, ms: number): Promise<T> {
  if (typeof (result as PromiseLike<T> | undefined)?.then !== 'function') return result as T;
  const promise = Promise.resolve(result);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`revocation timed out after ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** What revoking a lease reads: the sweep selects only these (the rest of a row is never looked at). */
type RevocationRow = Pick<LeaseRow, 'lease_id' | 'mount_uuid' | 'secret_type' | 'state' | 'attempts' | 'revocation_reason' | 'revoked_by' | 'payload'>;
const REVOCATION_COLUMNS = 'lease_id, mount_uuid, secret_type, state, attempts, revoked_by, payload';

/**
 * The lease table's statements. Several steer SQLite's planner, which (without statistics) takes an
 * equality on `state` for the best index and would answer by walking every active lease:
 * - the sweep's reads name their partial index (INDEXED BY), or one sweep of n due leases sorts every
 *   active lease per batch: quadratic, and every idle sweep a scan;
 * - a token's leases and a prefix's leases write `+state`, which keeps the state index out so the
 *   token or lease-id index is used.
 * test/storage/lease-plans.test.ts checks that none of them scans the table.
 */
export const LEASE_SQL = {
  insert: `INSERT INTO leases (lease_id, mount_uuid, mount_path, request_path, secret_type, token_accessor, identity, owner,
    issued_at, expire_at, max_expire_at, renewable, state, next_attempt_at, revocation_reason, payload, entity_id, mount_accessor, role_name, run_key) VALUES (@lease_id, @mount_uuid, @mount_path,
    @request_path, @secret_type, @token_accessor, @identity, @owner, @issued_at, @expire_at, @max_expire_at, @renewable, @state,
    @next_attempt_at, @revocation_reason, @payload, @entity_id, @mount_accessor, @role_name, @run_key)`,
  get: 'SELECT * FROM leases WHERE lease_id = ?',
  // An expired lease is revoked for reason 'expired'; a pending one keeps the reason it was marked with.
  dueActive: `SELECT ${REVOCATION_COLUMNS}, 'expired' AS revocation_reason FROM leases INDEXED BY leases_active_by_expiry
    WHERE state = 'active' AND expire_at <= ? ORDER BY expire_at LIMIT ?`,
  duePending: `SELECT ${REVOCATION_COLUMNS}, revocation_reason FROM leases INDEXED BY leases_pending_by_attempt
    WHERE state IN ('revoking', 'irrevocable') AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?`,
  markRevoking: "UPDATE leases SET state = 'revoking', next_attempt_at = ?, revocation_reason = ?, revoked_by = ? WHERE lease_id = ? AND state = 'active'",
  markRevoked: "UPDATE leases SET state = 'revoked', revoked_at = ?, revocation_reason = COALESCE(revocation_reason, ?), next_attempt_at = NULL WHERE lease_id = ?",
  markForced: "UPDATE leases SET state = 'revoked', revoked_at = ?, revocation_reason = 'forced', next_attempt_at = NULL WHERE lease_id = ?",
  markFailed: 'UPDATE leases SET state = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?, revocation_reason = COALESCE(revocation_reason, ?) WHERE lease_id = ?',
  renew: "UPDATE leases SET expire_at = ?, last_renewed_at = ? WHERE lease_id = ? AND state = 'active'",
  event: 'INSERT INTO lease_events (lease_id, at, event, detail) VALUES (?, ?, ?, ?)',
  byToken: "UPDATE leases SET state = 'revoking', next_attempt_at = ?, revocation_reason = 'token-revoked', revoked_by = ? WHERE token_accessor = ? AND +state = 'active'",
  prefix: "SELECT * FROM leases WHERE lease_id >= ? AND lease_id < ? AND +state IN ('active', 'revoking', 'irrevocable')",
  // A mount's backend answered again: its pending revocations are due now, not at their backoff.
  pullForward: `UPDATE leases INDEXED BY leases_pending_by_attempt SET next_attempt_at = ?
    WHERE state IN ('revoking', 'irrevocable') AND next_attempt_at > ? AND mount_uuid = ?`,
  tidy: "DELETE FROM leases WHERE state = 'revoked' AND revoked_at < ?",
  tidyEvents: 'DELETE FROM lease_events WHERE at < ? AND lease_id NOT IN (SELECT lease_id FROM leases)',
  // Pending leases (migration 011): the intent to issue, stored before the engine creates anything.
  reserve: `INSERT INTO pending_leases (lease_id, mount_uuid, mount_path, request_path, secret_type, created_at, due_at, payload)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  // Only a lease this mount reserved can be activated, and only once.
  claimPending: 'DELETE FROM pending_leases WHERE lease_id = ? AND mount_uuid = ?',
  abandonPending: 'UPDATE pending_leases SET due_at = ? WHERE lease_id = ? AND due_at > ?',
  duePendingIssuance: `SELECT lease_id, mount_uuid, mount_path, request_path, secret_type, created_at, payload FROM pending_leases INDEXED BY pending_leases_by_due
    WHERE due_at <= ? ORDER BY due_at LIMIT ?`,
  // An interrupted issuance becomes a revoking lease: the ordinary retries, backoff and ledger apply.
  // It names only the columns it sets, so columns added to `leases` later keep their defaults.
  insertInterrupted: `INSERT INTO leases (lease_id, mount_uuid, mount_path, request_path, secret_type, issued_at, expire_at, max_expire_at,
    renewable, state, next_attempt_at, revocation_reason, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 'revoking', ?, '${INTERRUPTED_ISSUANCE_REASON}', ?)`,
  deletePending: 'DELETE FROM pending_leases WHERE lease_id = ?',
  requeueInterrupted: `UPDATE leases SET state = 'revoking', next_attempt_at = ?, revoked_at = NULL WHERE lease_id = ? AND state = 'revoked'
    AND revocation_reason = '${INTERRUPTED_ISSUANCE_REASON}'`,
  // At start-up no issuance is running (one process per data directory): every pending lease is due.
  pendingAllDue: 'UPDATE pending_leases SET due_at = ? WHERE due_at > ?',
  pendingOfMount: 'SELECT lease_id, payload FROM pending_leases INDEXED BY pending_leases_by_mount WHERE mount_uuid = ?',
} as const;

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

/** Owns the lease table. */
export class ExpirationManager {
  private readonly inFlight = new Set<string>();
  private readonly random: () => number;
  private readonly stmts: {
    insert: Statement;
    get: Statement<[string], LeaseRow>;
    dueActive: Statement<[number, number], RevocationRow>;
    duePending: Statement<[number, number], RevocationRow>;
    markRevoking: Statement<[number, string, string | null, string]>;
    markRevoked: Statement<[number, string, string]>;
    markFailed: Statement<[string, number, string, string | null, string]>;
    markForced: Statement<[number, string]>;
    renew: Statement<[number, number, string]>;
    event: Statement<[string, number, string, string | null]>;
    byToken: Statement<[number, string | null, string]>;
    prefix: Statement<[string, string], LeaseRow>;
    pullForward: Statement<[number, number, string]>;
    tidy: Statement<[number]>;
    tidyEvents: Statement<[number]>;
    reserve: Statement<[string, string, string, string, string, number, number, Uint8Array]>;
    claimPending: Statement<[string, string]>;
    abandonPending: Statement<[number, string, number]>;
    duePendingIssuance: Statement<[number, number], PendingLeaseRow>;
    insertInterrupted: Statement<[string, string, string, string, string, number, number, number, number, Buffer]>;
    deletePending: Statement<[string]>;
    requeueInterrupted: Statement<[number, string]>;
    pendingAllDue: Statement<[number, number]>;
    pendingOfMount: Statement<[string], Pick<LeaseRow, 'lease_id' | 'payload'>>;
  };

  constructor(private readonly deps: ExpirationDeps) {
    const { db } = deps;
    this.random = deps.random ?? Math.random;
    this.stmts = {
      insert: db.prepare(LEASE_SQL.insert),
      get: db.prepare(LEASE_SQL.get),
      dueActive: db.prepare(LEASE_SQL.dueActive),
      duePending: db.prepare(LEASE_SQL.duePending),
      markRevoking: db.prepare(LEASE_SQL.markRevoking),
      markRevoked: db.prepare(LEASE_SQL.markRevoked),
      markForced: db.prepare(LEASE_SQL.markForced),
      markFailed: db.prepare(LEASE_SQL.markFailed),
      renew: db.prepare(LEASE_SQL.renew),
      event: db.prepare(LEASE_SQL.event),
      byToken: db.prepare(LEASE_SQL.byToken),
      prefix: db.prepare(LEASE_SQL.prefix),
      pullForward: db.prepare(LEASE_SQL.pullForward),
      tidy: db.prepare(LEASE_SQL.tidy),
      tidyEvents: db.prepare(LEASE_SQL.tidyEvents),
      reserve: db.prepare(LEASE_SQL.reserve),
      claimPending: db.prepare(LEASE_SQL.claimPending),
      abandonPending: db.prepare(LEASE_SQL.abandonPending),
      duePendingIssuance: db.prepare(LEASE_SQL.duePendingIssuance),
      insertInterrupted: db.prepare(LEASE_SQL.insertInterrupted),
      deletePending: db.prepare(LEASE_SQL.deletePending),
      requeueInterrupted: db.prepare(LEASE_SQL.requeueInterrupted),
      pendingAllDue: db.prepare(LEASE_SQL.pendingAllDue),
      pendingOfMount: db.prepare(LEASE_SQL.pendingOfMount),
    };
    // Start-up: a pending lease left in the table belongs to a process that is gone (the data
    // directory is locked to one process), so its issuance will never finish. The first sweep
    // after unseal revokes it instead of waiting out the grace.
    const nowMs = this.now();
    this.stmts.pendingAllDue.run(nowMs, nowMs);
  }

  /**
   * Records, durably and before the engine creates anything, that a credential is about to be issued:
   * a pending lease holding what revocation needs (`internalData`, encrypted like every lease
   * payload). The engine then creates the credential and returns the id in its secret descriptor
   * (`pendingLeaseId`); `register` activates it. If the issuance never finishes, the sweep revokes
   * the credential once the grace has passed (or at once after a restart).
   */
  reserve(input: { mountUuid: string; requestPath: string; secretType: string; internalData: Record<string, unknown> }): string {
    const mount = this.deps.resolveMount(input.mountUuid);
    if (!mount) throw new InternalError('mount not found for lease');
    const nowMs = this.now();
    const leaseId = `${mount.path}${input.requestPath}/${randomBase62(24)}`;
    const payload: LeasePayload = { internalData: input.internalData };
    this.stmts.reserve.run(
      leaseId,
      input.mountUuid,
      mount.path,
      input.requestPath,
      input.secretType,
      nowMs,
      nowMs + this.deps.config.pendingLeaseGraceMs,
      this.deps.barrier.encryptJSON(`leases/${leaseId}`, payload),
    );
    return leaseId;
  }

  /** The engine gave up on a reserved issuance (creation failed): revoke on the next sweep, not after the grace. */
  abandon(leaseId: string): void {
    const nowMs = this.now();
    this.stmts.abandonPending.run(nowMs, leaseId, nowMs);
  }

  /**
   * A credential was created but its lease could not be stored. Still pending (the store failed): due
   * now. Already taken for interrupted by the sweep, which may have revoked it before the creation
   * committed: its revocation is queued again, since the credential exists now.
   */
  private queueUnstoredCredential(leaseId: string): void {
    const nowMs = this.now();
    try {
      this.deps.db.transaction(() => {
        this.stmts.abandonPending.run(nowMs, leaseId, nowMs);
        if (this.stmts.requeueInterrupted.run(nowMs, leaseId).changes > 0) this.stmts.event.run(leaseId, nowMs, 'revoke-requested', 'issuance-completed-late');
      })();
    } catch (error) {
      this.deps.logger.error({ leaseId, err: sanitiseError(error) }, 'queueing the revocation of an unstored credential failed; the drift check will find it');
    }
  }

  /**
   * Turns pending leases past their due time into revoking leases (reason `issuance-interrupted`), in
   * one transaction per batch; the same sweep then revokes them through their engine.
   */
  private expireInterruptedIssuances(nowMs: number): number {
    const rows = this.stmts.duePendingIssuance.all(nowMs, this.deps.config.sweepBatchSize);
    if (rows.length === 0) return 0;
    this.deps.db.transaction(() => {
      for (const r of rows) {
        this.stmts.insertInterrupted.run(r.lease_id, r.mount_uuid, r.mount_path, r.request_path, r.secret_type, r.created_at, r.created_at, r.created_at, nowMs, r.payload);
        this.stmts.deletePending.run(r.lease_id);
        this.stmts.event.run(r.lease_id, nowMs, 'revoke-requested', INTERRUPTED_ISSUANCE_REASON);
      }
    })();
    this.deps.logger.warn({ leases: rows.map((r) => r.lease_id) }, 'issuance of these leases never finished: revoking their credentials');
    return rows.length;
  }

  private now(): number {
    return this.deps.clock.nowMs();
  }

  /**
   * Stores a lease for a secret an engine just created and returns its id and TTL. If the lease
   * cannot be stored, the credential is revoked at once so nothing lives unaccounted for.
   */
  async register(input: { mountUuid: string; requestPath: string; secret: SecretDescriptor; requester: LeaseRequester }): Promise<{ leaseId: string; ttlSeconds: number; renewable: boolean }> {
    const mount = this.deps.resolveMount(input.mountUuid);
    if (!mount) throw new InternalError('mount not found for lease');
    const nowMs = this.now();
    const maxTtl = Math.min(input.secret.maxTtlSeconds || mount.maxLeaseTtlSeconds, mount.maxLeaseTtlSeconds);
    const ttl = Math.min(input.secret.ttlSeconds || mount.defaultLeaseTtlSeconds, maxTtl);
    const pendingLeaseId = input.secret.pendingLeaseId;
    const leaseId = pendingLeaseId ?? `${mount.path}${input.requestPath}/${randomBase62(24)}`;
    const payload: LeasePayload = { internalData: input.secret.internalData, justification: input.requester.justification, approvers: input.requester.approvers, context: input.requester.context };
    try {
      this.deps.db.transaction(() => {
        // A reserved lease is activated: its pending row goes in the transaction that stores the lease.
        // Gone means the sweep already took the issuance for interrupted and is revoking the credential.
        if (pendingLeaseId !== undefined && this.stmts.claimPending.run(pendingLeaseId, input.mountUuid).changes !== 1) {
          throw new Error('the pending lease is gone: issuance took longer than the grace and its credential is being revoked');
        }
        // Checked in the same transaction as the insert: a token revoked while this request ran
        // leaves no lease behind (token revocation and this insert are serialised).
        const orphaned = input.requester.tokenAccessor !== undefined && !this.deps.tokenExists(input.requester.tokenAccessor);
        this.stmts.insert.run({
          lease_id: leaseId,
          mount_uuid: input.mountUuid,
          mount_path: mount.path,
          request_path: input.requestPath,
          secret_type: input.secret.type,
          token_accessor: input.requester.tokenAccessor ?? null,
          identity: input.requester.identity ?? null,
          owner: input.requester.owner ?? null,
          issued_at: nowMs,
          expire_at: nowMs + ttl * 1000,
          max_expire_at: nowMs + maxTtl * 1000,
          renewable: input.secret.renewable ? 1 : 0,
          state: orphaned ? 'revoking' : 'active',
          next_attempt_at: orphaned ? nowMs : null,
          revocation_reason: orphaned ? 'token-revoked' : null,
          payload: this.deps.barrier.encryptJSON(`leases/${leaseId}`, payload),
          entity_id: input.requester.entityId ?? null,
          mount_accessor: input.requester.mountAccessor ?? null,
          role_name: input.requester.roleName ?? null,
          run_key: input.requester.runKey ?? null,
        });
        this.deps.events?.({ kind: 'issued', leaseId, detail: `ttl=${ttl}s`, actor: input.requester.entityId ?? input.requester.tokenAccessor ?? null, justification: input.requester.justification, approvers: input.requester.approvers });
      })();
    } catch (error) {
      if (pendingLeaseId !== undefined) {
        // The reservation keeps the credential accounted for: revoked by the sweep, with retries.
        this.deps.logger.error({ leaseId, err: sanitiseError(error) }, 'storing a lease failed: its credential is queued for revocation');
        this.queueUnstoredCredential(pendingLeaseId);
        throw new InternalError('failed to store the lease; the credential is being revoked');
      }
      this.deps.logger.error({ leaseId, err: sanitiseError(error) }, 'storing a lease failed: revoking the new credential');
      const type = mount.secrets[input.secret.type];
      try {
        await type?.revoke({ internalData: input.secret.internalData, storage: mount.storage });
      } catch (revokeError) {
        this.deps.logger.error({ leaseId, err: sanitiseError(revokeError) }, 'revoking an unstored credential failed');
      }
      throw new InternalError('failed to store the lease; the credential was revoked');
    }
    return { leaseId, ttlSeconds: ttl, renewable: input.secret.renewable };
  }

  private row(leaseId: string): LeaseRow | undefined {
    if (leaseId.length === 0 || leaseId.length > 1024) return undefined;
    return this.stmts.get.get(leaseId);
  }

  private view(row: LeaseRow): LeaseView {
    const nowMs = this.now();
    const live = row.state === 'active' && row.expire_at > nowMs;
    return {
      id: row.lease_id,
      issue_time: rfc3339(row.issued_at),
      expire_time: rfc3339(row.expire_at),
      last_renewal: row.last_renewed_at ? rfc3339(row.last_renewed_at) : null,
      renewable: live && row.renewable === 1,
      ttl: live ? Math.round((row.expire_at - nowMs) / 1000) : 0,
      state: row.state,
      entity_id: row.entity_id ?? '',
      owner: row.owner ?? '',
      role: row.role_name ?? '',
      ...this.releaseFacts(row),
    };
  }

  /** The justification and approvers, from the encrypted payload (read only for lookups). */
  private releaseFacts(row: LeaseRow): { justification: string; approvers: LeaseApprover[] } {
    try {
      const payload = this.deps.barrier.decryptJSON<LeasePayload>(`leases/${row.lease_id}`, row.payload);
      return { justification: payload.justification ?? '', approvers: payload.approvers ?? [] };
    } catch {
      return { justification: '', approvers: [] };
    }
  }

  /** sys/leases/lookup. Unknown or revoked leases are a 400 "invalid lease", as Vault. */
  lookup(leaseId: string): LeaseView {
    const row = this.row(leaseId);
    if (!row || row.state === 'revoked') throw new BadRequestError('invalid lease');
    return this.view(row);
  }

  /** Immediate children of a lease-id prefix (LIST sys/leases/lookup/<prefix>). */
  listPrefix(prefix: string): string[] {
    const children = new Set<string>();
    for (const row of this.stmts.prefix.iterate(prefix, `${prefix}\u{10FFFF}`)) {
      const rest = row.lease_id.slice(prefix.length);
      const slash = rest.indexOf('/');
      children.add(slash < 0 ? rest : rest.slice(0, slash + 1));
    }
    return [...children].sort();
  }

  /**
   * Extends a lease by `incrementSeconds` from now (or its original TTL), never past its max.
   * Checked at the point of use: an expired lease cannot be renewed even if no sweep has run.
   */
  async renew(leaseId: string, incrementSeconds: number | undefined, actor?: string | null): Promise<{ leaseId: string; ttlSeconds: number; renewable: boolean }> {
    const row = this.row(leaseId);
    const nowMs = this.now();
    if (!row || row.state !== 'active' || row.expire_at <= nowMs) throw new BadRequestError('lease not found or lease is not renewable');
    if (row.renewable !== 1) throw new BadRequestError('lease is not renewable');
    const originalTtlSeconds = Math.round((row.expire_at - (row.last_renewed_at ?? row.issued_at)) / 1000);
    const requested = incrementSeconds && incrementSeconds > 0 ? incrementSeconds : originalTtlSeconds;
    const expireAt = Math.min(nowMs + requested * 1000, row.max_expire_at);
    if (expireAt <= nowMs) throw new BadRequestError('lease has reached its maximum TTL');
    const mount = this.deps.resolveMount(row.mount_uuid);
    const type = mount?.secrets[row.secret_type];
    if (!mount || !type) throw new BadRequestError('lease is not renewable: its mount is gone');
    const payload = this.payload(row);
    // The backend first (e.g. move VALID UNTIL), then the row; a failed backend renew changes nothing.
    await type.renew?.({ internalData: payload.internalData, ttlSeconds: Math.round((expireAt - nowMs) / 1000), expireAt: new Date(expireAt), storage: mount.storage });
    this.deps.db.transaction(() => {
      this.stmts.renew.run(expireAt, nowMs, leaseId);
      this.stmts.event.run(leaseId, nowMs, 'renewed', `ttl=${Math.round((expireAt - nowMs) / 1000)}s`);
      this.deps.events?.({ kind: 'renewed', leaseId, detail: `ttl=${Math.round((expireAt - nowMs) / 1000)}s`, actor });
    })();
    return { leaseId, ttlSeconds: Math.round((expireAt - nowMs) / 1000), renewable: true };
  }

  private payload(row: Pick<LeaseRow, 'lease_id' | 'payload'>): LeasePayload {
    return this.deps.barrier.decryptJSON<LeasePayload>(`leases/${row.lease_id}`, row.payload);
  }

  /** Marks leases for revocation, durably, in one transaction, with who asked. The sweep (or a sync caller) does the backend work. */
  private markForRevocation(leaseIds: string[], reason: string, actor: string | null): void {
    const nowMs = this.now();
    this.deps.db.transaction(() => {
      for (const id of leaseIds) {
        if (this.stmts.markRevoking.run(nowMs, reason, actor, id).changes > 0) this.stmts.event.run(id, nowMs, 'revoke-requested', reason);
      }
    })();
  }

  /** Called inside the token-revocation transaction: every lease of these tokens is queued for revocation, by whoever revoked the token. */
  markTokenLeases(accessors: string[], actor: string | null = null): void {
    const nowMs = this.now();
    for (const accessor of accessors) this.stmts.byToken.run(nowMs, actor, accessor);
  }

  /**
   * Revokes one lease. With `sync` the backend call happens before returning and its failure is an error.
   * `actor` is who asked (see requestActor); the ledger names it on the revocation.
   */
  async revoke(leaseId: string, options: { sync: boolean; actor?: string | null }): Promise<void> {
    const row = this.row(leaseId);
    if (!row || row.state === 'revoked') return;
    this.markForRevocation([leaseId], 'revoked', options.actor ?? null);
    if (!options.sync) return;
    const failures = await this.revokeRows([this.row(leaseId) as LeaseRow], options.actor);
    if (failures > 0) throw new InternalError(`failed to revoke lease: ${this.row(leaseId)?.last_error ?? 'backend error'}`);
  }

  /** Revokes every lease under a prefix. */
  async revokePrefix(prefix: string, options: { sync: boolean; actor?: string | null }): Promise<number> {
    const rows = this.stmts.prefix.all(prefix, `${prefix}\u{10FFFF}`);
    this.markForRevocation(
      rows.filter((r) => r.state === 'active').map((r) => r.lease_id),
      'revoked-prefix',
      options.actor ?? null,
    );
    if (options.sync) {
      const failures = await this.revokeRows(
        rows.map((r) => this.row(r.lease_id) as LeaseRow),
        options.actor,
      );
      if (failures > 0) throw new InternalError(`failed to revoke ${failures} lease(s) under the prefix; they will be retried`);
    }
    return rows.length;
  }

  /**
   * revoke-force: tries the backend once and marks every lease under the prefix revoked whatever
   * the backend says. For credentials an operator has cleaned up by hand.
   */
  async revokeForce(prefix: string, actor: string | null = null): Promise<number> {
    const rows = this.stmts.prefix.all(prefix, `${prefix}\u{10FFFF}`);
    for (const row of rows) {
      try {
        await this.callBackendRevoke(row);
      } catch {
        // Ignored by definition of revoke-force; the event below records it.
      }
      this.stmts.markForced.run(this.now(), row.lease_id);
      this.deps.events?.({ kind: 'revoked', leaseId: row.lease_id, reason: 'forced', actor });
    }
    return rows.length;
  }

  private async callBackendRevoke(row: RevocationRow): Promise<void> {
    const mount = this.deps.resolveMount(row.mount_uuid);
    if (!mount) throw new Error('the mount that issued this lease is not available');
    const type = mount.secrets[row.secret_type];
    if (!type) throw new Error(`the mount does not know secret type ${row.secret_type}`);
    await withTimeout(type.revoke({ internalData: this.payload(row).internalData, storage: mount.storage }), this.deps.config.revokeTimeoutMs);
  }

  private backoffMs(attempts: number): number {
    const { baseBackoffMs, maxBackoffMs } = this.deps.config;
    const exp = Math.min(maxBackoffMs, baseBackoffMs * 2 ** attempts);
    return Math.round(exp / 2 + (exp / 2) * this.random());
  }

  /**
   * Calls the backends for `rows` (bounded per mount) and records each outcome. Returns the number of failures.
   * A revocation is recorded as caused by whoever asked for it (the row's `revoked_by`); a failed attempt by
   * `attemptActor`, the requester of a sync revocation (none: the sweep's own retry).
   */
  private async revokeRows(rows: RevocationRow[], attemptActor?: string | null): Promise<number> {
    const mine = rows.filter((r) => r.state !== 'revoked' && !this.inFlight.has(r.lease_id));
    for (const r of mine) this.inFlight.add(r.lease_id);
    const outcomes: { row: RevocationRow; error?: unknown }[] = [];
    try {
      const byMount = new Map<string, RevocationRow[]>();
      for (const r of mine) {
        const group = byMount.get(r.mount_uuid);
        if (group) group.push(r);
        else byMount.set(r.mount_uuid, [r]);
      }
      await Promise.all(
        [...byMount.values()].map((group) =>
          pool(group, this.deps.config.revokeConcurrencyPerMount, async (row) => {
            try {
              await this.callBackendRevoke(row);
              outcomes.push({ row });
            } catch (error) {
              outcomes.push({ row, error });
            }
          }),
        ),
      );
      const nowMs = this.now();
      const { maxRevokeAttempts, irrevocableRetryMs } = this.deps.config;
      const recovered = new Set<string>();
      this.deps.db.transaction(() => {
        for (const { row, error } of outcomes) {
          if (error === undefined) {
            this.stmts.markRevoked.run(nowMs, row.revocation_reason ?? 'revoked', row.lease_id);
            this.deps.events?.({ kind: 'revoked', leaseId: row.lease_id, reason: row.revocation_reason ?? 'revoked', actor: row.revoked_by });
            recovered.add(row.mount_uuid);
            continue;
          }
          const attempts = row.attempts + 1;
          const irrevocable = attempts >= maxRevokeAttempts;
          const message = sanitiseError(error);
          const nextAttemptAt = nowMs + (irrevocable ? irrevocableRetryMs : this.backoffMs(attempts));
          this.stmts.markFailed.run(irrevocable ? 'irrevocable' : 'revoking', nextAttemptAt, message, row.revocation_reason, row.lease_id);
          this.stmts.event.run(row.lease_id, nowMs, irrevocable ? 'irrevocable' : 'revocation-failed', message);
          this.deps.events?.({ kind: irrevocable ? 'irrevocable' : 'revoke_failed', leaseId: row.lease_id, reason: row.revocation_reason, detail: message, actor: attemptActor });
          this.deps.logger.warn({ leaseId: row.lease_id, attempts, irrevocable, nextAttemptAt: new Date(nextAttemptAt).toISOString(), err: message }, 'revocation failed; it will be retried');
        }
        // A success shows the mount's backend works again: retry everything it has pending now.
        for (const mountUuid of recovered) this.stmts.pullForward.run(nowMs, nowMs, mountUuid);
      })();
    } finally {
      for (const r of mine) this.inFlight.delete(r.lease_id);
    }
    return outcomes.filter((o) => o.error !== undefined).length;
  }

  /**
   * One sweep: revokes expired leases and retries pending ones, by index, in batches, until
   * nothing is due or the budget is spent. Returns how many leases were processed.
   */
  async sweep(): Promise<number> {
    const startedAt = Date.now();
    const { sweepBatchSize, sweepBudgetMs, sweepSliceMs } = this.deps.config;
    let processed = 0;
    let sliceStartedAt = startedAt;
    for (;;) {
      const nowMs = this.now();
      // Interrupted issuances become revoking leases first, so this very batch revokes them.
      this.expireInterruptedIssuances(nowMs);
      const due = [...this.stmts.dueActive.all(nowMs, sweepBatchSize), ...this.stmts.duePending.all(nowMs, sweepBatchSize)].filter((r) => !this.inFlight.has(r.lease_id));
      if (due.length === 0) break;
      // An expired lease needs no `revoking` mark before the backend call: if we crash mid-call it is
      // still active and past its expiry, so the next sweep (after restart) revokes it again.
      await this.revokeRows(due);
      processed += due.length;
      if (Date.now() - startedAt > sweepBudgetMs) break;
      // Let API requests in between slices: a mass expiry must not stall the vault.
      if (Date.now() - sliceStartedAt >= sweepSliceMs) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStartedAt = Date.now();
      }
    }
    return processed;
  }

  /** Removes tombstones older than the retention period. */
  tidy(): number {
    const cutoff = this.now() - this.deps.config.tombstoneRetentionSeconds * 1000;
    return this.deps.db.transaction(() => {
      const removed = this.stmts.tidy.run(cutoff).changes;
      this.stmts.tidyEvents.run(cutoff);
      return removed;
    })();
  }

  /** sys/leases/count. */
  count(type: 'active' | 'irrevocable' | 'all'): { total: number; byMount: Record<string, number> } {
    const where = type === 'irrevocable' ? "state = 'irrevocable'" : type === 'active' ? "state IN ('active', 'revoking')" : "state != 'revoked'";
    const rows = this.deps.db.prepare(`SELECT mount_path, count(*) AS n FROM leases WHERE ${where} GROUP BY mount_path`).all() as { mount_path: string; n: number }[];
    const byMount: Record<string, number> = {};
    let total = 0;
    for (const r of rows) {
      byMount[r.mount_path] = r.n;
      total += r.n;
    }
    return { total, byMount };
  }

  /** Irrevocable (or pending) leases with their last error, for operators. */
  listByState(state: 'irrevocable' | 'revoking', limit: number): { lease_id: string; mount_id: string; error: string | null; attempts: number; expire_time: string }[] {
    const rows = this.deps.db.prepare('SELECT lease_id, mount_uuid, last_error, attempts, expire_at FROM leases WHERE state = ? ORDER BY lease_id LIMIT ?').all(state, limit) as LeaseRow[];
    return rows.map((r) => ({ lease_id: r.lease_id, mount_id: r.mount_uuid, error: r.last_error, attempts: r.attempts, expire_time: rfc3339(r.expire_at) }));
  }

  /**
   * The ledger of one lease. Issuance and the final revocation are read from the lease row itself
   * (it stays as a tombstone), so the hot paths write no extra rows; renewals, revocation requests
   * and failed attempts are stored events.
   */
  events(leaseId: string): { at: string; event: string; detail: string | null }[] {
    const row = this.row(leaseId);
    if (!row) return [];
    const stored = this.deps.db.prepare('SELECT at, event, detail FROM lease_events WHERE lease_id = ? ORDER BY id').all(leaseId) as { at: number; event: string; detail: string | null }[];
    // A lease whose issuance never finished was never issued: its first event is the attempt.
    const first = row.revocation_reason === INTERRUPTED_ISSUANCE_REASON ? 'issuance-started' : 'issued';
    const events = [{ at: row.issued_at, event: first, detail: null as string | null }, ...stored];
    if (row.state === 'revoked' && row.revoked_at !== null) {
      const reason = row.revocation_reason ?? 'revoked';
      events.push({ at: row.revoked_at, event: reason === 'expired' || reason === 'forced' ? reason : 'revoked', detail: reason });
    }
    return events.map((e) => ({ at: rfc3339(e.at), event: e.event, detail: e.detail }));
  }

  /** Revocation data of every lease of a mount that is not yet revoked, pending ones included (drift checks). */
  activeLeaseData(mountUuid: string): Record<string, unknown>[] {
    const rows = this.deps.db.prepare("SELECT lease_id, payload FROM leases WHERE mount_uuid = ? AND state != 'revoked'").all(mountUuid) as LeaseRow[];
    return [...rows, ...this.stmts.pendingOfMount.all(mountUuid)].map((r) => this.payload(r).internalData);
  }

  /** How many issuances are in progress (pending leases), for tests and operators. */
  pendingCount(): number {
    return (this.deps.db.prepare('SELECT count(*) AS n FROM pending_leases').get() as { n: number }).n;
  }

  /** The state of a lease (tests and the ledger API). */
  state(leaseId: string): { state: LeaseState; attempts: number; lastError: string | null } | undefined {
    const row = this.row(leaseId);
    return row ? { state: row.state, attempts: row.attempts, lastError: row.last_error } : undefined;
  }
}
