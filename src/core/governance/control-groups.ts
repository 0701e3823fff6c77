// Control groups (Vault Enterprise's API): a request to a governed path is stored, through the
// barrier, under the accessor of a wrapping token, and runs only when that token is unwrapped
// after every factor has its approvals. Approvals come only from tokens whose entity is in a
// factor's group; the requester never counts, each approver counts once, nothing counts after
// the TTL. Every step is a ledger event.
import { BadRequestError, PermissionDeniedError } from '../../errors';
import type { Clock } from '../../util/clock';
import { formatRfc3339Nano } from '../../util/time';
import type { Operation } from '../framework';
import type { IdentityStore } from '../identity/identity-store';
import type { ControlGroupFactor } from '../policy/release-rules';
import type { StorageView } from '../storage-view';
import { RESPONSE_WRAPPING_POLICY_NAME, type WrapInfo, type WrappingManager } from '../wrapping/manager';
import type { Ledger, LedgerEventInput } from './ledger';

/** Vault's text for an unwrap before approval. */
export const NEEDS_APPROVAL_MESSAGE = 'request needs further approval';

/** How long an ended request stays readable (for `sys/control-group/request`) before tidy deletes it. */
const KEEP_ENDED_MS = 24 * 3600 * 1000;

/** One approval. */
export interface Authorization {
  entityId: string;
  entityName: string;
  atMs: number;
  /** The factors this approver satisfied when approving (membership at that time). */
  factors: string[];
}

/** A stored control-group request (barrier-encrypted, keyed by the wrapping token's accessor). */
export interface ControlGroupRequest {
  accessor: string;
  /** The request as the pipeline received it: replayed verbatim at unwrap. */
  operation: Operation | 'write';
  path: string;
  data: Record<string, unknown>;
  clientAddress: string;
  requesterAccessor: string;
  requesterEntityId?: string;
  requesterEntityName?: string;
  justification?: string;
  factors: ControlGroupFactor[];
  createdAtMs: number;
  expireAtMs: number;
  authorizations: Authorization[];
  state: 'pending' | 'denied' | 'expired' | 'completed';
  denial?: { entityId: string; reason: string; atMs: number };
}

/** The approver of a granted request, as recorded on its lease and ledger event. */
export interface Approver {
  entity_id: string;
  entity_name: string;
}

/** Deps of the control-group manager. */
export interface ControlGroupDeps {
  storage: StorageView;
  wrapping: WrappingManager;
  identity: IdentityStore;
  ledger: Ledger;
  clock: Clock;
}

/** A caller of the sys/control-group endpoints, as the pipeline authenticated it. */
export interface ControlGroupCaller {
  accessor: string;
  entityId?: string;
}

/** Owns control-group requests: create, status, authorize, deny, pending, and the release at unwrap. */
export class ControlGroups {
  constructor(private readonly deps: ControlGroupDeps) {}

  private now(): number {
    return this.deps.clock.nowMs();
  }

  /** Stores the request and its wrapping token in one transaction; returns the `wrap_info` to answer with. */
  create(input: Omit<ControlGroupRequest, 'accessor' | 'createdAtMs' | 'expireAtMs' | 'authorizations' | 'state' | 'requesterEntityName'> & { ttlSeconds: number }): WrapInfo {
    const { storage, wrapping } = this.deps;
    return storage.transaction(() => {
      const info = wrapping.wrapControlGroup({ ttlSeconds: input.ttlSeconds, creationPath: input.path, creatorAccessor: input.requesterAccessor });
      const createdAtMs = Date.parse(info.creation_time) || this.now();
      const { ttlSeconds, ...rest } = input;
      const record: ControlGroupRequest = {
        ...rest,
        accessor: info.accessor,
        requesterEntityName: input.requesterEntityId ? this.deps.identity.entityById(input.requesterEntityId)?.name : undefined,
        createdAtMs,
        expireAtMs: createdAtMs + ttlSeconds * 1000,
        authorizations: [],
        state: 'pending',
      };
      storage.putJSON(info.accessor, record);
      this.deps.ledger.record({
        event: 'approval.requested',
        entityId: input.requesterEntityId ?? null,
        actor: input.requesterEntityId ?? input.requesterAccessor,
        accessor: input.requesterAccessor,
        path: input.path,
        reason: input.justification ?? null,
        detail: `request=${info.accessor} factors=${input.factors.map((f) => `${f.name}:${f.approvals}`).join(',')} ttl=${ttlSeconds}s`,
      });
      return info;
    });
  }

  /** The stored request for a wrapping accessor, with an expiry noticed now recorded. */
  get(accessor: string): ControlGroupRequest | undefined {
    if (typeof accessor !== 'string' || accessor === '' || accessor.length > 128 || accessor.includes('/')) return undefined;
    const record = this.deps.storage.getJSON<ControlGroupRequest>(accessor);
    if (!record) return undefined;
    return this.noticeExpiry(record);
  }

  private noticeExpiry(record: ControlGroupRequest): ControlGroupRequest {
    if (record.state !== 'pending' || this.now() < record.expireAtMs) return record;
    const expired: ControlGroupRequest = { ...record, state: 'expired' };
    this.transition(expired, { event: 'approval.expired', actor: 'scheduler', reason: 'expired', detail: `request=${record.accessor} approvals=${this.countedApprovers(record).length}` });
    return expired;
  }

  /** Authorizations that count: made within the TTL. */
  private counted(record: ControlGroupRequest): Authorization[] {
    return record.authorizations.filter((a) => a.atMs <= record.expireAtMs && a.entityId !== record.requesterEntityId);
  }

  private countedApprovers(record: ControlGroupRequest): Approver[] {
    return this.counted(record).map((a) => ({ entity_id: a.entityId, entity_name: a.entityName }));
  }

  /** True when every factor has its approvals from distinct entities, within the TTL. */
  isApproved(record: ControlGroupRequest): boolean {
    if (record.state !== 'pending' && record.state !== 'completed') return false;
    const counted = this.counted(record);
    return record.factors.every((factor) => new Set(counted.filter((a) => a.factors.includes(factor.name)).map((a) => a.entityId)).size >= factor.approvals);
  }

  /** The factors `entityId` may approve (membership of one of the factor's groups, now). */
  private factorsFor(record: ControlGroupRequest, entityId: string | undefined): string[] {
    if (!entityId) return [];
    const groups = new Set(this.deps.identity.groupsOfEntity(entityId).map((g) => g.name));
    return record.factors.filter((f) => f.groupNames.some((g) => groups.has(g))).map((f) => f.name);
  }

  private required(accessor: string): ControlGroupRequest {
    const record = this.get(accessor);
    if (!record) throw new BadRequestError('control group request not found');
    return record;
  }

  /** `sys/control-group/request`: Vault's status shape plus Leasehold's justification, expiry and state. */
  status(accessor: string): Record<string, unknown> {
    const record = this.required(accessor);
    return {
      approved: this.isApproved(record),
      request_path: record.path,
      request_operation: record.operation === 'write' ? 'update' : record.operation,
      request_entity: { id: record.requesterEntityId ?? '', name: record.requesterEntityName ?? '' },
      authorizations: this.countedApprovers(record),
      justification: record.justification ?? '',
      expire_time: formatRfc3339Nano(record.expireAtMs),
      state: record.state === 'pending' && this.isApproved(record) ? 'approved' : record.state,
      ...(record.denial ? { denied_reason: record.denial.reason } : {}),
    };
  }

  /** `sys/control-group/authorize`: records one approval by the caller's entity. */
  authorize(accessor: string, caller: ControlGroupCaller): { approved: boolean } {
    const record = this.required(accessor);
    if (record.state === 'expired') throw new BadRequestError('control group request has expired');
    if (record.state === 'denied') throw new BadRequestError('control group request was denied');
    if (record.state === 'completed') throw new BadRequestError('control group request was already used');
    if (!caller.entityId) throw new PermissionDeniedError('only a token with an identity entity can authorize a control group request');
    if (caller.entityId === record.requesterEntityId || caller.accessor === record.requesterAccessor) throw new BadRequestError('the requester cannot authorize its own request');
    const factors = this.factorsFor(record, caller.entityId);
    if (factors.length === 0) throw new PermissionDeniedError('the caller is not a member of a group that may authorize this request');
    // The same approver counts once: a repeat changes nothing.
    if (record.authorizations.some((a) => a.entityId === caller.entityId)) return { approved: this.isApproved(record) };
    const entityName = this.deps.identity.entityById(caller.entityId)?.name ?? '';
    const next: ControlGroupRequest = { ...record, authorizations: [...record.authorizations, { entityId: caller.entityId, entityName, atMs: this.now(), factors }] };
    const approved = this.isApproved(next);
    this.transition(next, { event: 'approval.granted', actor: caller.entityId, detail: `request=${accessor} approver=${caller.entityId} factors=${factors.join(',')} approved=${approved}` });
    return { approved };
  }

  /** `sys/control-group/deny`: ends the request; only someone who may approve it may deny it. */
  deny(accessor: string, caller: ControlGroupCaller, reason: string): void {
    const record = this.required(accessor);
    if (record.state !== 'pending') throw new BadRequestError(`control group request is already ${record.state}`);
    if (!caller.entityId || caller.entityId === record.requesterEntityId || this.factorsFor(record, caller.entityId).length === 0) {
      throw new PermissionDeniedError('the caller is not a member of a group that may deny this request');
    }
    const next: ControlGroupRequest = { ...record, state: 'denied', denial: { entityId: caller.entityId, reason, atMs: this.now() } };
    this.transition(next, { event: 'approval.denied', actor: caller.entityId, reason, detail: `request=${accessor}` });
  }

  /** Stores a request's next state and its ledger event in one transaction; the event names the requester as holder. */
  private transition(next: ControlGroupRequest, event: Pick<LedgerEventInput, 'event' | 'actor' | 'reason' | 'detail'>): void {
    this.deps.storage.transaction(() => {
      this.deps.storage.putJSON(next.accessor, next);
      this.deps.ledger.record({ ...event, entityId: next.requesterEntityId ?? null, accessor: next.requesterAccessor, path: next.path });
    });
  }

  /** `LIST sys/control-group/pending`: the live requests the caller may still approve. */
  pending(caller: ControlGroupCaller): { keys: string[]; key_info: Record<string, unknown> } {
    const keys: string[] = [];
    const info: Record<string, unknown> = {};
    if (!caller.entityId) return { keys, key_info: info };
    for (const key of this.deps.storage.list('')) {
      if (key.endsWith('/')) continue;
      const record = this.get(key);
      if (!record || record.state !== 'pending') continue;
      if (record.requesterEntityId === caller.entityId || record.requesterAccessor === caller.accessor) continue;
      if (record.authorizations.some((a) => a.entityId === caller.entityId)) continue;
      if (this.factorsFor(record, caller.entityId).length === 0) continue;
      keys.push(key);
      info[key] = {
        request_path: record.path,
        request_entity: { id: record.requesterEntityId ?? '', name: record.requesterEntityName ?? '' },
        justification: record.justification ?? '',
        approvals: this.countedApprovers(record),
        required: record.factors.map((f) => ({ factor: f.name, group_names: f.groupNames, approvals: f.approvals })),
        expire_time: formatRfc3339Nano(record.expireAtMs),
      };
    }
    return { keys, key_info: info };
  }

  /**
   * The pipeline's gate for sys/wrapping/unwrap and rewrap, before any use of a token is spent. The
   * wrapping token is the body's `token`, else the client token. Not a control-group token: undefined.
   * Rewrap of one is refused (it would move the request to a token no approver saw); an unwrap
   * returns the approved request to run, or throws the 400 of a pending, denied or expired one.
   */
  atUnwrap(rewrap: boolean, bodyToken: unknown, client: { accessor: string; policies: string[] }): ControlGroupRequest | undefined {
    const isWrapping = client.policies.length === 1 && client.policies[0] === RESPONSE_WRAPPING_POLICY_NAME;
    const accessor = typeof bodyToken === 'string' && bodyToken !== '' ? this.deps.wrapping.accessorOf(bodyToken) : isWrapping ? client.accessor : undefined;
    if (!accessor || !this.get(accessor)) return undefined;
    if (rewrap) throw new BadRequestError('a control group request cannot be rewrapped');
    return this.checkReleasable(accessor);
  }

  /** Throws the 400 an unapproved, denied or expired request answers; undefined when `accessor` is no control-group request. */
  checkReleasable(accessor: string): ControlGroupRequest | undefined {
    const record = this.get(accessor);
    if (!record) return undefined;
    if (record.state === 'denied') throw new BadRequestError('control group request was denied');
    if (record.state === 'expired') throw new BadRequestError('control group request has expired');
    if (record.state === 'completed') throw new BadRequestError('control group request was already used');
    if (!this.isApproved(record)) throw new BadRequestError(NEEDS_APPROVAL_MESSAGE);
    return record;
  }

  /**
   * Spends the wrapping token and marks the request completed, in one transaction, so it runs at most
   * once; returns the approvers to record on what it issues.
   */
  release(record: ControlGroupRequest): Approver[] {
    const { storage, wrapping } = this.deps;
    return storage.transaction(() => {
      const current = storage.getJSON<ControlGroupRequest>(record.accessor);
      if (!current || current.state !== 'pending' || !this.isApproved(current) || this.now() >= current.expireAtMs) throw new BadRequestError(NEEDS_APPROVAL_MESSAGE);
      wrapping.takeControlGroup(record.accessor);
      storage.putJSON(record.accessor, { ...current, state: 'completed' } satisfies ControlGroupRequest);
      return this.countedApprovers(current);
    });
  }

  /** How many requests wait for approvals now (the leasehold_approvals_pending gauge, read at scrape). */
  pendingCount(): number {
    let n = 0;
    for (const key of this.deps.storage.list('')) {
      if (key.endsWith('/')) continue;
      const record = this.get(key);
      if (record && record.state === 'pending' && this.now() < record.expireAtMs) n += 1;
    }
    return n;
  }

  /** Scheduled: records expiries and deletes requests ended more than a day ago. */
  tidy(limit = 1000): number {
    let deleted = 0;
    for (const key of this.deps.storage.list('')) {
      if (deleted >= limit) break;
      if (key.endsWith('/')) continue;
      const record = this.get(key);
      if (!record || record.state === 'pending') continue;
      if (this.now() - record.expireAtMs > KEEP_ENDED_MS) {
        this.deps.storage.delete(key);
        deleted += 1;
      }
    }
    return deleted;
  }
}
