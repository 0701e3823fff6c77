// Response wrapping: a response is stored encrypted under a single-use, orphan wrapping token and handed out only by unwrapping it.
import { BadRequestError } from '../../errors';
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
  tokens: TokenStore;
  /** Barrier-encrypted storage for wrapped responses, e.g. `store.view('core/wrapping/')`. */
  storage: StorageView;
  clock: Clock;
  /** The largest wrapped response, as stored JSON bytes (default 1 MiB): wraps must not fill the disk. */
  maxWrappedBytes?: number;
}

/** Default cap on one wrapped response (issue 15 item 3). */
export const DEFAULT_MAX_WRAPPED_BYTES = 1024 * 1024;

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
  constructor(private readonly deps: WrappingManagerDeps) {}

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
   * Deletes stored responses whose wrapping token expired or was revoked without being unwrapped.
   * Meant for a scheduled job; returns how many were deleted. Bounded by `limit` per call.
   */
  tidy(limit = 1000): number {
    const { storage, tokens } = this.deps;
    let deleted = 0;
    for (const accessor of storage.list('')) {
      if (deleted >= limit) break;
      if (accessor.endsWith('/')) continue;
      const stored = storage.getJSON<StoredWrap>(accessor);
      if (stored && !this.expired(stored) && tokens.lookupByAccessor(accessor)) continue;
      storage.transaction(() => {
        storage.delete(accessor);
        // A scheduled job: the ledger's `token.expired` by the scheduler (a no-op if already revoked).
        tokens.revokeTree(accessor, { actor: 'scheduler', expired: true });
      });
      deleted += 1;
    }
    return deleted;
  }

  /** Creates the wrapping token and stores the response under its accessor, atomically. */
  private store(wrap: Omit<StoredWrap, 'creationTimeMs'>): WrapInfo {
    checkWrapTtl(wrap.ttlSeconds);
    const maxBytes = this.deps.maxWrappedBytes ?? DEFAULT_MAX_WRAPPED_BYTES;
    // Checked before the wrapping token exists: a refused wrap leaves nothing behind.
    if (Buffer.byteLength(JSON.stringify(wrap.response), 'utf8') > maxBytes) throw new BadRequestError(`the response to wrap is larger than the limit of ${maxBytes} bytes`);
    const { tokens, storage } = this.deps;
    return storage.transaction(() => {
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
      storage.delete(accessor);
      // Spent by its own single use: the wrapping token is the actor of its revocation.
      tokens.revokeTree(accessor, { actor: accessor });
      return stored;
    });
  }
}
