// Retries of statements that lost a race with another session (issue 15 item 11). Revoking many users
// that hold the same grant at once makes concurrent REVOKE/DROP OWNED statements rewrite the same
// catalog rows (a table's ACL, the role's dependencies); PostgreSQL then fails one of them with
// "tuple concurrently updated" (XX000), or a serialization failure or deadlock. The statement is
// fine: run again a moment later, it succeeds. Nothing else is retried.

/** SQLSTATEs that mean "lost a race, try again": serialization_failure and deadlock_detected. */
const RETRYABLE_CODES = new Set(['40001', '40P01']);

/** internal_error (XX000) is retried only for the catalog races it reports under that code. */
const CONCURRENT_CATALOG_UPDATE = /tuple concurrently (updated|deleted)/i;

/** Whether `error` (from pg) is a transient concurrency failure worth retrying. */
export function isTransientPgError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  if (RETRYABLE_CODES.has(code)) return true;
  return code === 'XX000' && error instanceof Error && CONCURRENT_CATALOG_UPDATE.test(error.message);
}

/** How often and how long to retry; the defaults clear a burst of 50 concurrent revocations. */
export interface RetryOptions {
  /** Total tries, the first included. */
  attempts: number;
  /** The first wait; doubles per try, jittered. */
  baseDelayMs: number;
  maxDelayMs: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 6, baseDelayMs: 10, maxDelayMs: 400 };

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn`, again after a short jittered wait when it fails with a transient concurrency error, up to
 * `attempts` tries. Any other error, or the last transient one, is thrown as it is. `fn` must be safe to
 * repeat: a single statement, or a transaction that was rolled back.
 */
export async function retryTransient<T>(fn: () => Promise<T>, options: RetryOptions = DEFAULT_RETRY): Promise<T> {
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? sleepFor;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= options.attempts || !isTransientPgError(error)) throw error;
      const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      // Jittered: sessions that collided once must not collide again in lockstep.
      await sleep(Math.round(ceiling / 2 + (ceiling / 2) * random()));
    }
  }
}
