// An exclusive lock on a data directory, held for the life of the process: a second server on
// the same directory would keep its own cached tokens, policies, mounts and keyring and silently
// diverge (issue 15 item 16). Node has no flock, so the lock is SQLite's own: a separate lock
// database opened with locking_mode=EXCLUSIVE keeps its POSIX lock from the first write until
// the connection closes, and the OS drops it when the process dies, SIGKILL included.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

export const LOCK_FILE = 'leasehold.lock';

/** A held data-directory lock; `release` is idempotent. */
export interface DataDirLock {
  file: string;
  release(): void;
}

/** Raised when another process holds the data directory. */
export class DataDirLockedError extends Error {
  constructor(dir: string) {
    super(`the data directory ${JSON.stringify(dir)} is in use by another leasehold server (lock ${LOCK_FILE} is held); stop it first`);
    this.name = 'DataDirLockedError';
  }
}

/** Takes the exclusive lock on `dir`, or throws DataDirLockedError at once if another process holds it. */
export function lockDataDir(dir: string): DataDirLock {
  const file = path.join(dir, LOCK_FILE);
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  fs.chmodSync(file, 0o600);
  const db = new Database(file, { timeout: 0 });
  try {
    db.pragma('journal_mode = DELETE');
    db.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock; in EXCLUSIVE mode it is kept after commit.
    db.exec('CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, since_ms INTEGER NOT NULL)');
    db.prepare('INSERT OR REPLACE INTO holder (id, pid, since_ms) VALUES (1, ?, ?)').run(process.pid, Date.now());
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY') || (error as { code?: string }).code?.startsWith('SQLITE_LOCKED')) throw new DataDirLockedError(dir);
    throw error;
  }
  let released = false;
  return {
    file,
    release: () => {
      if (released) return;
      released = true;
      db.close();
    },
  };
}
