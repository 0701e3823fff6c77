// Response wrapping: a response is stored encrypted under a single-use, orphan wrapping token and handed out only by unwrapping it.
import type { Statement } from 'better-sqlite3';
import { BadRequestError } from '../../errors';
import type { SqliteDatabase } from '../../storage/database';
import type { Clock } from '../../util/clock';
import { parseDurationSeconds } from '../../util/duration';
import { formatRfc3339Nano } from '../../util/time';
import type { StorageView } from '../storage-view';
import type { TokenStore } from '../tokens';

/** The only policy a wrapping token carries; the policy store must hold it as a built-in (see RESPONSE_WRAPPING_POLICY). */
export const RESPONSE_WRAPPING_POLICY_NAME = 'response-wrapping';

/** Longest wrap TTL we grant: the system max lease TTL (768h), so no wrapped secret outlives everything else. */
export const MAX_WRAP_TTL_SECONDS = 768 * 3600;

/** Vault's exact text for an unknown, expired, used or non-wrapping token (clients match on it). */
export const INVALID_WRAPPING_TOKEN_MESSAGE = 'wrapping token is not valid or does not exist';

/** Vault's `wrap_info` block, as sent in the envelope of a wrapped response. */
export interface WrapInfo {
  token: string;
  accessor: string;
  ttl: number;
  creation_time: string;
  creation_path: string;
  /** The accessor of the token inside the wrapped response, when it carries an `auth` block (token create, logins). */
  wrapped_accessor?: string;
  [key: string]: unknown;
}

/** What `sys/wrapping/lookup` answers. */
export interface WrapLookup {
  creation_path: string;
  creation_time: string;
  creation_ttl: number;
  [key: string]: unknown;
}

/** What the wrapping token's caller is, as the pipeline authenticated it (when the wrapping token itself is the client token). */
export interface WrappingCaller {
  accessor: string;
  policies: string[];
}

/** Deps of the wrapping manager. `tokens` and `storage` must share one database so wrap/unwrap are atomic. */
export interface WrappingManagerDeps {
  /** The database holding `storage` and the wrapping index (migration 010). */
  db: SqliteDatabase;
  tokens: TokenStore;
  /** Barrier-encrypted storage for wrapped responses, e.g. `store.view('core/wrapping/')`. */
  storage: StorageView;
  clock: Clock;
  /** The largest wrapped response, as stored JSON bytes (default 1 MiB): wraps must not fill the disk. */
  maxWrappedBytes?: number;
  /** How many unexpired wraps one token may have created and not yet had unwrapped (default 1000). */
  maxPendingPerToken?: number;
  /** Wraps the tidy deletes per transaction before yielding to the event loop (default 50, a few ms). */
  tidySliceSize?: number;
}

/** Default cap on one wrapped response (issue 15 item 3). */
export const DEFAULT_MAX_WRAPPED_BYTES = 1024 * 1024;

/** Default cap on the pending wraps one token may hold (issue 15 item 3): a token must not fill the store. */
export const DEFAULT_MAX_PENDING_WRAPS_PER_TOKEN = 1000;

const DEFAULT_TIDY_SLICE_SIZE = 50;

/** The index bucket of wraps made by unauthenticated requests (no creating token). */
const NO_CREATOR = '';

/** Index rows written by migration 010 for wraps stored before it: their real expiry is unknown until read. */
const LEGACY_EXPIRE_AT = 0;

interface IndexRow {
  accessor: string;
  expire_at: number;
}

/** One wrapped response at rest, keyed by the wrapping token's accessor (never by the token). */
interface StoredWrap {
  response: Record<string, unknown>;
  creationPath: string;
  creationTimeMs: number;
  ttlSeconds: number;
  /** Who asked for the wrapping (governance); absent for unauthenticated requests. */
  creatorAccessor?: string;
  wrappedAccessor?: string;
  /** A control-group request's token: nothing is wrapped; unwrapping runs the stored request (governance/control-groups.ts). */
  controlGroup?: true;
}

function invalidToken(): BadRequestError {
  return new BadRequestError(INVALID_WRAPPING_TOKEN_MESSAGE);
}

/** Refuses wrap TTLs that are not whole seconds in [1, MAX_WRAP_TTL_SECONDS]. */
function checkWrapTtl(ttlSeconds: number): void {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new BadRequestError('wrap TTL must be at least 1 second');
  if (ttlSeconds > MAX_WRAP_TTL_SECONDS) throw new BadRequestError(`wrap TTL must be at most ${MAX_WRAP_TTL_SECONDS} seconds (768h)`);
}

/**
 * Parses an `X-Vault-Wrap-TTL` header value ("60s", "5m", "1h30m" or plain seconds) into seconds.
 * Fails closed: a present but zero, sub-second, negative, oversize or malformed value is a 400, never a
 * silently unwrapped response.
 */
export function parseWrapTtl(header: string): number {
  const text = header.trim();
  if (text.startsWith('-')) throw new BadRequestError('requested wrap ttl cannot be negative');
  if (text === '' || text.length > 64) throw new BadRequestError('invalid wrap TTL: must be a duration such as 60s, 5m or 300');
  const seconds = parseDurationSeconds(text);
  if (seconds === undefined) throw new BadRequestError('invalid wrap TTL: must be a duration such as 60s, 5m or 300');
  checkWrapTtl(seconds);
  return seconds;
}

/** True for the policy set of a wrapping token: exactly `response-wrapping`, as Vault checks. */
function isWrappingPolicySet(policies: string[]): boolean {
  return policies.length === 1 && policies[0] === RESPONSE_WRAPPING_POLICY_NAME;
}

/** Owns wrapping tokens and the responses they wrap: wrap, unwrap (once), lookup, rewrap and tidy. */
export class WrappingManager {
  private readonly stmts: {
    insert: Statement<[string, string, number]>;
    remove: Statement<[string]>;
    reindex: Statement<[string, number, string]>;
    revoked: Statement<[number, string]>;
    due: Statement<[number, number], IndexRow>;
    pending: Statement<[string, number, number], { n: number }>;
  };

  constructor(private readonly deps: WrappingManagerDeps) {
    const { db } = deps;
    this.stmts = {
      insert: db.prepare('INSERT INTO wrapping_index (accessor, creator, expire_at) VALUES (?, ?, ?)'),
      remove: db.prepare('DELETE FROM wrapping_index WHERE accessor = ?'),
      reindex: db.prepare('UPDATE wrapping_index SET creator = ?, expire_at = ? WHERE accessor = ?'),
      revoked: db.prepare('UPDATE wrapping_index SET expire_at = MIN(expire_at, ?) WHERE accessor = ?'),
      due: db.prepare('SELECT accessor, expire_at FROM wrapping_index INDEXED BY wrapping_index_by_expiry WHERE expire_at <= ? ORDER BY expire_at LIMIT ?'),
      // Counts no further than the limit: the check costs the same however many wraps exist.
      pending: db.prepare('SELECT COUNT(*) AS n FROM (SELECT 1 FROM wrapping_index INDEXED BY wrapping_index_by_creator WHERE creator = ? AND expire_at > ? LIMIT ?)'),
    };
    // A revoked wrapping token's wrap is due at once, in the revoking transaction: the creator's
    // pending count drops now and the next tidy deletes the response. (Not deleted here: a wrapping
    // token used as the client token has its single use spent, and may be revoked, before its own
    // unwrap runs.)
    deps.tokens.onRevoke((accessors) => {
      const nowMs = deps.clock.nowMs();
      for (const revoked of accessors) this.stmts.revoked.run(nowMs, revoked.accessor);
    });
  }

  /** The most pending wraps one token may hold. */
  get maxPendingPerToken(): number {
    return this.deps.maxPendingPerToken ?? DEFAULT_MAX_PENDING_WRAPS_PER_TOKEN;
  }

  /**
   * Refuses (400) when `creatorAccessor` already holds the maximum of pending wraps. The core calls
   * it before running a request that asks for wrapping, so a refused wrap has no side effect; `store`
   * checks again (the authoritative check).
   */
  checkCapacity(creatorAccessor: string | undefined): void {
    const bucket = creatorAccessor ?? NO_CREATOR;
    const max = this.maxPendingPerToken;
    if (this.stmts.pending.get(bucket, this.deps.clock.nowMs(), max)!.n >= max) {
      throw new BadRequestError(
        creatorAccessor === undefined
          ? `too many pending response-wrapping tokens from unauthenticated requests (limit ${max}); unwrap some or wait for them to expire`
          : `this token already has ${max} pending response-wrapping tokens (the server's limit); unwrap or revoke some, or wait for them to expire`,
      );
    }
  }

  /**
   * Wraps `response` (the full Vault envelope that would have been sent) in a new single-use wrapping
   * token and returns the `wrap_info` to send instead. Token and stored response commit together.
   */
  wrap(input: { response: Record<string, unknown>; ttlSeconds: number; creationPath: string; creatorAccessor?: string }): WrapInfo {
    checkWrapTtl(input.ttlSeconds);
    const auth = input.response.auth;
    const wrappedAccessor =
      auth && typeof auth === 'object' && typeof (auth as Record<string, unknown>).accessor === 'string' && (auth as Record<string, unknown>).accessor !== ''
        ? ((auth as Record<string, unknown>).accessor as string)
        : undefined;
    return this.store({
      response: input.response,
      creationPath: input.creationPath,
      ttlSeconds: input.ttlSeconds,
      creatorAccessor: input.creatorAccessor,
      wrappedAccessor,
    });
  }

  /** A wrapping token for a control-group request: it wraps nothing and plain unwrap, rewrap refuse it. */
  wrapControlGroup(input: { ttlSeconds: number; creationPath: string; creatorAccessor?: string }): WrapInfo {
    return this.store({ response: {}, creationPath: input.creationPath, ttlSeconds: input.ttlSeconds, creatorAccessor: input.creatorAccessor, controlGroup: true });
  }

  /** Spends a control-group wrapping token (the caller then runs the approved request). */
  takeControlGroup(accessor: string): void {
    this.take(accessor, true);
  }

  /** The accessor of a live wrapping token, or undefined (never throws). */
  accessorOf(wrappingToken: string): string | undefined {
    if (typeof wrappingToken !== 'string' || wrappingToken === '') return undefined;
    const record = this.deps.tokens.lookup(wrappingToken);
    return record && isWrappingPolicySet(record.entry.policies) ? record.entry.accessor : undefined;
  }

  /**
   * Returns the wrapped response for a wrapping token given in a request body (a third party unwraps).
   * The stored response is deleted and the token revoked before this returns, so a second unwrap fails.
   */
  unwrap(wrappingToken: string): Record<string, unknown> {
    const accessor = this.wrappingAccessor(wrappingToken);
    return this.take(accessor).response;
  }

  /**
   * Unwraps for a caller whose client token *is* the wrapping token. The pipeline has already
   * authenticated it and spent (possibly revoked) its single use, so it is found by accessor.
   */
  unwrapAsCaller(caller: WrappingCaller): Record<string, unknown> {
    return this.take(this.callerAccessor(caller)).response;
  }

  /** The wrapping token's creation path, time and TTL, without consuming it. */
  lookup(wrappingToken: string): WrapLookup {
    const accessor = this.wrappingAccessor(wrappingToken);
    const stored = this.live(accessor);
    if (!stored) throw invalidToken();
    return { creation_path: stored.creationPath, creation_time: formatRfc3339Nano(stored.creationTimeMs), creation_ttl: stored.ttlSeconds };
  }

  /**
   * Moves the wrapped response to a new wrapping token with the original creation TTL and path; the
   * old token is revoked. Done in one transaction, so a crash never loses or duplicates the response.
   */
  rewrap(wrappingToken: string): WrapInfo {
    const accessor = this.wrappingAccessor(wrappingToken);
    return this.moveToNewToken(accessor);
  }

  /** `rewrap` for a caller whose client token is the wrapping token (see `unwrapAsCaller`). */
  rewrapAsCaller(caller: WrappingCaller): WrapInfo {
    return this.moveToNewToken(this.callerAccessor(caller));
  }

  /**
   * Deletes stored responses whose wrapping token expired or was revoked without being unwrapped. Finds them by the expiry index, never by listing: the wraps still pending are
   * not read at all. Works in slices of `tidySliceSize` wraps, one transaction each, and yields to
   * the event loop between slices, so requests keep being served while a mass expiry is tidied.
   * Stops after `limit` wraps; returns how many were deleted.
   */
  async tidy(limit = Number.POSITIVE_INFINITY): Promise<number> {
    const { storage, tokens, clock } = this.deps;
    const sliceSize = this.deps.tidySliceSize ?? DEFAULT_TIDY_SLICE_SIZE;
    let deleted = 0;
    for (;;) {
      const nowMs = clock.nowMs();
      const due = this.stmts.due.all(nowMs, Math.min(sliceSize, limit - deleted));
      if (due.length === 0) return deleted;
      storage.transaction(() => {
        for (const row of due) {
          if (row.expire_at === LEGACY_EXPIRE_AT && this.reindexLegacy(row.accessor, nowMs)) continue;
          this.stmts.remove.run(row.accessor);
          storage.delete(row.accessor);
          // A scheduled job: the ledger's `token.expired` by the scheduler (a no-op if already revoked).
          tokens.revokeTree(row.accessor, { actor: 'scheduler', expired: true });
          deleted += 1;
        }
      });
      if (deleted >= limit) return deleted;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** A wrap indexed by migration 010: records its real expiry and creator if it is still live (true), else false (delete it). */
  private reindexLegacy(accessor: string, nowMs: number): boolean {
    const stored = this.deps.storage.getJSON<StoredWrap>(accessor);
    if (!stored || this.expired(stored) || !this.deps.tokens.exists(accessor)) return false;
    const expireAt = stored.creationTimeMs + stored.ttlSeconds * 1000;
    this.stmts.reindex.run(stored.creatorAccessor ?? stored.wrappedAccessor ?? NO_CREATOR, Math.max(expireAt, nowMs + 1), accessor);
    return true;
  }

  /** Creates the wrapping token and stores the response under its accessor, atomically. */
  private store(wrap: Omit<StoredWrap, 'creationTimeMs'>): WrapInfo {
    checkWrapTtl(wrap.ttlSeconds);
    const maxBytes = this.deps.maxWrappedBytes ?? DEFAULT_MAX_WRAPPED_BYTES;
    // Checked before the wrapping token exists: a refused wrap leaves nothing behind.
    if (Buffer.byteLength(JSON.stringify(wrap.response), 'utf8') > maxBytes) throw new BadRequestError(`the response to wrap is larger than the limit of ${maxBytes} bytes`);
    const { tokens, storage } = this.deps;
    return storage.transaction(() => {
      // A login's wrapped answer (no creating token) is counted against the token it carries.
      const creator = wrap.creatorAccessor ?? wrap.wrappedAccessor;
      this.checkCapacity(creator);
      const { token, record } = tokens.create({
        policies: [RESPONSE_WRAPPING_POLICY_NAME],
        displayName: 'response-wrapping',
        numUses: 1,
        ttlSeconds: wrap.ttlSeconds,
        renewable: false,
        orphan: true,
        parentAccessor: null,
        authPath: 'auth/token/',
        meta: {},
        // Vault sets the wrapping token's explicit max TTL to its TTL: it can never be extended.
        explicitMaxTtlSeconds: wrap.ttlSeconds,
        periodSeconds: 0,
        type: 'service',
      });
      const creationTimeMs = record.entry.createdAtMs;
      const stored: StoredWrap = { ...wrap, creationTimeMs };
      storage.putJSON(record.entry.accessor, stored);
      this.stmts.insert.run(record.entry.accessor, creator ?? NO_CREATOR, creationTimeMs + wrap.ttlSeconds * 1000);
      const info: WrapInfo = {
        token,
        accessor: record.entry.accessor,
        ttl: wrap.ttlSeconds,
        creation_time: formatRfc3339Nano(creationTimeMs),
        creation_path: wrap.creationPath,
      };
      if (wrap.wrappedAccessor) info.wrapped_accessor = wrap.wrappedAccessor;
      return info;
    });
  }

  private moveToNewToken(accessor: string): WrapInfo {
    return this.deps.storage.transaction(() => {
      const old = this.take(accessor);
      return this.store({
        response: old.response,
        creationPath: old.creationPath,
        ttlSeconds: old.ttlSeconds,
        creatorAccessor: old.creatorAccessor,
        wrappedAccessor: old.wrappedAccessor,
      });
    });
  }

  /** The accessor of a live wrapping token, or a 400 that says nothing about why. */
  private wrappingAccessor(wrappingToken: string): string {
    if (typeof wrappingToken !== 'string' || wrappingToken === '') throw invalidToken();
    const record = this.deps.tokens.lookup(wrappingToken);
    if (!record || !isWrappingPolicySet(record.entry.policies)) throw invalidToken();
    return record.entry.accessor;
  }

  private callerAccessor(caller: WrappingCaller): string {
    if (!caller.accessor || !isWrappingPolicySet(caller.policies)) throw invalidToken();
    return caller.accessor;
  }

  private expired(stored: StoredWrap): boolean {
    return stored.creationTimeMs + stored.ttlSeconds * 1000 <= this.deps.clock.nowMs();
  }

  /** The stored response if present and not past its TTL. */
  private live(accessor: string): StoredWrap | undefined {
    const stored = this.deps.storage.getJSON<StoredWrap>(accessor);
    return stored && !this.expired(stored) ? stored : undefined;
  }

  /** Reads, deletes and revokes in one transaction: the single use is spent durably before anything is returned. */
  private take(accessor: string, controlGroup = false): StoredWrap {
    const { storage, tokens } = this.deps;
    return storage.transaction(() => {
      const stored = this.live(accessor);
      if (!stored) throw invalidToken();
      // Defence in depth: the pipeline releases control-group requests before this is reached.
      if (stored.controlGroup !== (controlGroup ? true : undefined)) throw new BadRequestError(controlGroup ? INVALID_WRAPPING_TOKEN_MESSAGE : 'request needs further approval');
      this.stmts.remove.run(accessor);
      storage.delete(accessor);
      // Spent by its own single use: the wrapping token is the actor of its revocation.
      tokens.revokeTree(accessor, { actor: accessor });
      return stored;
    });
  }
}
