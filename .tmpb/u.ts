import Database from 'better-sqlite3';
import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path'; import { randomBytes } from 'node:crypto';
const schema = fs.readFileSync('migrations/002_leases.sql', 'utf8');
function run(rowid: boolean) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upd-'));
  const db = new Database(path.join(dir, 'x.db')); db.pragma('journal_mode = WAL'); db.pragma('synchronous = FULL');
  let sql = schema;
  if (rowid) sql = sql.replace('lease_id TEXT PRIMARY KEY,', 'lease_id TEXT NOT NULL UNIQUE,').replace(') WITHOUT ROWID;', ');');
  db.exec(sql);
  const ins = db.prepare(`INSERT INTO leases (lease_id, mount_uuid, mount_path, request_path, secret_type, issued_at, expire_at, max_expire_at, renewable, state, payload) VALUES (?, 'u', 'instant/', 'creds/bench', 'instant', 1, ?, 1, 0, 'active', ?)`);
  let t = performance.now();
  for (let b = 0; b < 100; b++) db.transaction(() => { for (let i = 0; i < 1000; i++) ins.run('instant/creds/bench/' + randomBytes(18).toString('base64url'), 1000 + b * 1000 + i, randomBytes(150)); })();
  const tIns = performance.now() - t;
  const upd = db.prepare("UPDATE leases SET state = 'revoked', revoked_at = ?, revocation_reason = COALESCE(revocation_reason, ?), next_attempt_at = NULL WHERE lease_id = ?");
  const sel = db.prepare("SELECT * FROM leases INDEXED BY leases_active_by_expiry WHERE state = 'active' AND expire_at <= ? ORDER BY expire_at LIMIT ?");
  let tSel = 0, tUpd = 0, n = 0;
  for (;;) {
    t = performance.now(); const rows = sel.all(1e12, 200) as any[]; tSel += performance.now() - t; if (rows.length === 0) break;
    t = performance.now(); db.transaction(() => { for (const r of rows) upd.run(5, 'expired', r.lease_id); })(); tUpd += performance.now() - t; n += rows.length;
  }
  const wal = fs.statSync(path.join(dir, 'x.db-wal')).size;
  console.log(rowid ? 'rowid       ' : 'without rowid', 'insert us/row', (tIns * 1000 / n).toFixed(1), 'select us/row', (tSel * 1000 / n).toFixed(2), 'update+commit us/row', (tUpd * 1000 / n).toFixed(2), 'wal MB', (wal / 1e6).toFixed(0));
  db.close(); fs.rmSync(dir, { recursive: true });
}
run(false); run(true); run(false); run(true);
