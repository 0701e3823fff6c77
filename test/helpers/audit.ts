// A file audit device that opened and wrote fine at enable, then fails every write: its file is
// replaced by a directory and the devices are reloaded (what an unseal or restart does).
import fs from 'node:fs';
import type { AuditBroker } from '../../src/core/audit/broker';

/** Makes the device writing to `file` fail from now on, the way a lost disk or a bad edit would. */
export function breakAuditFile(broker: AuditBroker, file: string): void {
  broker.unload();
  fs.rmSync(file, { force: true });
  fs.mkdirSync(file);
  broker.load();
}
