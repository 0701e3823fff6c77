// The backend framework: an engine or auth method declares its paths (pattern, zod fields,
// operations) and the router does matching, validation and dispatch. Modelled on Vault's sdk/framework.
import { z } from 'zod';
import type { StorageView } from './storage-view';
import type { Clock } from '../util/clock';

/** The logical operations of Vault's API. `create` vs `update` is decided by the path's existence check. */
export type Operation = 'read' | 'create' | 'update' | 'delete' | 'list' | 'patch';

export const OPERATIONS: readonly Operation[] = ['read', 'create', 'update', 'delete', 'list', 'patch'];

/** Who is asking: the token's identity, as recorded for governance. Present on authenticated requests. */
export interface RequestIdentity {
  /** The token's accessor (never the token itself). */
  accessor: string;
  /** The token's display name, e.g. `root`, `approle`, `jwt-repo:acme/app:ref:refs/heads/main`. */
  displayName: string;
  policies: string[];
  /** Identity metadata (AppRole role name, JWT claims, ...). */
  metadata: Record<string, string>;
  /** The auth mount path that created the token, e.g. `auth/token/`. */
  authPath: string;
  /** Accountable owner, where one was given. */
  owner?: string;
  /** The holder: the identity entity the token belongs to, if any. */
  entityId?: string;
  /** Accessor of the auth mount that issued the token. */
  mountAccessor?: string;
  /** The role (AppRole, JWT or token role) that issued the token. */
  roleName?: string;
  /** The login's request context (JWT: the claims named in claim_mappings), kept encrypted with leases. */
  context?: Record<string, string>;
  /** The CI run the token is bound to (JWT role run_claims), recorded on every lease it creates. */
  runKey?: string;
  /** True for the root token. */
  isRoot: boolean;
}

/** A logical request as a backend sees it. */
export interface BackendRequest<F = Record<string, unknown>> {
  operation: Operation;
  /** The path relative to the mount, e.g. `data/foo`. */
  path: string;
  /** The mount's path, e.g. `secret/`. */
  mountPath: string;
  /** Validated fields: the body (or query for read/list) plus captured path segments. */
  fields: F;
  /** The raw, unvalidated data (for backends that store arbitrary keys, like KV). */
  rawData: Record<string, unknown>;
  /** The caller, on authenticated paths. */
  identity?: RequestIdentity;
  clientAddress: string;
  requestId: string;
  /** The mount's effective lease TTLs (tuned or system defaults), so an engine's own expiry (VALID UNTIL) matches the lease. */
  mountLeaseTtl?: { defaultSeconds: number; maxSeconds: number };
  /** The caller's token as sent (only the token backend needs it, to echo it in lookup-self as Vault does). */
  clientToken?: string;
  /** The mount's encrypted storage. */
  storage: StorageView;
  /** A non-JSON request body (sys/storage/snapshot-restore's snapshot file). */
  rawBody?: Buffer;
  /** A webhook delivery's exact body bytes and headers (only the unauthenticated webhook receivers get one). */
  delivery?: WebhookDelivery;
}

/** A webhook delivery as received: the raw body (signatures cover these exact bytes) and the headers that matter. */
export interface WebhookDelivery {
  body: Buffer;
  headers: Record<string, string>;
}

/** What a backend attaches to a response to have it leased. Only the expiration manager mints lease ids. */
export interface SecretDescriptor {
  /** The secret type, keyed into `Backend.secrets` for renew/revoke. */
  type: string;
  /** Data the backend needs later to renew or revoke (stored encrypted, never returned). */
  internalData: Record<string, unknown>;
  ttlSeconds: number;
  maxTtlSeconds: number;
  renewable: boolean;
  /** The lease reserved (LeaseQuery.reserve) before the secret was created: it is activated instead of a new one minted. */
  pendingLeaseId?: string;
}

/** What an auth method returns on login: the expiration manager / token store mints the token. */
export interface AuthDescriptor {
  policies: string[];
  displayName: string;
  metadata: Record<string, string>;
  ttlSeconds: number;
  maxTtlSeconds: number;
  periodSeconds?: number;
  numUses?: number;
  renewable: boolean;
  /** Do not add the `default` policy (token_no_default_policy). */
  noDefaultPolicy?: boolean;
  /** A hard cap from issue that renewal never passes, periodic tokens included (token_explicit_max_ttl). */
  explicitMaxTtlSeconds?: number;
  boundCidrs?: string[];
  /** Data the method needs on renewal (e.g. the role name). Stored encrypted. */
  internalData?: Record<string, unknown>;
  /** The identity alias this login links to (AppRole: the role_id; JWT: the user_claim value). */
  alias?: { name: string };
  /** The role the login used, recorded (indexed) with the token and its leases. */
  roleName?: string;
  /** The issuing role's accountable owner; the entity's `metadata.owner` takes precedence. */
  owner?: string;
  /** Request context kept (encrypted) with the token, e.g. the JWT claims named in claim_mappings. */
  context?: Record<string, string>;
  /** The CI run this login belongs to: the role's run_claims and their values (JWT roles with run_claims). */
  run?: { claims: Record<string, string> };
}

/** A backend's answer. `raw` bypasses Vault's envelope (sys/health, sys/seal-status and friends). */
export interface BackendResponse {
  data?: Record<string, unknown>;
  warnings?: string[];
  secret?: SecretDescriptor;
  auth?: AuthDescriptor;
  /** Lease fields to echo in the envelope (sys/leases/renew answers with the lease it renewed). */
  leaseInfo?: { leaseId: string; ttlSeconds: number; renewable: boolean };
  /** An already-rendered `auth` block (the token backend mints its own tokens). */
  authBlock?: Record<string, unknown>;
  /** `lease_duration` to report for an unleased secret (KV v1 reports its TTL without a lease). */
  leaseDurationSeconds?: number;
  /** Copy `data`'s keys to the top level of the envelope, as Vault does for some sys/ reads. */
  topLevelData?: boolean;
  /** `contentType` with a string body: sent as is (sys/metrics' Prometheus text); otherwise JSON. */
  raw?: { statusCode: number; body: unknown; contentType?: string };
}

/** A handler returns a response, or undefined for "nothing to say" (204). */
export type Handler<F = any> = (req: BackendRequest<F>) => BackendResponse | undefined | Promise<BackendResponse | undefined>;

/** One declared path of a backend. */
export interface PathDefinition<F = any> {
  /** A regular expression (without anchors) matched against the whole relative path. Named groups become fields. */
  pattern: string;
  /** Field schema. Unknown fields produce a warning; invalid ones a 400 naming the field. */
  fields?: z.ZodObject<z.ZodRawShape>;
  operations: Partial<Record<Operation, Handler<F>>>;
  /** Decides create vs update for writes; without it every write is an update. */
  existenceCheck?: (req: BackendRequest<F>) => boolean | Promise<boolean>;
  /** Readable without a token (login paths, sys/health, ...). */
  unauthenticated?: boolean;
  /** Any valid token may call it; the handler itself scopes what it returns (sys/internal/ui/mounts). */
  tokenOnly?: boolean;
  /** Root-protected: the caller also needs the `sudo` capability (Vault's PathsSpecial.Root). */
  sudo?: boolean;
  /** Accept arbitrary keys (KV data) without warnings. */
  acceptsAnyFields?: boolean;
  /** One-line help. */
  description: string;
}

/** A path compiled for matching. */
export interface CompiledPath {
  definition: PathDefinition;
  regex: RegExp;
}

/** Renew/revoke callbacks for a leased secret type, called only by the expiration manager. */
export interface SecretType {
  renew?: (input: { internalData: Record<string, unknown>; ttlSeconds: number; expireAt: Date; storage: StorageView }) => Promise<void> | void;
  revoke: (input: { internalData: Record<string, unknown>; storage: StorageView }) => Promise<void> | void;
}

/** A mounted engine or auth method instance. */
export interface Backend {
  paths: PathDefinition[];
  /**
   * Names the backend treats case-insensitively (or otherwise normalises), by capture group. The
   * router applies them before the ACL check, so the ACL sees the path the backend will act on:
   * `role/ADMIN` cannot slip past a deny on `role/admin`.
   */
  canonicalCaptures?: Record<string, (value: string) => string>;
  secrets?: Record<string, SecretType>;
  /**
   * Auth methods: called before a token this mount issued is renewed. Throw (e.g. the role was
   * deleted) to refuse the renewal; return a lower max TTL to apply the role's current limits.
   */
  renewLogin?: (input: { internalData: Record<string, unknown>; metadata: Record<string, string> }) => Promise<{ maxTtlSeconds?: number } | void> | { maxTtlSeconds?: number } | void;
  /** Auth methods that bind logins to CI runs (JWT): the run claims a role names, if any. */
  runClaims?: (roleName: string) => string[] | undefined;
  /**
   * Periodic work (static-credential rotation, drift checks), called by the scheduler's
   * `backend-periodic` job for every mount while unsealed. Never overlaps with itself.
   */
  periodic?: () => Promise<void> | void;
  /** Called when the backend instance is dropped (seal): close pools and timers. */
  close?: () => Promise<void> | void;
  /** Called when the mount is removed: drop external state. Storage is cleared by the router. */
  cleanup?: () => Promise<void> | void;
}

/** The read-only view of the lease table an engine may use (drift checks: which credentials are still leased). */
export interface LeaseQuery {
  /** Internal data of every active (not yet revoked) lease this mount issued, pending ones included. */
  activeLeaseData(): Record<string, unknown>[];
  /**
   * Records the intent to issue a secret before creating it outside the vault (a database user): a
   * pending lease with the data its revocation needs. Return its id as the secret's `pendingLeaseId`.
   * If the request never gets that far (a crash, a failure), the secret type's revoke is called after
   * a grace, so revoke must succeed for a secret that was never created.
   */
  reserve?(input: { requestPath: string; secretType: string; internalData: Record<string, unknown> }): string;
  /** The creation failed: revoke the reserved lease's secret soon rather than after the grace. */
  abandon?(leaseId: string): void;
}

/** What a backend factory gets: its config and storage, nothing else from the core. */
export interface BackendContext {
  mountPath: string;
  /** Lease lookups scoped to this mount. */
  leases?: LeaseQuery;
  options: Record<string, string>;
  storage: StorageView;
  clock: Clock;
  logger: { info: (obj: object, msg?: string) => void; warn: (obj: object, msg?: string) => void; error: (obj: object, msg?: string) => void };
}

/** An engine or auth method: one folder exports one of these. */
export type BackendFactory = (ctx: BackendContext) => Backend;

/** Compiles a backend's path list once, at mount time. */
export function compilePaths(paths: PathDefinition[]): CompiledPath[] {
  return paths.map((definition) => ({ definition, regex: new RegExp(`^(?:${definition.pattern})$`) }));
}

/** Finds the first declared path that matches `relativePath` and returns its captured groups. */
export function matchPath(compiled: CompiledPath[], relativePath: string): { path: CompiledPath; captures: Record<string, string> } | undefined {
  for (const path of compiled) {
    const m = path.regex.exec(relativePath);
    if (m) {
      const captures: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) captures[k] = v;
      return { path, captures };
    }
  }
  return undefined;
}
