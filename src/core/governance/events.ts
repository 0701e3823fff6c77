// The governance event hook: offboarding (and entity disables) report here. The default does
// nothing; the composition root wires it to the ledger (issue 16 section 5) at merge.

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
  entityDisabled(event: { entityId: string; actor: string; reason?: string; requestId?: string }): void;
}

/** The default: no ledger yet. */
export const NO_GOVERNANCE_EVENTS: GovernanceEvents = {
  offboarded: () => undefined,
  entityDisabled: () => undefined,
};
