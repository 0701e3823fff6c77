// The token store: tokens exist in storage only as HMAC(token key, token); the plaintext token
// exists only in the response that created it. Expiry and use counts are enforced on every lookup.
import { createHmac, randomBytes } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from '../storage/database';
import type { Clock } from '../util/clock';
import { merged } from '../util/objects';
import type { Barrier } from './barrier';

const TOKEN_HMAC_PURPOSE = 'token-hmac-v1';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A random base62 string of `length` characters, without modulo bias. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** Everything the vault knows about a token except the token itself. Stored encrypted. */
export interface TokenEntry {
  accessor: string;
  policies: string[];
  meta: Record<string, string>;
  displayName: string;
  /** The auth mount that created it, e.g. `auth/token/`, `auth/approle/`. */
  authPath: string;
  parentAccessor: string | null;
  createdAtMs: number;
  /** The TTL granted at creation or last renewal (0 only for root tokens without expiry). */
  ttlSeconds: number;
  explicitMaxTtlSeconds: number;
  periodSeconds: number;
  /** Uses granted at creation; 0 means unlimited. */
  numUses: number;
  renewable: boolean;
  orphan: boolean;
  type: 'service';
  /** The token role used at creation, if any. */
  role?: string;
  /** Accountable owner (governance), where given. */
  owner?: string;
  /** The holder: the identity entity this token belongs to (indexed column `entity_id`). */
  entityId?: string;
  /** Accessor of the issuing auth mount (indexed column `mount_accessor`). */
  mountAccessor?: string;
  /** The AppRole or JWT role of a login token (indexed column `role_name`; token roles are in `role`). */
  loginRole?: string;
  /** The CI run this token is bound to (JWT roles with run_claims; children inherit it; indexed column `run_key`). */
  runKey?: string;
  /** Client CIDRs this token may be used from. */
  boundCidrs?: string[];
  /** Auth-method data needed to renew (role name, ...). */
  internalData?: Record<string, unknown>;
  /** When the token last had its TTL extended. */
  lastRenewedAtMs?: number;
}

/** A revoked token as its row said: the ledger's `token.revoked` names the holder and owner. */
export interface RevokedToken {
  accessor: string;
  entityId: string | null;
  owner: string | null;
}

/** Why tokens are revoked: who asked (see requestActor; `scheduler` for the expiry job), and whether the first one expired. */
export interface RevocationCause {
  actor: string | null;
  /** The first token revoked had expired (its children go with it). */
  expired?: boolean;
}

const NO_CAUSE: RevocationCause = { actor: null };

/** A live token: its entry plus the mutable columns. */
export interface TokenRecord {
  entry: TokenEntry;
  expireAtMs: number | null;
  usesRemaining: number | null;
}

interface TokenRow {
  token_hash: Buffer;
  accessor: string;
  parent_accessor: string | null;
  created_at: number;
  expire_at: number | null;
  uses_remaining: number | null;
  entry: Buffer;
}

/** Deps the token store needs; wired in the composition root. */
export interface TokenStoreDeps {
  db: SqliteDatabase;
  barrier: Barrier;
  clock: Clock;
}

/** Creates, looks up, renews and revokes tokens. Leases are revoked by the expiration manager via `onRevoke`. */
export class TokenStore {
  private readonly insert: Statement<[Buffer, string, string | null, number, number | null, number | null, Uint8Array, string, string | null, string | null, string | null, string | null, string | null]>;
  private readonly byAuthPath: Statement<[string], { accessor: string }>;
  private readonly byHash: Statement<[Buffer], TokenRow>;
  private readonly byAccessor: Statement<[string], TokenRow>;
  private readonly existsStmt: Statement<[string], { one: number }>;
  private readonly children: Statement<[string], { accessor: string }>;
  private readonly deleteByAccessor: Statement<[string], { accessor: string; entity_id: string | null; owner: string | null }>;
  private readonly useOnce: Statement<[Buffer], { uses_remaining: number }>;
  private readonly updateExpiry: Statement<[number | null, Uint8Array, string]>;
  private readonly orphanChildren: Statement<[string]>;
  /** Any expired ancestor of a token (the expiry job revokes children within seconds; use must not wait for it). */
  private readonly ancestorExpiry: Statement<[string], { bound: number | null }>;
  /**
   * The earliest expiry among each cached token's ancestors (null: none expires), so the hot path
   * does not walk the parent chain per request. Cleared with the cache and on any expiry change.
   */
  private readonly ancestorBoundByAccessor = new Map<string, number | null>();
  private readonly revokeListeners: ((revoked: RevokedToken[], cause: RevocationCause) => void)[] = [];
  private readonly createListeners: ((entry: TokenEntry, actor: string | null) => void)[] = [];
  /**
   * Decrypted entries of recently used tokens, by token hash: the hot path then skips a SELECT and
   * a decrypt. Only tokens without use limits are cached; every revocation, renewal and seal
   * invalidates, and expiry is still checked on each lookup.
   */
  private readonly cache = new Map<string, TokenRecord>();
  private readonly cacheKeyByAccessor = new Map<string, string>();
  private static readonly CACHE_LIMIT = 10_000;

  constructor(private readonly deps: TokenStoreDeps) {
    const { db } = deps;
    this.insert = db.prepare(
      'INSERT INTO tokens (token_hash, accessor, parent_accessor, created_at, expire_at, uses_remaining, entry, auth_path, entity_id, owner, mount_accessor, role_name, run_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.byAuthPath = db.prepare('SELECT accessor FROM tokens WHERE auth_path = ?');
    this.byHash = db.prepare('SELECT * FROM tokens WHERE token_hash = ?');
    this.byAccessor = db.prepare('SELECT * FROM tokens WHERE accessor = ?');
    this.existsStmt = db.prepare('SELECT 1 AS one FROM tokens WHERE accessor = ?');
    this.children = db.prepare('SELECT accessor FROM tokens WHERE parent_accessor = ?');
    // RETURNING the holder columns: the ledger records who held each revoked token without another read.
    this.deleteByAccessor = db.prepare('DELETE FROM tokens WHERE accessor = ? RETURNING accessor, entity_id, owner');
    this.useOnce = db.prepare(
      'UPDATE tokens SET uses_remaining = uses_remaining - 1 WHERE token_hash = ? AND uses_remaining > 0 RETURNING uses_remaining',
    );
    this.updateExpiry = db.prepare('UPDATE tokens SET expire_at = ?, entry = ? WHERE accessor = ?');
    this.orphanChildren = db.prepare('UPDATE tokens SET parent_accessor = NULL WHERE parent_accessor = ?');
    this.ancestorExpiry = db.prepare(
      `WITH RECURSIVE chain(accessor, depth) AS (SELECT ?, 0 UNION ALL SELECT t.parent_accessor, c.depth + 1 FROM tokens t JOIN chain c ON t.accessor = c.accessor WHERE t.parent_accessor IS NOT NULL AND c.depth < 64)
       SELECT MIN(t.expire_at) AS bound FROM tokens t JOIN chain c ON t.accessor = c.accessor`,
    );
  }

  /** Called inside the revoking transaction with every token revoked (root of the tree first) and the cause, so leases go with their token. */
  onRevoke(listener: (revoked: RevokedToken[], cause: RevocationCause) => void): void {
    this.revokeListeners.push(listener);
  }

  /** Called right after a token is stored, with who asked for it (the governance ledger's `token.created`). */
  onCreate(listener: (entry: TokenEntry, actor: string | null) => void): void {
    this.createListeners.push(listener);
  }

  /** HMAC of a token under the token sub-key: the only form in which tokens are stored. */
  hash(token: string): Buffer {
    return createHmac('sha256', this.deps.barrier.subKey(TOKEN_HMAC_PURPOSE)).update(token).digest();
  }

  /**
   * Stores a new token. `tokenValue` is only for the dev root token id and Vault's `id` field (root only).
   * `actor` is who asked (see requestActor); a login passes none and the ledger names the new holder.
   */
  create(entry: Omit<TokenEntry, 'accessor' | 'createdAtMs'>, tokenValue?: string, actor: string | null = null): { token: string; record: TokenRecord } {
    const token = tokenValue ?? `hvs.${randomBase62(24)}`;
    const nowMs = this.deps.clock.nowMs();
    const full: TokenEntry = merged(entry, { accessor: randomBase62(24), createdAtMs: nowMs } satisfies Partial<TokenEntry>);
    const expireAtMs = full.ttlSeconds > 0 ? nowMs + full.ttlSeconds * 1000 : null;
    const usesRemaining = full.numUses > 0 ? full.numUses : null;
    const tokenHash = this.hash(token);
    const sealed = this.seal(full);
    // One transaction: the token and its ledger event are stored together or not at all.
    this.deps.db.transaction(() => {
      this.insert.run(
        tokenHash,
        full.accessor,
        full.parentAccessor,
        nowMs,
        expireAtMs,
        usesRemaining,
        sealed,
        full.authPath,
        full.entityId ?? null,
        full.owner ?? null,
        full.mountAccessor ?? null,
        full.loginRole ?? full.role ?? null,
        full.runKey ?? null,
      );
      for (const listener of this.createListeners) listener(full, actor);
    })();
    return { token, record: { entry: full, expireAtMs, usesRemaining } };
  }

  /** The live token for `token`, or undefined if unknown or expired. Does not consume a use. */
  lookup(token: string): TokenRecord | undefined {
    if (token.length === 0 || token.length > 512) return undefined;
    const hash = this.hash(token);
    const key = hash.toString('base64');
    const cached = this.cache.get(key);
    if (cached) {
      if (cached.expireAtMs !== null && cached.expireAtMs <= this.deps.clock.nowMs()) return undefined;
      return this.ancestorsLive(cached) ? cached : undefined;
    }
    const row = this.byHash.get(hash);
    const record = row ? this.live(row) : undefined;
    if (!record || !this.ancestorsLive(record)) return undefined;
    if (record.usesRemaining === null) this.remember(key, record);
    return record;
  }

  /** Forgets every cached entry (on seal, and after bulk changes). */
  clearCache(): void {
    this.cache.clear();
    this.cacheKeyByAccessor.clear();
    this.ancestorBoundByAccessor.clear();
  }

  private remember(key: string, record: TokenRecord): void {
    if (this.cache.size >= TokenStore.CACHE_LIMIT) this.clearCache();
    this.cache.set(key, record);
    this.cacheKeyByAccessor.set(record.entry.accessor, key);
  }

  private forget(accessor: string): void {
    const key = this.cacheKeyByAccessor.get(accessor);
    if (key === undefined) return;
    this.cache.delete(key);
    this.cacheKeyByAccessor.delete(accessor);
    this.ancestorBoundByAccessor.delete(accessor);
  }

  /** Whether a token with this accessor exists (expired or not); cheap, no decryption. */
  exists(accessor: string): boolean {
    return this.existsStmt.get(accessor) !== undefined;
  }

  lookupByAccessor(accessor: string): TokenRecord | undefined {
    if (accessor.length === 0 || accessor.length > 128) return undefined;
    const row = this.byAccessor.get(accessor);
    return row ? this.live(row) : undefined;
  }

  /**
   * Consumes one use of a limited-use token. Returns false if none was left. When the last use
   * is consumed the token is revoked after the request (Vault semantics: the last use still works).
   */
  consumeUse(token: string): { allowed: boolean; exhausted: boolean } {
    const row = this.useOnce.get(this.hash(token));
    if (!row) return { allowed: false, exhausted: true };
    return { allowed: true, exhausted: row.uses_remaining === 0 };
  }

  /** Persists a new expiry (renewal). */
  setExpiry(entry: TokenEntry, expireAtMs: number | null): void {
    this.updateExpiry.run(expireAtMs, this.seal(entry), entry.accessor);
    this.forget(entry.accessor);
    // Its descendants' ancestor bounds may depend on this expiry.
    this.ancestorBoundByAccessor.clear();
  }

  private deleteOne(accessor: string, into: RevokedToken[]): void {
    const row = this.deleteByAccessor.get(accessor);
    if (row) into.push({ accessor: row.accessor, entityId: row.entity_id, owner: row.owner });
  }

  /** Revokes a token and, recursively, its children; durable when this returns. Returns every accessor revoked. */
  revokeTree(accessor: string, cause: RevocationCause = NO_CAUSE): string[] {
    const revoked: RevokedToken[] = [];
    this.deps.db.transaction(() => {
      const stack = [accessor];
      while (stack.length > 0) {
        const current = stack.pop() as string;
        for (const child of this.children.all(current)) stack.push(child.accessor);
        this.deleteOne(current, revoked);
      }
      for (const listener of this.revokeListeners) listener(revoked, cause);
    })();
    for (const token of revoked) this.forget(token.accessor);
    return revoked.map((t) => t.accessor);
  }

  /** Revokes only this token; its children become orphans (revoke-orphan). */
  revokeOrphan(accessor: string, cause: RevocationCause = NO_CAUSE): string[] {
    const revoked: RevokedToken[] = [];
    this.deps.db.transaction(() => {
      this.orphanChildren.run(accessor);
      this.deleteOne(accessor, revoked);
      for (const listener of this.revokeListeners) listener(revoked, cause);
    })();
    // Children changed parents: drop everything rather than track who they are.
    this.clearCache();
    return revoked.map((t) => t.accessor);
  }

  /** Revokes every token an auth mount issued (and their children and leases): the auth method is being disabled. */
  revokeByAuthPath(authPath: string, cause: RevocationCause = NO_CAUSE): number {
    let revoked = 0;
    for (const { accessor } of this.byAuthPath.all(authPath)) revoked += this.revokeTree(accessor, cause).length;
    return revoked;
  }

  /** All accessors (LIST auth/token/accessors). */
  listAccessors(): string[] {
    return (this.deps.db.prepare('SELECT accessor FROM tokens ORDER BY accessor').all() as { accessor: string }[]).map((r) => r.accessor);
  }

  /** Accessors of tokens past their expiry, for the tidy/sweep job. */
  expiredAccessors(limit: number): string[] {
    const rows = this.deps.db
      .prepare('SELECT accessor FROM tokens WHERE expire_at IS NOT NULL AND expire_at <= ? LIMIT ?')
      .all(this.deps.clock.nowMs(), limit) as { accessor: string }[];
    return rows.map((r) => r.accessor);
  }

  /** False if any ancestor has expired: a child stops working at its parent's expiry, not at the next sweep. */
  private ancestorsLive(record: TokenRecord): boolean {
    const parent = record.entry.parentAccessor;
    if (parent === null) return true;
    let bound = this.ancestorBoundByAccessor.get(record.entry.accessor);
    if (bound === undefined) {
      if (this.ancestorBoundByAccessor.size >= TokenStore.CACHE_LIMIT) this.ancestorBoundByAccessor.clear();
      bound = this.ancestorExpiry.get(parent)?.bound ?? null;
      this.ancestorBoundByAccessor.set(record.entry.accessor, bound);
    }
    return bound === null || bound > this.deps.clock.nowMs();
  }


  private live(row: TokenRow): TokenRecord | undefined {
    // Use counts are enforced by `consumeUse` (atomic); an exhausted token is revoked right after its last request.
    if (row.expire_at !== null && row.expire_at <= this.deps.clock.nowMs()) return undefined;
    const entry = this.deps.barrier.decryptJSON<TokenEntry>(`tokens/${row.accessor}`, row.entry);
    return { entry, expireAtMs: row.expire_at, usesRemaining: row.uses_remaining };
  }

  private seal(entry: TokenEntry): Uint8Array {
    return this.deps.barrier.encryptJSON(`tokens/${entry.accessor}`, entry);
  }
}
