// Offboarding: take everything away from a holder or owner at once. Finds the tokens and leases
// recorded with an entity, an owner, or an issuing (mount accessor, role), revokes the tokens with
// their children and the leases through their backends (before answering), and disables the
// entities so new logins are refused. A lease is reported revoked only once its row says so.
import type { SqliteDatabase } from '../../storage/database';
import type { ExpirationManager } from '../expiration';
import type { IdentityStore } from '../identity/identity-store';
import type { TokenStore } from '../tokens';
import type { GovernanceEvents } from './events';

/** Exactly one of: an entity, an owner, or an issuing mount accessor with a role name. */
export type OffboardSelector = { entity_id: string } | { owner: string } | { mount_accessor: string; role_name: string };

/** What an offboarding did, or with dry_run would do. */
export interface OffboardResult {
  entities: number;
  entities_disabled: number;
  tokens_revoked: number;
  leases_revoked: number;
  leases_pending: number;
  tokens?: string[];
  leases?: string[];
}

/** Deps of the offboarder, narrowed to what it uses; wired in the composition root. */
export interface OffboardDeps {
  db: SqliteDatabase;
  tokens: Pick<TokenStore, 'revokeTree'>;
  expiration: Pick<ExpirationManager, 'revoke' | 'state'>;
  identity: Pick<IdentityStore, 'entityIdsByOwner' | 'entityById' | 'disableEntities'>;
  events: () => GovernanceEvents;
}

/** Backend revocations in flight at once (each may hold a database connection). */
const REVOKE_CONCURRENCY = 8;
const LIVE = "state IN ('active', 'revoking', 'irrevocable')";

/** Offboarding and the lease half of disabling an entity. */
export class Offboarder {
  constructor(private readonly deps: OffboardDeps) {}

  /** Entities a selector covers. */
  private entityIds(selector: OffboardSelector): string[] {
    if ('entity_id' in selector) return this.deps.identity.entityById(selector.entity_id) ? [selector.entity_id] : [];
    if ('owner' in selector) return this.deps.identity.entityIdsByOwner(selector.owner);
    const rows = this.deps.db
      .prepare('SELECT DISTINCT entity_id FROM tokens WHERE mount_accessor = ? AND role_name = ? AND entity_id IS NOT NULL')
      .all(selector.mount_accessor, selector.role_name) as { entity_id: string }[];
    return rows.map((r) => r.entity_id);
  }

  /** Root tokens of the selection (children follow by the tree), by index. */
  private tokenRoots(selector: OffboardSelector, entityIds: string[]): string[] {
    const out = new Set<string>();
    const byEntity = this.deps.db.prepare('SELECT accessor FROM tokens WHERE entity_id = ?');
    for (const id of entityIds) for (const r of byEntity.all(id) as { accessor: string }[]) out.add(r.accessor);
    if ('owner' in selector) for (const r of this.deps.db.prepare('SELECT accessor FROM tokens WHERE owner = ?').all(selector.owner) as { accessor: string }[]) out.add(r.accessor);
    if ('mount_accessor' in selector) {
      const rows = this.deps.db.prepare('SELECT accessor FROM tokens WHERE mount_accessor = ? AND role_name = ?').all(selector.mount_accessor, selector.role_name) as { accessor: string }[];
      for (const r of rows) out.add(r.accessor);
    }
    return [...out];
  }

  /** Every accessor in the trees under `roots` (the token and its children, recursively). */
  private withChildren(roots: string[]): string[] {
    const children = this.deps.db.prepare('SELECT accessor FROM tokens WHERE parent_accessor = ?');
    const seen = new Set<string>();
    const stack = [...roots];
    while (stack.length > 0) {
      const current = stack.pop() as string;
      if (seen.has(current)) continue;
      seen.add(current);
      for (const r of children.all(current) as { accessor: string }[]) stack.push(r.accessor);
    }
    return [...seen];
  }

  /** Live leases held by the selection or created by its tokens. */
  private leaseIds(selector: OffboardSelector, entityIds: string[], accessors: string[]): string[] {
    const out = new Set<string>();
    const byEntity = this.deps.db.prepare(`SELECT lease_id FROM leases WHERE entity_id = ? AND ${LIVE}`);
    for (const id of entityIds) for (const r of byEntity.all(id) as { lease_id: string }[]) out.add(r.lease_id);
    if ('owner' in selector) for (const r of this.deps.db.prepare(`SELECT lease_id FROM leases WHERE owner = ? AND ${LIVE}`).all(selector.owner) as { lease_id: string }[]) out.add(r.lease_id);
    if ('mount_accessor' in selector) {
      const rows = this.deps.db.prepare(`SELECT lease_id FROM leases WHERE mount_accessor = ? AND role_name = ? AND ${LIVE}`).all(selector.mount_accessor, selector.role_name) as { lease_id: string }[];
      for (const r of rows) out.add(r.lease_id);
    }
    const byToken = this.deps.db.prepare(`SELECT lease_id FROM leases WHERE token_accessor = ? AND ${LIVE}`);
    for (const accessor of accessors) for (const r of byToken.all(accessor) as { lease_id: string }[]) out.add(r.lease_id);
    return [...out].sort();
  }

  /**
   * Revokes leases through their backends now; returns how many the backend confirmed and how many
   * stay queued (the scheduler retries them with backoff, visibly).
   */
  async revokeLeases(leaseIds: string[], actor: string | null): Promise<{ revoked: number; pending: number }> {
    let revoked = 0;
    let next = 0;
    const worker = async () => {
      while (next < leaseIds.length) {
        const leaseId = leaseIds[next++] as string;
        try {
          await this.deps.expiration.revoke(leaseId, { sync: true, actor });
        } catch {
          // Stays queued for retry; reported as pending below.
        }
        if (this.deps.expiration.state(leaseId)?.state === 'revoked') revoked++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(REVOKE_CONCURRENCY, leaseIds.length) }, worker));
    return { revoked, pending: leaseIds.length - revoked };
  }

  /** Revokes the live leases an entity holds (identity/ update with disabled=true), for `actor` (who asked). */
  async revokeEntityLeases(entityId: string, actor: string | null): Promise<{ revoked: number; pending: number }> {
    return this.revokeLeases(this.leaseIds({ entity_id: entityId }, [entityId], []), actor);
  }

  /** Offboards the selection; with `dryRun` only reports what it would do. */
  async offboard(input: { selector: OffboardSelector; reason: string; dryRun: boolean; actor: string; requestId: string }): Promise<OffboardResult> {
    const entityIds = this.entityIds(input.selector);
    const roots = this.tokenRoots(input.selector, entityIds);
    const accessors = this.withChildren(roots);
    const leases = this.leaseIds(input.selector, entityIds, accessors);
    const enabled = entityIds.filter((id) => this.deps.identity.entityById(id)?.disabled === false);
    if (input.dryRun) {
      return {
        entities: entityIds.length,
        entities_disabled: enabled.length,
        tokens_revoked: accessors.length,
        leases_revoked: leases.length,
        leases_pending: 0,
        tokens: accessors.sort(),
        leases,
      };
    }
    // Entities first: no new login slips in while the rest goes.
    const disabled = this.deps.identity.disableEntities(entityIds);
    let tokensRevoked = 0;
    for (const accessor of roots) tokensRevoked += this.deps.tokens.revokeTree(accessor, { actor: input.actor }).length;
    const { revoked, pending } = await this.revokeLeases(leases, input.actor);
    const events = this.deps.events();
    for (const id of enabled) events.entityDisabled({ entityId: id, actor: input.actor, reason: input.reason, requestId: input.requestId });
    events.offboarded({
      actor: input.actor,
      reason: input.reason,
      selector: input.selector,
      entityIds,
      tokensRevoked,
      leasesRevoked: revoked,
      leasesPending: pending,
      requestId: input.requestId,
    });
    return { entities: entityIds.length, entities_disabled: disabled, tokens_revoked: tokensRevoked, leases_revoked: revoked, leases_pending: pending };
  }
}
