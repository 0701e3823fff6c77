// Turns what the token store, the expiration manager and the request pipeline report into ledger
// events, filling holder and owner from the stored rows. Kept apart from those hot files so their
// edits stay one-line hooks.
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from '../../storage/database';
import type { LeaseLifecycleEvent } from '../expiration';
import type { RequestIdentity } from '../framework';
import type { RevocationCause, RevokedToken, TokenEntry } from '../tokens';
import type { GovernanceEvents } from './events';
import type { Ledger, LedgerEventInput } from './ledger';

/** The actor of events caused by background jobs (expiry sweeps, retries). */
export const SCHEDULER_ACTOR = 'scheduler';

interface LeaseFacts {
  mount_path: string;
  request_path: string;
  token_accessor: string | null;
  owner: string | null;
  entity_id: string | null;
  revoked_by: string | null;
}

/** An entity id, where the identity work has put one on the record (absent today). */
function entityOf(value: unknown): string | null {
  const id = (value as { entityId?: unknown } | undefined)?.entityId;
  return typeof id === 'string' && id !== '' ? id : null;
}

/** The hooks the composition root wires into the token store, the expiration manager and the pipeline. */
export class LedgerEvents {
  private readonly leaseFacts: Statement<[string], LeaseFacts>;

  constructor(
    private readonly ledger: Ledger,
    db: SqliteDatabase,
  ) {
    this.leaseFacts = db.prepare('SELECT mount_path, request_path, token_accessor, owner, entity_id, revoked_by FROM leases WHERE lease_id = ?');
  }

  /**
   * `token.created`, in the transaction that stores the token. The actor is the requester; a login
   * (no requester) is the new holder's own doing: its entity, else the new token.
   */
  readonly tokenCreated = (entry: TokenEntry, actor: string | null): void => {
    this.ledger.record({
      event: 'token.created',
      accessor: entry.accessor,
      entityId: entityOf(entry),
      owner: entry.owner,
      actor: actor ?? entityOf(entry) ?? entry.parentAccessor ?? entry.accessor,
      mount: entry.authPath,
      detail: `policies=${entry.policies.join(',')}`,
    });
  };

  /**
   * `token.revoked` (the first one `token.expired` when it had expired), in the transaction that deletes
   * the tokens; holder and owner as the deleted rows said.
   */
  readonly tokensRevoked = (revoked: RevokedToken[], cause: RevocationCause): void => {
    if (revoked.length === 0) return;
    const expired = cause.expired === true;
    this.ledger.record(
      ...revoked.map((token, i): LedgerEventInput => ({
        event: expired && i === 0 ? 'token.expired' : 'token.revoked',
        accessor: token.accessor,
        entityId: token.entityId,
        owner: token.owner,
        actor: cause.actor,
        reason: expired ? (i === 0 ? 'expired' : 'parent expired') : null,
      })),
    );
  };

  /** Lease events, in the expiration manager's transaction; holder and owner come from the lease row. */
  readonly lease = (event: LeaseLifecycleEvent): void => {
    const facts = this.leaseFacts.get(event.leaseId);
    const expired = event.kind === 'revoked' && event.reason === 'expired';
    const kind = expired ? 'lease.expired' : (`lease.${event.kind}` as const);
    this.ledger.record({
      event: kind,
      leaseId: event.leaseId,
      mount: facts?.mount_path,
      path: facts ? `${facts.mount_path}${facts.request_path}` : null,
      owner: facts?.owner,
      entityId: facts?.entity_id,
      accessor: facts?.token_accessor,
      actor: this.leaseActor(event, facts),
      // lease.issued: the reason is the requester's justification; the detail names the approvers.
      reason: event.kind === 'issued' ? (event.justification ?? null) : event.reason,
      detail: event.approvers && event.approvers.length > 0 ? `${event.detail ?? ''} approvers=${event.approvers.map((a) => a.entity_id).join(',')}`.trim() : event.detail,
    });
  };

  /**
   * Who caused a lease event: the requester where the manager knows one; a revocation the one who asked
   * for it (stored on the row, as the backend call may come later, in the sweep); the holder for its own
   * issue and renewals; the scheduler for expiries and its retries. A revocation whose requester was
   * not recorded (rows from before migration 015) stays null rather than blamed on the scheduler.
   */
  private leaseActor(event: LeaseLifecycleEvent, facts: LeaseFacts | undefined): string | null {
    if (event.actor) return event.actor;
    if (event.kind === 'issued' || event.kind === 'renewed') return facts?.entity_id ?? facts?.token_accessor ?? null;
    if (event.kind === 'revoked' && event.reason !== 'expired') return facts?.revoked_by ?? null;
    return SCHEDULER_ACTOR;
  }

  /**
   * `secret.released` for a static secret read (KV v1 reads, KV v2 `data/` reads), buffered: no
   * storage write on the read path. Only the path and version are recorded, never the value.
   */
  released(input: { mountType: string; mountPath: string; kvVersion: string | undefined; relativePath: string; identity: RequestIdentity; requestId: string; data: unknown }): void {
    if (input.mountType !== 'kv') return;
    const v2 = input.kvVersion === '2';
    if (v2 && !input.relativePath.startsWith('data/')) return;
    const version = v2 ? (input.data as { metadata?: { version?: unknown } } | null | undefined)?.metadata?.version : undefined;
    this.ledger.buffer({
      event: 'secret.released',
      mount: input.mountPath,
      path: `${input.mountPath}${input.relativePath}`,
      accessor: input.identity.accessor,
      entityId: entityOf(input.identity),
      owner: input.identity.owner,
      actor: entityOf(input.identity) ?? input.identity.accessor,
      requestId: input.requestId,
      detail: typeof version === 'number' ? `version=${version}` : null,
    });
  }

  /** The identity and offboarding operations' reports, as ledger events (wired as the vault's GovernanceEvents). */
  readonly governance: GovernanceEvents = {
    offboarded: (event) => {
      const selector = Object.entries(event.selector)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => `${key}=${value}`)
        .join(' ');
      this.ledger.record({
        event: 'offboarded',
        actor: event.actor,
        reason: event.reason,
        requestId: event.requestId,
        owner: event.selector.owner,
        entityId: event.entityIds.length === 1 ? event.entityIds[0] : null,
        detail: `${selector} entities=${event.entityIds.length} tokens_revoked=${event.tokensRevoked} leases_revoked=${event.leasesRevoked} leases_pending=${event.leasesPending}`,
      });
    },
    entityDisabled: (event) => {
      this.ledger.record({ event: 'entity.disabled', entityId: event.entityId, actor: event.actor, reason: event.reason, requestId: event.requestId });
    },
    runRevoked: (event) => {
      this.ledger.record({
        event: 'run.revoked',
        actor: event.actor,
        reason: event.reason,
        requestId: event.requestId,
        detail: `run_key=${event.runKey} tokens_revoked=${event.tokensRevoked} leases_revoked=${event.leasesRevoked} leases_pending=${event.leasesPending}`,
      });
    },
    webhookDelivered: (event) => {
      this.ledger.record({
        event: 'webhook.delivered',
        actor: `webhook:${event.receiver}`,
        requestId: event.requestId,
        detail: `receiver=${event.receiver} delivery=${event.deliveryId} run_keys=${event.runKeys.join(',')}`,
      });
    },
  };

  /** `entity.created`, in the transaction that stores the entity: by the requester of an identity/ write, or at first login by the entity itself. */
  readonly entityCreated = (entity: { id: string; name: string; metadata: Record<string, string> }, actor?: string | null): void => {
    this.ledger.record({ event: 'entity.created', entityId: entity.id, owner: entity.metadata.owner ?? null, actor: actor ?? entity.id, detail: `name=${entity.name}` });
  };
}
