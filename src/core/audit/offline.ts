// Disabling an audit device on a stopped server, from its data directory. The device table lives
// behind the barrier, so this needs the threshold of unseal keys: an edit that needed only write
// access to the data directory would let anyone with that access turn auditing off unnoticed.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../logger';
import { builtinRegistry } from '../../engines/registry';
import { openDatabase } from '../../storage/database';
import { systemClock } from '../../util/clock';
import { BadRequestError } from '../../errors';
import { Vault } from '../vault';
import { normaliseAuditPath } from './broker';

/** The database file's name in a data directory (as the server names it). */
const DATABASE_FILE = 'leasehold.db';

/** The outcome: whether a device was at `path`, and the devices left enabled. */
export interface OfflineDisableResult {
  removed: boolean;
  remaining: string[];
}

/**
 * Unseals the data directory's vault in this process (no listener, no background jobs), disables
 * the device at `rawPath`, and seals again. `keys` are unseal key shares, at least the threshold.
 */
export async function disableAuditDeviceOffline(dataDir: string, rawPath: string, keys: readonly string[], logger: Logger): Promise<OfflineDisableResult> {
  const auditPath = normaliseAuditPath(rawPath);
  const file = path.join(dataDir, DATABASE_FILE);
  if (!fs.existsSync(file)) throw new BadRequestError(`no Leasehold database in "${dataDir}"`);
  const db = openDatabase(file);
  try {
    const vault = new Vault({ db, clock: systemClock, logger, registry: builtinRegistry(), scheduler: false });
    if (!vault.seal.initialized) throw new BadRequestError('the vault in this data directory is not initialized');
    let unsealed = false;
    for (const key of keys) {
      unsealed = await vault.seal.submitShare(key);
      if (unsealed) break;
    }
    if (!unsealed) throw new BadRequestError(`not enough unseal keys: ${vault.seal.status().threshold} are needed`);
    try {
      const removed = Object.prototype.hasOwnProperty.call(vault.audit.list(), auditPath);
      vault.audit.disable(auditPath);
      return { removed, remaining: Object.keys(vault.audit.list()) };
    } finally {
      await vault.seal.seal();
    }
  } finally {
    db.close();
  }
}
