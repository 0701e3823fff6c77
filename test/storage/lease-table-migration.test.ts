// Migration 004 turns the lease table into a rowid table: a store written by an older Leasehold keeps
// every lease, every column and every index, and rows end up in issuance order.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { applyMigrations, MIGRATIONS_DIR } from '../../src/storage/database';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-migrate-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A database at the schema of the migrations before `version`, as an older release left it. */
function databaseBefore(version: number): Database.Database {
  const older = path.join(dir, 'older');
  fs.mkdirSync(older);
  for (const file of fs.readdirSync(MIGRATIONS_DIR)) if (Number(file.split('_')[0]) < version) fs.copyFileSync(path.join(MIGRATIONS_DIR, file), path.join(older, file));
  const db = new Database(path.join(dir, 'leasehold.db'));
  applyMigrations(db, older);
  return db;
}

const tableSql = (db: Database.Database) => (db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'leases'").get() as { sql: string }).sql;
const indexNames = (db: Database.Database) =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'leases' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);

describe('migration 004: leases as a rowid table', () => {
  it('keeps every lease and column, in issuance order, with the same indexes', () => {
    const db = databaseBefore(4);
    expect(tableSql(db)).toMatch(/WITHOUT ROWID/);
    const indexesBefore = indexNames(db);
    const insert = db.prepare(`INSERT INTO leases (lease_id, mount_uuid, mount_path, request_path, secret_type, token_accessor, identity, owner, issued_at, expire_at,
      max_expire_at, last_renewed_at, renewable, state, attempts, next_attempt_at, last_error, revoked_at, revocation_reason, payload)
      VALUES (?, 'uuid-1', 'db/', 'creds/ro', 'creds', ?, 'approle-ci', 'team-a', ?, ?, ?, NULL, 1, ?, ?, ?, ?, ?, ?, ?)`);
    // Ids sort in the opposite order to issuance, as random suffixes would.
    const leases = [
      ['db/creds/ro/zzz', 'acc-1', 3000, 9000, 99000, 'active', 0, null, null, null, null, Buffer.from([1, 2, 3])],
      ['db/creds/ro/mmm', null, 2000, 8000, 98000, 'irrevocable', 6, 5000, 'connection refused', null, 'expired', Buffer.from([4])],
      ['db/creds/ro/aaa', 'acc-2', 1000, 7000, 97000, 'revoked', 0, null, null, 7500, 'token-revoked', Buffer.from([5, 6])],
    ] as const;
    for (const l of leases) insert.run(...l);
    const before = db.prepare('SELECT * FROM leases ORDER BY lease_id').all();

    // Later migrations (009_cluster_id, ...) apply too; of the ones up to 004, only 004 is new.
    expect(applyMigrations(db).filter((name) => name < '005')).toEqual(['004_leases_rowid.sql']);

    expect(tableSql(db)).not.toMatch(/WITHOUT ROWID/);
    expect(db.prepare('SELECT * FROM leases ORDER BY lease_id').all()).toEqual(before);
    expect((db.prepare('SELECT lease_id FROM leases ORDER BY rowid').all() as { lease_id: string }[]).map((r) => r.lease_id)).toEqual([
      'db/creds/ro/aaa',
      'db/creds/ro/mmm',
      'db/creds/ro/zzz',
    ]);
    expect(indexNames(db)).toEqual(indexesBefore);
    // lease_id stays unique.
    expect(() => insert.run('db/creds/ro/zzz', null, 1, 1, 1, 'active', 0, null, null, null, null, Buffer.from([0]))).toThrow(/UNIQUE/);
    db.close();
  });
});
