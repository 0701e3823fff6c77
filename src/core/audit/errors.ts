// Errors raised by the audit subsystem; mapped to HTTP by the same single handler as every VaultError.
import { VaultError } from '../../errors';

/**
 * 500: audit devices are enabled but none could record the entry. Vault fails closed here:
 * a request that cannot be audited is refused rather than served unrecorded.
 */
export class AuditFailureError extends VaultError {
  constructor() {
    super(500, 'audit: no audit device could record the request; request refused');
  }
}
