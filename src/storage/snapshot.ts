// Snapshots of the SQLite store: an online copy taken with SQLite's backup API, as stored (every
// record already under the barrier), wrapped in a small file format with a header and a SHA-256
// over the whole file; and the restore side: check a file, stage it beside the live database,
// and swap it in with a rename.
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyMigrations, MIGRATIONS_DIR, type SqliteDatabase } from './database';
import { decodeSnapshot, encodeSnapshotYielding, SnapshotFormatError, type SnapshotHeader } from './snapshot-format';

export { decodeSnapshot, encodeSnapshot, encodeSnapshotYielding, SnapshotFormatError, type SnapshotHeader } from './snapshot-format';

/** The highest migration this build knows: a snapshot from a newer schema is refused. */
export function latestMigration(dir = MIGRATIONS_DIR): number {
  return Math.max(0, ...fs.readdirSync(dir).filter((f) => /^\d+_[\w-]+\.sql$/.test(f)).map((f) => Number(f.split('_')[0])));
}

function highestApplied(db: SqliteDatabase): number {
  return (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
}

function tempName(dir: string, base: string, kind: string): string {
  return path.join(dir, `${base}.${kind}-${randomBytes(6).toString('hex')}`);
}

/** Removes a database file and the WAL and shared-memory files SQLite may have left beside it. */
export function removeDatabaseFiles(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) fs.rmSync(`${file}${suffix}`, { force: true });
}

/**
 * A consistent online copy of `db`, as its database-file bytes. SQLite's backup API copies 100
 * pages per step with the event loop free between steps; writes made meanwhile on this same
 * connection are applied to the copy as they happen, so the copy is the database as of the last
 * step. `dir` holds the temporary file (the data directory; the OS temp dir for an in-memory store).
 */
export async function backupDatabase(db: SqliteDatabase, dir: string | undefined): Promise<Buffer> {
  const ownDir = dir === undefined ? fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-snapshot-')) : undefined;
  const file = tempName(ownDir ?? (dir as string), 'leasehold.db', 'snapshot');
  try {
    fs.closeSync(fs.openSync(file, 'wx', 0o600));
    await db.backup(file, { progress: () => 100 });
    return await fs.promises.readFile(file);
  } finally {
    removeDatabaseFiles(file);
    if (ownDir) fs.rmSync(ownDir, { recursive: true, force: true });
  }
}

/** Takes a snapshot of `db`: the backup copy in the snapshot format. */
export async function takeSnapshot(db: SqliteDatabase, options: { dir?: string; clusterId?: string; now: Date }): Promise<Buffer> {
  const content = await backupDatabase(db, options.dir);
  return encodeSnapshotYielding(content, { createdAt: options.now, clusterId: options.clusterId, schemaVersion: highestApplied(db) });
}

/** A checked snapshot written beside the live database, ready to be renamed over it. */
export interface StagedRestore {
  file: string;
  header: SnapshotHeader;
  /** Active leases in the snapshot already past their expiry: the expiration manager revokes them after unseal. */
  expiredLeases: number;
  /** Leases the snapshot holds as being revoked (retries pending): they resume after unseal. */
  pendingRevocations: number;
}

/**
 * Checks a snapshot file, writes its database to a temporary file in `dir` (the data directory,
 * so the swap is a rename on one file system), fsyncs it, and checks it opens as a Leasehold
 * store. Nothing live changes; on any failure the temporary file is removed. Throws SnapshotFormatError.
 */
export function stageRestore(file: Buffer, dir: string, nowMs: number): StagedRestore {
  const { header, content } = decodeSnapshot(file);
  const staged = tempName(dir, 'leasehold.db', 'restore');
  try {
    const fd = fs.openSync(staged, 'wx', 0o600);
    try {
      let written = 0;
      while (written < content.length) written += fs.writeSync(fd, content, written, content.length - written);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    let db: SqliteDatabase | undefined;
    try {
      db = new Database(staged, { fileMustExist: true });
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new SnapshotFormatError('snapshot database fails its integrity check');
      const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
      for (const table of ['schema_migrations', 'seal_config', 'entries', 'tokens', 'leases']) {
        if (!tables.has(table)) throw new SnapshotFormatError('snapshot database is not a Leasehold store');
      }
      const schema = highestApplied(db);
      if (schema > latestMigration()) throw new SnapshotFormatError(`snapshot comes from a newer Leasehold (schema ${schema}); upgrade this server first`);
      if (!db.prepare('SELECT 1 FROM seal_config WHERE id = 1').get()) throw new SnapshotFormatError('snapshot is of a vault that was never initialised');
      // A snapshot from an older build is brought to this schema here, before the swap, so the swap cannot fail on it.
      try {
        applyMigrations(db);
      } catch {
        throw new SnapshotFormatError(`snapshot (schema ${schema}) cannot be upgraded to this server's schema`);
      }
      const count = (sql: string, ...args: unknown[]) => (db as SqliteDatabase).prepare(sql).pluck().get(...args) as number;
      const expiredLeases = count("SELECT COUNT(*) FROM leases WHERE state = 'active' AND expire_at <= ?", nowMs);
      const pendingRevocations = count("SELECT COUNT(*) FROM leases WHERE state IN ('revoking', 'irrevocable')");
      db.close();
      db = undefined;
      // The migrations and the checkpoint changed the file after the first fsync.
      const again = fs.openSync(staged, 'r+');
      try {
        fs.fsyncSync(again);
      } finally {
        fs.closeSync(again);
      }
      return { file: staged, header, expiredLeases, pendingRevocations };
    } catch (error) {
      if (error instanceof SnapshotFormatError) throw error;
      throw new SnapshotFormatError('snapshot database cannot be opened');
    } finally {
      // Closing the last connection checkpoints and removes the -wal and -shm files.
      db?.close();
    }
  } catch (error) {
    removeDatabaseFiles(staged);
    throw error;
  }
}

/**
 * Puts a staged database in place of `target`, whose connection must be closed: a rename (atomic on
 * POSIX file systems) and an fsync of the directory, so after a crash either the old store or the
 * snapshot is there, whole. Leftover -wal/-shm files of the old store are removed first so they are
 * never applied to the new one.
 */
export function swapInStaged(staged: StagedRestore, target: string): void {
  for (const suffix of ['-wal', '-shm', '-journal']) fs.rmSync(`${target}${suffix}`, { force: true });
  fs.renameSync(staged.file, target);
  const dirFd = fs.openSync(path.dirname(target), 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}

/** Removes staged restores a crash left behind (they are never half-applied: the swap is a rename). */
export function removeLeftoverStaging(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    if (/^leasehold\.db\.(restore|snapshot)-[0-9a-f]{12}(-wal|-shm|-journal)?$/.test(name)) fs.rmSync(path.join(dir, name), { force: true });
  }
}
