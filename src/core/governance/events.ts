// The governance event hook: offboarding (and entity disables) report here; the composition root
// wires it to the ledger (LedgerEvents.governance).

/** One offboarding, as the ledger will record it. Never carries a secret. */
export interface OffboardedEvent {
  /** Who asked: the caller's entity id, else its token accessor. */
  actor: string;
  reason: string;
  selector: { entity_id?: string; owner?: string; mount_accessor?: string; role_name?: string };
  entityIds: string[];
  tokensRevoked: number;
  leasesRevoked: number;
  leasesPending: number;
  requestId: string;
}

/** Where governance operations report what they did. */
export interface GovernanceEvents {
  /** Called once per (non-dry-run) offboarding, after its revocations were attempted. */
  offboarded(event: OffboardedEvent): void;
  /** Called when an entity is disabled (offboarding or identity/ update). */
  entityDisabled(event: { entityId: string; actor: string | null; reason?: string; requestId?: string }): void;
}

/** The actor the ledger records for a request: the requesting token's entity, else its accessor (null: unauthenticated). */
export function requestActor(identity: { entityId?: string; accessor: string } | undefined): string | null {
  if (!identity) return null;
  return identity.entityId !== undefined && identity.entityId !== '' ? identity.entityId : identity.accessor;
}
