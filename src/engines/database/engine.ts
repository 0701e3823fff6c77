// The shared state of one database mount, handed to each group of paths: its context, connections and
// the bookkeeping the drift check needs. Built once per mount by the backend factory.
import type { BackendContext } from '../../core/framework';
import { InternalError, NotFoundError } from '../../errors';
import { Connections } from './connections';
import { KeyedLock } from './keyed-lock';

/** Vault's system default lease TTL (768h): what a role without default_ttl gets when the mount is not tuned. */
export const SYSTEM_DEFAULT_TTL_SECONDS = 768 * 3600;

/** One mount's engine state. */
export interface DatabaseEngine {
  ctx: BackendContext;
  connections: Connections;
  /** Serialises rotations and edits of the same static role. */
  staticRoleLock: KeyedLock;
  /** Users created moments ago whose lease may not be stored yet: `<connection>\0<username>` to creation time. */
  recentlyIssued: Map<string, number>;
  /** When the drift check first saw each unleased user: `<connection>\0<username>` to time. */
  unleasedSince: Map<string, number>;
  /** Last drift check per connection (the periodic check runs at most once a minute per connection). */
  lastDriftCheck: Map<string, number>;
}

/** Builds the state of a fresh mount. */
export function createDatabaseEngine(ctx: BackendContext): DatabaseEngine {
  return {
    ctx,
    connections: new Connections(ctx.storage),
    staticRoleLock: new KeyedLock(),
    recentlyIssued: new Map(),
    unleasedSince: new Map(),
    lastDriftCheck: new Map(),
  };
}

/** The key the drift bookkeeping uses for one user of one connection. */
export function userKey(connection: string, username: string): string {
  return `${connection}\u0000${username}`;
}

/** A LIST answer as Vault gives it: the keys, or a 404 when there are none. */
export function listResponse(keys: string[]): { data: { keys: string[] } } {
  if (keys.length === 0) throw new NotFoundError();
  return { data: { keys } };
}

/** A plugin error (already sanitised) as a client-visible 500 with context. */
export function pluginFailure(what: string, error: unknown): InternalError {
  return new InternalError(`${what}: ${error instanceof Error ? error.message : 'database plugin error'}`);
}
