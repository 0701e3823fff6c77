// Credentials bound to one CI run. A JWT login through a role with `run_claims` records the run
// (its claims, encrypted) and stamps an opaque run key on the token; child tokens and every lease
// those tokens create carry it (indexed columns `run_key`). Revoking a run revokes all of them,
// through the backends (database roles dropped) before answering, and refuses later logins of the
// same run: a CI system's OIDC token outlives its job by minutes and must not mint anything after.
import { createHmac } from 'node:crypto';
import { BadRequestError, NotFoundError } from '../../errors';
import type { SqliteDatabase } from '../../storage/database';
import type { Clock } from '../../util/clock';
import type { Barrier } from '../barrier';
import type { TokenStore } from '../tokens';
import type { GovernanceEvents } from './events';
import type { Offboarder } from './offboard';

const RUN_KEY_PURPOSE = 'ci-run-key-v1';
/** Bytes of the HMAC kept in a run key: 144 bits, 24 base64url characters. */
const RUN_KEY_BYTES = 18;
/** The shape of every run key; anything else is refused before it reaches a query. */
export const RUN_KEY_PATTERN = /^[A-Za-z0-9_-]{24}$/;
/** The most runs a LIST returns (newest first), and the most tokens or leases a show returns. */
const MAX_LISTED = 1000;
const MAX_SHOWN = 10_000;
/** Runs without live tokens or leases are forgotten this long after their last login. */
const RUN_RETENTION_MS = 30 * 86400_000;
/** Live leases; `+state` keeps the state index out so the run or token index is used (see LEASE_SQL). */
const LIVE = "+state IN ('active', 'revoking', 'irrevocable')";

/** Every statement of the run registry, planned by test/storage/run-plans.test.ts (none scans tokens or leases). */
export const RUN_SQL = {
  get: 'SELECT * FROM governance_runs WHERE run_key = ?',
  upsert: `INSERT INTO governance_runs (run_key, mount_accessor, created_at, last_login_at, revoked_at, body) VALUES (?, ?, ?, ?, NULL, ?)
    ON CONFLICT (run_key) DO UPDATE SET last_login_at = excluded.last_login_at`,
  newest: 'SELECT * FROM governance_runs ORDER BY created_at DESC, run_key LIMIT ?',
  countTokens: 'SELECT COUNT(*) AS n FROM tokens WHERE run_key = ?',
  countLiveLeases: `SELECT COUNT(*) AS n FROM leases WHERE run_key = ? AND ${LIVE}`,
  shownTokens: 'SELECT accessor, parent_accessor, expire_at FROM tokens WHERE run_key = ? ORDER BY created_at LIMIT ?',
  shownLeases: 'SELECT lease_id, state, expire_at, revoked_at FROM leases WHERE run_key = ? ORDER BY issued_at LIMIT ?',
  markRevoked: 'UPDATE governance_runs SET revoked_at = COALESCE(revoked_at, ?) WHERE run_key = ?',
  tokens: 'SELECT accessor FROM tokens WHERE run_key = ?',
  liveLeases: `SELECT lease_id FROM leases WHERE run_key = ? AND ${LIVE}`,
  liveLeasesOfToken: `SELECT lease_id FROM leases WHERE token_accessor = ? AND ${LIVE}`,
  tidy: `DELETE FROM governance_runs WHERE last_login_at < ?
    AND NOT EXISTS (SELECT 1 FROM tokens WHERE tokens.run_key = governance_runs.run_key)
    AND NOT EXISTS (SELECT 1 FROM leases WHERE leases.run_key = governance_runs.run_key AND +leases.state IN ('active', 'revoking', 'irrevocable'))`,
} as const;

/** What a run row's encrypted body holds. */
interface RunBody {
  claims: Record<string, string>;
}

interface RunRow {
  run_key: string;
  mount_accessor: string;
  created_at: number;
  last_login_at: number;
  revoked_at: number | null;
  body: Buffer;
}

/** What revoking a run did. */
export interface RunRevocation {
  run_key: string;
  tokens_revoked: number;
  leases_revoked: number;
  leases_pending: number;
}

/** Deps of the run registry; wired in the composition root. */
export interface RunRegistryDeps {
  db: SqliteDatabase;
  barrier: Barrier;
  clock: Clock;
  tokens: Pick<TokenStore, 'revokeTree'>;
  offboarder: () => Pick<Offboarder, 'revokeLeases'>;
  events: () => GovernanceEvents;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** Records CI runs at login, lists and shows them, and revokes everything bound to one. */
export class RunRegistry {
  constructor(private readonly deps: RunRegistryDeps) {}

  /**
   * The run key of a set of run claims on one JWT mount: an HMAC (under a key derived from the
   * barrier's keyring) of a canonical encoding, so it is stable, URL-safe, and says nothing about
   * the run to someone who can read the database file but not the keyring.
   */
  runKey(mountAccessor: string, claims: Record<string, string>): string {
    const canonical = JSON.stringify([mountAccessor, Object.keys(claims).sort().map((name) => [name, claims[name]])]);
    return createHmac('sha256', this.deps.barrier.subKey(RUN_KEY_PURPOSE)).update(canonical, 'utf8').digest().subarray(0, RUN_KEY_BYTES).toString('base64url');
  }

  private location(runKey: string): string {
    return `governance/runs/${runKey}`;
  }

  private row(runKey: string): RunRow | undefined {
    return this.deps.db.prepare(RUN_SQL.get).get(runKey) as RunRow | undefined;
  }

  private upsert(runKey: string, mountAccessor: string, claims: Record<string, string>): void {
    const nowMs = this.deps.clock.nowMs();
    const body = this.deps.barrier.encryptJSON(this.location(runKey), { claims } satisfies RunBody);
    this.deps.db.prepare(RUN_SQL.upsert).run(runKey, mountAccessor, nowMs, nowMs, body);
  }

  /**
   * Records a login of a run and returns its key (called while the login token is minted). A run
   * already revoked (its CI system said it ended, or an operator revoked it) refuses the login.
   */
  recordLogin(mountAccessor: string, claims: Record<string, string>): string {
    const runKey = this.runKey(mountAccessor, claims);
    if (this.row(runKey)?.revoked_at != null) throw new BadRequestError('the CI run of this token has ended: its credentials were revoked and it cannot log in again');
    this.upsert(runKey, mountAccessor, claims);
    return runKey;
  }

  private claimsOf(row: RunRow): Record<string, string> {
    return this.deps.barrier.decryptJSON<RunBody>(this.location(row.run_key), row.body).claims;
  }

  private count(sql: string, runKey: string): number {
    return (this.deps.db.prepare(sql).get(runKey) as { n: number }).n;
  }

  /** LIST sys/governance/runs: the newest runs with their claims and what they still hold. */
  list(): { keys: string[]; key_info: Record<string, unknown> } {
    const rows = this.deps.db.prepare(RUN_SQL.newest).all(MAX_LISTED) as RunRow[];
    const keyInfo: Record<string, unknown> = {};
    for (const row of rows) {
      keyInfo[row.run_key] = {
        claims: this.claimsOf(row),
        mount_accessor: row.mount_accessor,
        created_time: iso(row.created_at),
        last_login_time: iso(row.last_login_at),
        revoked_time: iso(row.revoked_at),
        tokens: this.count(RUN_SQL.countTokens, row.run_key),
        leases: this.count(RUN_SQL.countLiveLeases, row.run_key),
      };
    }
    return { keys: rows.map((r) => r.run_key), key_info: keyInfo };
  }

  /** GET sys/governance/runs/:run_key: the run's claims, its tokens (by accessor) and its leases. */
  show(runKey: string): Record<string, unknown> {
    const row = RUN_KEY_PATTERN.test(runKey) ? this.row(runKey) : undefined;
    if (!row) throw new NotFoundError();
    const tokens = this.deps.db.prepare(RUN_SQL.shownTokens).all(runKey, MAX_SHOWN) as {
      accessor: string;
      parent_accessor: string | null;
      expire_at: number | null;
    }[];
    const leases = this.deps.db.prepare(RUN_SQL.shownLeases).all(runKey, MAX_SHOWN) as {
      lease_id: string;
      state: string;
      expire_at: number;
      revoked_at: number | null;
    }[];
    return {
      run_key: runKey,
      claims: this.claimsOf(row),
      mount_accessor: row.mount_accessor,
      created_time: iso(row.created_at),
      last_login_time: iso(row.last_login_at),
      revoked_time: iso(row.revoked_at),
      tokens: tokens.map((t) => ({ accessor: t.accessor, parent_accessor: t.parent_accessor ?? '', expire_time: iso(t.expire_at) })),
      leases: leases.map((l) => ({ lease_id: l.lease_id, state: l.state, expire_time: iso(l.expire_at), revoked_time: iso(l.revoked_at) })),
    };
  }

  /** Whether a run was recorded and not revoked yet. */
  isLive(runKey: string): boolean {
    return RUN_KEY_PATTERN.test(runKey) && this.row(runKey)?.revoked_at === null;
  }

  /** Whether a run was ever recorded. */
  has(runKey: string): boolean {
    return RUN_KEY_PATTERN.test(runKey) && this.row(runKey) !== undefined;
  }

  /** Revokes every token and lease of a run and refuses its later logins; an unknown run is a 404. */
  async revoke(input: { runKey: string; actor: string; reason: string; requestId?: string }): Promise<RunRevocation> {
    const { runKey } = input;
    if (!this.has(runKey)) throw new NotFoundError();
    // Logins are refused from here on; then tokens go (their leases are marked in the same
    // transaction), then every live lease of the run is revoked through its backend.
    this.deps.db.prepare(RUN_SQL.markRevoked).run(this.deps.clock.nowMs(), runKey);
    const accessors = (this.deps.db.prepare(RUN_SQL.tokens).all(runKey) as { accessor: string }[]).map((r) => r.accessor);
    const byToken = this.deps.db.prepare(RUN_SQL.liveLeasesOfToken);
    const leaseIds = new Set((this.deps.db.prepare(RUN_SQL.liveLeases).all(runKey) as { lease_id: string }[]).map((r) => r.lease_id));
    for (const accessor of accessors) for (const r of byToken.all(accessor) as { lease_id: string }[]) leaseIds.add(r.lease_id);
    let tokensRevoked = 0;
    for (const accessor of accessors) tokensRevoked += this.deps.tokens.revokeTree(accessor, { actor: input.actor }).length;
    const { revoked, pending } = await this.deps.offboarder().revokeLeases([...leaseIds].sort(), input.actor);
    this.deps.events().runRevoked({ runKey, actor: input.actor, reason: input.reason, requestId: input.requestId, tokensRevoked, leasesRevoked: revoked, leasesPending: pending });
    return { run_key: runKey, tokens_revoked: tokensRevoked, leases_revoked: revoked, leases_pending: pending };
  }

  /** Forgets runs that hold nothing any more and have not logged in for the retention period. */
  tidy(): number {
    return this.deps.db.prepare(RUN_SQL.tidy).run(this.deps.clock.nowMs() - RUN_RETENTION_MS).changes;
  }
}
