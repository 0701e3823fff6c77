// Suite-wide teardown: stops every PostgreSQL cluster the run started (the shared one and any private
// cluster a test left running) and removes their temporary directory.
import fs from 'node:fs';
import path from 'node:path';
import { PG_ENV, clusterRunning, stopCluster } from './pg/control';

/** Stops clusters with `pg_ctl stop -m immediate` (nothing in them is worth a clean shutdown) and deletes the directory. */
export default async function globalTeardown(): Promise<void> {
  const baseDir = process.env[PG_ENV.baseDir];
  const binDir = process.env[PG_ENV.binDir];
  if (!baseDir || !binDir || !fs.existsSync(baseDir)) return;
  const runAs = process.env[PG_ENV.runAs] ?? '';
  for (const entry of fs.readdirSync(baseDir)) {
    const dataDir = path.join(baseDir, entry);
    if (!fs.existsSync(path.join(dataDir, 'postmaster.pid'))) continue;
    const info = { binDir, runAs, dataDir };
    try {
      if (clusterRunning(info)) stopCluster(info);
    } catch (error) {
      process.stderr.write(`could not stop the PostgreSQL test cluster in ${dataDir}: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
  fs.rmSync(baseDir, { recursive: true, force: true });
}
