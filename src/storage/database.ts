// Opens the SQLite store with the durability settings the design requires and applies migrations.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

export type SqliteDatabase = Database.Database;

/** Numbered SQL files, applied in order; resolved the same from src/ (tsx) and dist/ (compiled). */
export const MIGRATIONS_DIR = path.resolve(__dirname, '..', '..', 'migrations');

/**
 * Opens (creating if needed) the database at `file`, or an in-memory one for `:memory:`.
 * WAL with synchronous=FULL: a write acknowledged to a client survives a crash or power loss.
 */
export function openDatabase(file: string): SqliteDatabase {
  if (file !== ':memory:') {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // Create the file 0600 before SQLite does; SQLite gives -wal and -shm the main file's mode.
    fs.closeSync(fs.openSync(file, 'a', 0o600));
    fs.chmodSync(file, 0o600);
  }
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  applyMigrations(db);
  return db;
}

/** Applies every migration not yet recorded, all in one transaction. */
export function applyMigrations(db: SqliteDatabase, dir = MIGRATIONS_DIR): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  const pending = fs
    .readdirSync(dir)
    .filter((f) => /^\d+_[\w-]+\.sql$/.test(f))
    .map((f) => ({ version: Number(f.split('_')[0]), file: f }))
    .filter((m) => !applied.has(m.version))
    .sort((a, b) => a.version - b.version);
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const m of pending) {
      db.exec(fs.readFileSync(path.join(dir, m.file), 'utf8'));
      record.run(m.version, m.file, Date.now());
    }
  })();
  return pending.map((m) => m.file);
}
