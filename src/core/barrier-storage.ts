// The barrier-encrypted key/value store behind every StorageView: the `entries` table, each
// value a barrier record bound to its full path.
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from '../storage/database';
import { type Barrier, utf8Text } from './barrier';
import type { StorageView } from './storage-view';

const encoder = new TextEncoder();

/** The smallest string greater than every string starting with `prefix` (for range scans). */
function prefixUpperBound(prefix: string): string {
  return prefix + '\u{10FFFF}';
}

/** Encrypted physical storage shared by all views; prepared statements are built once. */
export class BarrierStorage {
  private readonly getStmt: Statement<[string], { value: Buffer }>;
  private readonly putStmt: Statement<[string, Uint8Array]>;
  private readonly deleteStmt: Statement<[string]>;
  private readonly rangeStmt: Statement<[string, string], { path: string }>;

  constructor(
    readonly db: SqliteDatabase,
    readonly barrier: Barrier,
  ) {
    this.getStmt = db.prepare('SELECT value FROM entries WHERE path = ?');
    this.putStmt = db.prepare('INSERT INTO entries (path, value) VALUES (?, ?) ON CONFLICT (path) DO UPDATE SET value = excluded.value');
    this.deleteStmt = db.prepare('DELETE FROM entries WHERE path = ?');
    this.rangeStmt = db.prepare('SELECT path FROM entries WHERE path >= ? AND path < ? ORDER BY path');
  }

  get(path: string): Uint8Array | undefined {
    const row = this.getStmt.get(path);
    return row ? this.barrier.decrypt(path, row.value) : undefined;
  }

  put(path: string, value: Uint8Array): void {
    this.putStmt.run(path, this.barrier.encrypt(path, value));
  }

  delete(path: string): void {
    this.deleteStmt.run(path);
  }

  /** All stored paths starting with `prefix`. */
  keysWithPrefix(prefix: string): string[] {
    return this.rangeStmt.all(prefix, prefixUpperBound(prefix)).map((r) => r.path);
  }

  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    return this.db.transaction(fn)();
  }

  /** A view scoped to `prefix` (which should end in `/`). */
  view(prefix: string): StorageView {
    return new PrefixedView(this, prefix);
  }
}

class PrefixedView implements StorageView {
  constructor(
    private readonly store: BarrierStorage,
    private readonly prefix: string,
  ) {}

  get(key: string): Uint8Array | undefined {
    return this.store.get(this.prefix + key);
  }

  put(key: string, value: Uint8Array): void {
    this.store.put(this.prefix + key, value);
  }

  delete(key: string): void {
    this.store.delete(this.prefix + key);
  }

  list(prefix: string): string[] {
    const full = this.prefix + prefix;
    const children = new Set<string>();
    for (const path of this.store.keysWithPrefix(full)) {
      const rest = path.slice(full.length);
      const slash = rest.indexOf('/');
      children.add(slash < 0 ? rest : rest.slice(0, slash + 1));
    }
    return [...children].sort();
  }

  listRecursive(prefix: string): string[] {
    return this.store.keysWithPrefix(this.prefix + prefix).map((p) => p.slice(this.prefix.length));
  }

  transaction<T>(fn: () => T): T {
    return this.store.transaction(fn);
  }

  sub(prefix: string): StorageView {
    return new PrefixedView(this.store, this.prefix + prefix);
  }

  getJSON<T>(key: string): T | undefined {
    const bytes = this.get(key);
    return bytes ? (JSON.parse(utf8Text(bytes)) as T) : undefined;
  }

  putJSON(key: string, value: unknown): void {
    this.put(key, encoder.encode(JSON.stringify(value)));
  }
}
