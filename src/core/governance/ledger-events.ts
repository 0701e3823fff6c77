// Turns what the token store, the expiration manager and the request pipeline report into ledger
// events, filling holder and owner from the stored rows. Kept apart from those hot files so their
// edits stay one-line hooks.
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from '../../storage/database';
import type { LeaseLifecycleEvent } from '../expiration';
import type { RequestIdentity } from '../framework';
import type { TokenEntry } from '../tokens';
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
}

/** An entity id, where the identity work has put one on the record (absent today). */
function entityOf(value: unknown): string | null {
  const id = (value as { entityId?: unknown } | undefined)?.entityId;
  return typeof id === 'string' && id !== '' ? id : null;
}

/** The hooks the composition root wires into the token store, the expiration manager and the pipeline. */
export class LedgerEvents {
  private readonly leaseFacts: Statement<[string], LeaseFacts>;
  private revokingExpired = false;

  constructor(
    private readonly ledger: Ledger,
    db: SqliteDatabase,
  ) {
    this.leaseFacts = db.prepare('SELECT mount_path, request_path, token_accessor, owner, entity_id FROM leases WHERE lease_id = ?');
  }

  /** `token.created`, in the transaction that stores the token. */
  readonly tokenCreated = (entry: TokenEntry): void => {
    this.ledger.record({
      event: 'token.created',
      accessor: entry.accessor,
      entityId: entityOf(entry),
      owner: entry.owner,
      actor: entry.parentAccessor ?? entityOf(entry) ?? entry.accessor,
      mount: entry.authPath,
      detail: `policies=${entry.policies.join(',')}`,
    });
  };

  /** `token.revoked` (or `token.expired` inside `expiring`), in the transaction that deletes the tokens. */
  readonly tokensRevoked = (accessors: string[]): void => {
    if (accessors.length === 0) return;
    const expired = this.revokingExpired;
    this.ledger.record(
      ...accessors.map((accessor, i): LedgerEventInput => ({
        event: expired && i === 0 ? 'token.expired' : 'token.revoked',
        accessor,
        actor: expired ? SCHEDULER_ACTOR : null,
        reason: expired ? (i === 0 ? 'expired' : 'parent expired') : null,
      })),
    );
  };

  /** Runs the expired-token job so its revocations are recorded as `token.expired` by the scheduler. */
  expiring<T>(run: () => T): T {
    this.revokingExpired = true;
    try {
      return run();
    } finally {
      this.revokingExpired = false;
    }
  }

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
      actor: expired || event.kind === 'irrevocable' || event.kind === 'revoke_failed' ? SCHEDULER_ACTOR : event.kind === 'issued' || event.kind === 'renewed' ? facts?.token_accessor : null,
      reason: event.reason,
      detail: event.detail,
    });
  };

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

  /** `entity.created`, in the transaction that stores the entity (first login or identity/ write). */
  readonly entityCreated = (entity: { id: string; name: string; metadata: Record<string, string> }): void => {
    this.ledger.record({ event: 'entity.created', entityId: entity.id, owner: entity.metadata.owner ?? null, detail: `name=${entity.name}` });
  };
}
