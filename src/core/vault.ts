// The core request pipeline: seal gate, routing, authentication, the one central access check,
// audit, dispatch to the backend, and turning the backend's answer into Vault's response.
import { randomUUID } from 'node:crypto';
import { BadRequestError, NotFoundError, PermissionDeniedError, SealedError } from '../errors';
import type { SqliteDatabase } from '../storage/database';
import type { Logger } from '../logger';
import type { Clock } from '../util/clock';
import { merged } from '../util/objects';
import { type AuditAuthInput, AuditBroker, type AuditRequestInput, type AuditResponseInput } from './audit/broker';
import { isAuditDisable } from './audit/recovery';
import { Barrier } from './barrier';
import { BarrierStorage } from './barrier-storage';
import { addressInCidrs } from './cidr';
import { resolveRequest } from './dispatch';
import { type Envelope, envelope } from './envelope';
import { DEFAULT_EXPIRATION_CONFIG, type ExpirationConfig, ExpirationManager } from './expiration';
import { type Backend, type BackendResponse, type CompiledPath, compilePaths, type LeaseQuery, matchPath, type Operation, type RequestIdentity, type WebhookDelivery } from './framework';
import { type BackendRegistry, type LiveMount, MountTable } from './mounts';
import { PolicyStore } from './policy/policy-store';
import { Scheduler } from '../scheduler/scheduler';
import { SealManager } from './seal';
import { DEFAULT_SYSTEM_LEASE_TTL, effectiveLeaseTtl, type SystemLeaseTtl, systemBackend } from './system-backend';
import type { StagedRestore } from '../storage/snapshot';
import { authBlock, tokenBackend } from './token-backend';
import { INVALID_WRAPPING_TOKEN_MESSAGE, WrappingManager, parseWrapTtl } from './wrapping/manager';
import { requireWrapTtl } from './wrapping/paths';
import { cubbyholeBackend, purgeCubbyhole } from '../engines/cubbyhole';
import { Ledger } from './governance/ledger';
import { LedgerEvents, SCHEDULER_ACTOR } from './governance/ledger-events';
import { type TokenRecord, TokenStore } from './tokens';
import { identityBackend } from './identity/identity-backend';
import { IdentityStore } from './identity/identity-store';
import { linkLogin } from './identity/login-link';
import { type GovernanceEvents, requestActor } from './governance/events';
import { Offboarder } from './governance/offboard';
import { BlastRadius } from './governance/blast-radius';
import { LeaseIndex } from './governance/lease-index';
import { VaultMetrics } from './metrics/vault-metrics';
import { LeaseGaugeQueries } from './metrics/lease-gauges';
import { type Approver, type ControlGroupRequest, ControlGroups } from './governance/control-groups';
import { boundedJustification, checkJustification, type ControlGroupRule } from './policy/release-rules';
import { RunRegistry } from './governance/runs';
import { WebhookReceivers } from './governance/webhooks';

/** A request as the HTTP layer hands it over: canonical path (no `/v1/`), parsed data. */
export interface VaultRequest {
  operation: Operation | 'write';
  path: string;
  data: Record<string, unknown>;
  token?: string;
  clientAddress: string;
  clientPort?: number;
  requestId?: string;
  /** `X-Vault-Wrap-TTL`: answer with a single-use wrapping token instead of the response. */
  wrapTtl?: string;
  /** A body that is not JSON (a snapshot file for sys/storage/snapshot-restore); never audited. */
  rawBody?: Buffer;
  /** A webhook delivery's raw body and headers (only the HTTP layer's webhook route sets it). */
  delivery?: WebhookDelivery;
  /** `X-Leasehold-Justification`: the caller's reason (never identity or approval). */
  justification?: string;
}

/** An approved control-group request being run at unwrap, as its requester. */
interface Replay {
  token: TokenRecord;
  approvers: Approver[];
  justification?: string;
}

/** What the HTTP layer sends back; `body` undefined means 204. */
export interface VaultResponse {
  statusCode: number;
  body?: unknown;
  /** Set for a body that is not JSON: a string sent as is with this type. */
  contentType?: string;
}

/** Paths whose client token may be the wrapping token itself. */
const WRAPPING_TOKEN_PATHS = new Set(['sys/wrapping/unwrap', 'sys/wrapping/rewrap']);

/** Paths that answer while sealed (Vault's list). */
const SEALED_PATHS = new Set(['sys/init', 'sys/seal-status', 'sys/unseal', 'sys/health', 'sys/leader']);

/** Deps of the core; everything is injected so tests can use a manual clock and in-memory storage. */
export interface VaultDeps {
  db: SqliteDatabase;
  clock: Clock;
  logger: Logger;
  registry: BackendRegistry;
  version?: string;
  /** Lease handling tunables (attempts before irrevocable, backoff, batch sizes). */
  expiration?: Partial<ExpirationConfig>;
  /** Run background jobs while unsealed (default true). Embedders that drive sweeps themselves turn it off. */
  scheduler?: boolean;
  /** How long the governance ledger keeps events (default 90 days). */
  ledgerRetentionSeconds?: number;
  /**
   * The store behind `db`, for snapshots: the data directory (temporary files go there) and how a
   * restore swaps the database file. Without `replaceDatabase` (in-memory, dev) restore is refused.
   */
  storage?: { dataDir?: string; replaceDatabase?: (staged: StagedRestore) => Promise<void> };
  /** The system default and maximum lease TTLs (the config's default_lease_ttl and max_lease_ttl; 768h each by default). */
  systemLeaseTtl?: SystemLeaseTtl;
  /** sys/metrics: off entirely (no counting), or served without a token (the config file's telemetry settings). */
  telemetry?: { disabled?: boolean; unauthenticatedMetricsAccess?: boolean };
  /** Response wrapping limits: pending wraps per creating token (default 1000), bytes per wrapped response (1 MiB). */
  wrapping?: { maxPendingPerToken?: number; maxWrappedBytes?: number };
}

/** The routing decision for one request path. */
interface Route {
  mount: LiveMount | undefined;
  compiled: CompiledPath[];
  mountPath: string;
}

/** The vault: owns the barrier, seal, tokens, policies, audit and mounts, and handles every logical request. */
export class Vault {
  readonly barrier = new Barrier();
  readonly store: BarrierStorage;
  readonly seal: SealManager;
  readonly tokens: TokenStore;
  readonly policies: PolicyStore;
  readonly audit: AuditBroker;
  readonly mounts: MountTable;
  readonly expiration: ExpirationManager;
  readonly scheduler: Scheduler;
  readonly wrapping: WrappingManager;
  readonly identity: IdentityStore;
  readonly offboarder: Offboarder;
  readonly blastRadius: BlastRadius;
  readonly leaseIndex: LeaseIndex;
  readonly controlGroups: ControlGroups;
  /** CI runs bound to JWT logins (role run_claims) and their revocation. */
  readonly runs: RunRegistry;
  /** Run-end webhook receivers (GitHub, GitLab). */
  readonly webhooks: WebhookReceivers;
  /** Where offboarding and entity disables report: the ledger. */
  readonly governanceEvents: GovernanceEvents;
  readonly ledger: Ledger;
  private readonly ledgerEvents: LedgerEvents;
  /** Telemetry for sys/metrics; see its module for the API other parts use. */
  readonly metrics: VaultMetrics;
  /** The metrics the pipeline counts into: undefined when telemetry is off, so the hot path does nothing. */
  private readonly measured: VaultMetrics | undefined;
  /** How sys/metrics is served. */
  readonly telemetry: { enabled: boolean; unauthenticatedAccess: boolean };
  /** Kept in the seal config for the life of the storage, as Vault keeps it. */
  get clusterId(): string | undefined {
    return this.seal.clusterId();
  }
  readonly version: string;
  private readonly systemPaths: CompiledPath[];
  private readonly auditAuthByToken = new WeakMap<TokenRecord, AuditAuthInput>();
  /** Token plus identity policies per cached token record, rebuilt when the entity's cached policies change. */
  private readonly policiesByToken = new WeakMap<TokenRecord, { source: object; policies: string[] }>();
  private readonly system: Backend;
  /** Work a request leaves for after it is answered and audited (a restore's database swap), by request id. */
  private readonly deferred = new Map<string, { run: () => Promise<void>; cancel: () => void }>();
  /** The system lease TTLs: what a mount or token without its own tune gets, and the ceiling of every tune. */
  readonly systemLeaseTtl: SystemLeaseTtl;

  constructor(readonly deps: VaultDeps) {
    this.version = deps.version ?? '0.1.0';
    this.systemLeaseTtl = deps.systemLeaseTtl ?? DEFAULT_SYSTEM_LEASE_TTL;
    this.store = new BarrierStorage(deps.db, this.barrier);
    this.ledger = new Ledger({ db: deps.db, barrier: this.barrier, clock: deps.clock, logger: deps.logger, retentionSeconds: deps.ledgerRetentionSeconds });
    this.ledgerEvents = new LedgerEvents(this.ledger, deps.db);
    const gaugeQueries = new LeaseGaugeQueries(deps.db);
    this.metrics = new VaultMetrics({
      unsealed: () => !this.barrier.sealed,
      leases: () => gaugeQueries.leases(deps.clock.nowMs()),
      ledgerEventsByKind: () => gaugeQueries.ledgerEventsByKind(),
      auditDevices: () => this.audit.list(),
      auditFailures: () => this.audit.failedEntries,
      mountType: (path) => this.mounts.get(path)?.entry.type,
      nowMs: () => deps.clock.nowMs(),
    });
    this.telemetry = { enabled: !deps.telemetry?.disabled, unauthenticatedAccess: deps.telemetry?.unauthenticatedMetricsAccess ?? false };
    this.measured = this.telemetry.enabled ? this.metrics : undefined;
    this.seal = new SealManager(deps.db, this.barrier, deps.clock);
    this.tokens = new TokenStore({ db: deps.db, barrier: this.barrier, clock: deps.clock });
    this.policies = new PolicyStore(() => this.store.view('core/policies/'));
    this.identity = new IdentityStore({ db: deps.db, barrier: this.barrier, clock: deps.clock });
    this.identity.onEntityCreated(this.ledgerEvents.entityCreated);
    this.governanceEvents = this.ledgerEvents.governance;
    this.audit = new AuditBroker({ storage: this.store.view('core/audit/'), clock: deps.clock, logger: deps.logger });
    this.expiration = new ExpirationManager({
      db: deps.db,
      barrier: this.barrier,
      clock: deps.clock,
      logger: deps.logger,
      config: { ...DEFAULT_EXPIRATION_CONFIG, ...deps.expiration },
      tokenExists: (accessor) => this.tokens.exists(accessor),
      events: (event) => {
        this.ledgerEvents.lease(event);
        this.measured?.leaseEvent(event);
      },
      resolveMount: (uuid) => {
        const mount = this.mounts.getByUuid(uuid);
        if (!mount) return undefined;
        const ttl = effectiveLeaseTtl(mount.entry, this.systemLeaseTtl);
        const secrets = mount.backend.secrets ?? {};
        return { path: mount.entry.path, secrets: this.measured?.timedSecretTypes(secrets) ?? secrets, storage: mount.storage, defaultLeaseTtlSeconds: ttl.defaultSeconds, maxLeaseTtlSeconds: ttl.maxSeconds };
      },
    });
    this.tokens.onCreate(this.ledgerEvents.tokenCreated);
    this.tokens.onCreate((entry) => this.measured?.tokenCreated(entry.authPath, entry.ttlSeconds, entry.type));
    this.tokens.onRevoke(this.ledgerEvents.tokensRevoked);
    // Leases go with their token, in the same transaction that deletes it.
    this.tokens.onRevoke((revoked, cause) => {
      this.expiration.markTokenLeases(
        revoked.map((t) => t.accessor),
        cause.actor,
      );
      if (this.scheduler.started) setImmediate(() => void this.scheduler.runNow('lease-sweep'));
    });
    this.offboarder = new Offboarder({ db: deps.db, tokens: this.tokens, expiration: this.expiration, identity: this.identity, events: () => this.governanceEvents });
    this.blastRadius = new BlastRadius({
      db: deps.db,
      barrier: this.barrier,
      mounts: () => this.mounts.all(),
      policies: this.policies,
      identity: this.identity,
      tokens: this.tokens,
      nowMs: () => deps.clock.nowMs(),
    });
    this.runs = new RunRegistry({ db: deps.db, barrier: this.barrier, clock: deps.clock, tokens: this.tokens, offboarder: () => this.offboarder, events: () => this.governanceEvents });
    this.webhooks = new WebhookReceivers({
      db: deps.db,
      clock: deps.clock,
      storage: () => this.store.view('core/governance/webhooks/'),
      runs: () => this.runs,
      events: () => this.governanceEvents,
      roleRunClaims: (jwtMount, roleName) => {
        const mount = this.mounts.get(jwtMount);
        if (!mount || mount.entry.table !== 'auth') return undefined;
        const runClaims = mount.backend.runClaims?.(roleName);
        return runClaims && runClaims.length > 0 ? { mountAccessor: mount.entry.accessor, runClaims } : undefined;
      },
      delivered: (outcome) => this.metrics.webhookDelivered(outcome),
    });
    this.leaseIndex = new LeaseIndex({ db: deps.db, nowMs: () => deps.clock.nowMs() });
    this.wrapping = new WrappingManager({ db: deps.db, tokens: this.tokens, storage: this.store.view('core/wrapping/'), clock: deps.clock, ...deps.wrapping });
    this.controlGroups = new ControlGroups({ storage: this.store.view('core/control-group/'), wrapping: this.wrapping, identity: this.identity, ledger: this.ledger, clock: deps.clock });
    this.metrics.setPendingApprovalsSource(() => this.controlGroups.pendingCount());
    // A revoked token's cubbyhole goes with it, in the same transaction.
    this.tokens.onRevoke((revoked) => {
      const cubbyhole = this.mounts.get('cubbyhole/');
      if (cubbyhole) for (const { accessor } of revoked) purgeCubbyhole(cubbyhole.storage, accessor);
    });
    this.scheduler = new Scheduler(deps.logger);
    this.scheduler.register({ name: 'wrapping-tidy', schedule: '0 */5 * * * *', run: () => this.wrapping.tidy() });
    this.scheduler.register({ name: 'control-group-tidy', schedule: '30 * * * * *', run: () => this.controlGroups.tidy(1000) });
    this.scheduler.register({ name: 'lease-sweep', schedule: '* * * * * *', run: () => this.measured?.timeSweep(() => this.expiration.sweep()) ?? this.expiration.sweep() });
    this.scheduler.register({ name: 'token-expiry', schedule: '*/5 * * * * *', run: () => this.revokeExpiredTokens() });
    this.scheduler.register({ name: 'lease-tidy', schedule: '0 17 * * * *', run: () => this.expiration.tidy() });
    this.scheduler.register({ name: 'ci-run-tidy', schedule: '0 41 * * * *', run: () => this.runs.tidy() });
    this.scheduler.register({ name: 'ledger-tidy', schedule: '0 23 * * * *', run: () => this.ledger.tidy() });
    this.scheduler.register({ name: 'backend-periodic', schedule: '*/5 * * * * *', run: () => this.runPeriodic() });
    const system = systemBackend(this);
    this.system = system;
    this.systemPaths = compilePaths(system.paths);
    const noTune = { defaultLeaseTtlSeconds: 0, maxLeaseTtlSeconds: 0, forceNoCache: false };
    const leaseQuery = (uuid: string): LeaseQuery => ({
      activeLeaseData: () => this.expiration.activeLeaseData(uuid),
      reserve: (input) => this.expiration.reserve({ mountUuid: uuid, ...input }),
      abandon: (leaseId) => this.expiration.abandon(leaseId),
    });
    this.mounts = new MountTable({ store: this.store, registry: deps.registry, clock: deps.clock, logger: deps.logger, leaseQuery }, () => [
      {
        entry: { table: 'secret', path: 'sys/', type: 'system', description: 'system endpoints used for control, policy and debugging', config: noTune, options: {}, local: false, sealWrap: true, builtin: true },
        backend: () => system,
      },
      {
        entry: { table: 'secret', path: 'cubbyhole/', type: 'cubbyhole', description: 'per-token private secret storage', config: noTune, options: {}, local: true, sealWrap: false, builtin: true },
        backend: (storage) => cubbyholeBackend(storage),
      },
      {
        entry: { table: 'secret', path: 'identity/', type: 'identity', description: 'identity store', config: noTune, options: {}, local: false, sealWrap: false, builtin: true },
        backend: () =>
          identityBackend({
            store: this.identity,
            mountByAccessor: (accessor) => {
              const found = this.mounts.all().find((m) => m.entry.table === 'auth' && m.entry.accessor === accessor);
              return found ? { path: found.entry.path, type: found.entry.type } : undefined;
            },
            // Unlike Vault (hashicorp/vault#7367), disabling an entity also revokes the leases it holds.
            onEntityDisabled: async (entityId, actor) => {
              const { revoked, pending } = await this.offboarder.revokeEntityLeases(entityId, actor);
              this.governanceEvents.entityDisabled({ entityId, actor });
              return [
                `disabling the entity revoked the leases it holds (${revoked} revoked${pending > 0 ? `, ${pending} queued for retry` : ''}); its tokens are refused while it stays disabled`,
              ];
            },
          }),
      },
      {
        entry: { table: 'auth', path: 'auth/token/', type: 'token', description: 'token based credentials', config: noTune, options: {}, local: false, sealWrap: false, builtin: true },
        backend: (storage) =>
          tokenBackend(
            {
              tokens: this.tokens,
              clock: deps.clock,
              limits: () => ({ defaultTtlSeconds: this.systemLeaseTtl.defaultSeconds, maxTtlSeconds: this.systemLeaseTtl.maxSeconds }),
              hasSudo: (identity, path) => this.policies.acl(identity.policies).allowOperation(path, 'update', {}, true),
              identityPolicies: (entityId) => this.identity.entityPolicies(entityId)?.policies ?? [],
              mountAccessor: () => this.mounts.get('auth/token/')?.entry.accessor,
              beforeRenew: async (entry) => {
                if (entry.authPath === 'auth/token/') return undefined;
                const authMount = this.mounts.get(entry.authPath);
                if (!authMount) throw new BadRequestError('the auth method that issued this token is no longer mounted');
                return (await authMount.backend.renewLogin?.({ internalData: entry.internalData ?? {}, metadata: entry.meta })) ?? undefined;
              },
            },
            storage,
          ),
      },
    ]);
    this.seal.onUnseal(() => {
      this.policies.load();
      this.mounts.load();
      this.audit.load();
      if (deps.scheduler ?? true) this.scheduler.start();
    });
    this.seal.onSeal(async () => {
      await this.scheduler.stop();
      this.tokens.clearCache();
      // Buffered ledger events are written while the ledger key still exists.
      this.ledger.flush();
      this.audit.unload();
      await this.mounts.unload();
    });
  }

  /** Revokes tokens past their expiry (and so their leases); expiry is also enforced at every use. */
  revokeExpiredTokens(): number {
    let revoked = 0;
    for (;;) {
      const batch = this.tokens.expiredAccessors(500);
      if (batch.length === 0) return revoked;
      for (const accessor of batch) revoked += this.tokens.revokeTree(accessor, { actor: SCHEDULER_ACTOR, expired: true }).length;
    }
  }

  /** Runs every mount's periodic function (static-role rotation, drift checks); one failure does not stop the others. */
  async runPeriodic(): Promise<void> {
    for (const mount of this.mounts.all()) {
      if (!mount.backend.periodic) continue;
      try {
        await mount.backend.periodic();
      } catch (error) {
        this.deps.logger.error({ mount: mount.entry.path, err: error instanceof Error ? error.message : 'failed' }, 'periodic function failed');
      }
    }
  }

  /** Disables a mount: its leases are revoked first (synchronously); a failure keeps the mount. `actor`: who asked (the ledger's). */
  async unmount(path: string, actor: string | null = null): Promise<void> {
    const mount = this.mounts.get(path);
    if (!mount) return;
    // Everything checkable is checked before the first side effect: a refused unmount changes nothing.
    this.mounts.assertUnmountable(path);
    // Disabling an auth method ends every login it granted, before anything else goes.
    if (mount.entry.table === 'auth') this.tokens.revokeByAuthPath(mount.entry.path, { actor });
    await this.expiration.revokePrefix(mount.entry.path, { sync: true, actor });
    await this.mounts.unmount(path);
  }

  /** sys/init: creates the keys and the root token; the vault stays sealed. */
  async initialize(secretShares: number, secretThreshold: number, rootTokenId?: string): Promise<{ keys: Uint8Array[]; rootToken: string }> {
    let rootToken = '';
    const keys = await this.seal.initialize({ secretShares, secretThreshold }, () => {
      rootToken = this.createRootToken(rootTokenId);
    });
    return { keys, rootToken };
  }

  /** A root token: no expiry, the `root` policy, stored only as its HMAC. */
  createRootToken(tokenValue?: string): string {
    return this.tokens.create(
      {
        policies: ['root'],
        meta: {},
        displayName: 'root',
        authPath: 'auth/token/',
        parentAccessor: null,
        ttlSeconds: 0,
        explicitMaxTtlSeconds: 0,
        periodSeconds: 0,
        numUses: 0,
        renewable: false,
        orphan: true,
        type: 'service',
      },
      tokenValue,
    ).token;
  }

  private route(path: string): Route {
    if (path === 'sys' || path.startsWith('sys/')) {
      // Metrics open to all are served sealed too, as Vault's are: vault_core_unsealed 0 is what an alert watches for.
      if (this.barrier.sealed && !SEALED_PATHS.has(path) && !(path === 'sys/metrics' && this.telemetry.unauthenticatedAccess)) throw new SealedError();
      return { compiled: this.systemPaths, mountPath: 'sys/', mount: this.barrier.sealed ? undefined : this.mounts.get('sys/') };
    }
    if (this.barrier.sealed) throw new SealedError();
    const mount = this.mounts.route(path);
    return { mount, compiled: mount?.compiled ?? [], mountPath: mount?.entry.path ?? '' };
  }

  private authenticate(token: string | undefined, clientAddress: string): TokenRecord {
    const record = token ? this.tokens.lookup(token) : undefined;
    if (!record) throw new PermissionDeniedError();
    if (record.entry.boundCidrs && record.entry.boundCidrs.length > 0 && !addressInCidrs(clientAddress, record.entry.boundCidrs)) {
      throw new PermissionDeniedError();
    }
    // A disabled entity's tokens are refused, as in Vault.
    if (record.entry.entityId && this.identity.entityPolicies(record.entry.entityId)?.disabled) throw new PermissionDeniedError();
    return record;
  }

  /** The policies in force for a token: its own plus its entity's and groups' (cached; identity writes invalidate). */
  private tokenPolicies(record: TokenRecord): string[] {
    if (!record.entry.entityId) return record.entry.policies;
    const source = this.identity.entityPolicies(record.entry.entityId);
    if (!source || source.policies.length === 0) return record.entry.policies;
    const known = this.policiesByToken.get(record);
    if (known && known.source === source) return known.policies;
    const policies = [...new Set([...record.entry.policies, ...source.policies])];
    this.policiesByToken.set(record, { source, policies });
    return policies;
  }

  /**
   * A help request (`GET PATH?help=1`, `vault path-help`): the matching route's description and
   * parameters, as Vault's `{help, see_also}`. Any valid token may ask; the ACL allows help, as Vault's does.
   */
  help(request: { path: string; token?: string; clientAddress: string }): { help: string; see_also: null } {
    const path = request.path;
    const { compiled, mountPath } = this.route(path);
    const relativePath = path.slice(mountPath.length);
    const unauthenticated = compiled.some((c) => c.definition.unauthenticated && c.regex.test(relativePath));
    if (!unauthenticated) this.authenticate(request.token, request.clientAddress);
    if (mountPath === '') throw new NotFoundError(`no handler for route "${path}". route entry not found.`);
    const matched = matchPath(compiled, relativePath);
    if (!matched) throw new NotFoundError(`unsupported path`);
    const definition = matched.path.definition;
    const fields = Object.keys(definition.fields?.shape ?? {}).sort();
    const parameters = fields.length > 0 ? `\n\n## PARAMETERS\n\n${fields.map((name) => `${name}`).join('\n\n')}` : '';
    return {
      help: `Request:        ${relativePath}\nMatching Route: ^${definition.pattern}$\n\n${definition.description}${parameters}\n\n## DESCRIPTION\n\n${definition.description}`,
      see_also: null,
    };
  }

  /**
   * Handles one logical request. Throws VaultError subclasses; the HTTP layer maps them. With a
   * wrap TTL the response is stored under a single-use wrapping token and only `wrap_info` is sent.
   */
  async handle(request: VaultRequest): Promise<VaultResponse> {
    const requestId = request.requestId ?? randomUUID();
    const wrapTtlSeconds = request.wrapTtl !== undefined && request.wrapTtl !== '' ? parseWrapTtl(request.wrapTtl) : undefined;
    requireWrapTtl(request.path, wrapTtlSeconds);
    let result: VaultResponse;
    try {
      result = await this.handleUnwrapped(request, requestId, wrapTtlSeconds);
    } catch (error) {
      this.deferred.get(requestId)?.cancel();
      this.deferred.delete(requestId);
      throw error;
    }
    const deferred = this.deferred.get(requestId);
    if (deferred) {
      this.deferred.delete(requestId);
      await deferred.run();
    }
    return result;
  }

  /**
   * Whether `token` may restore a snapshot (unsealed, valid token, sudo update on the path): the HTTP
   * layer asks before it reads a body of up to a gigabyte. The request itself is checked again as any other.
   */
  maySendSnapshot(token: string | undefined, clientAddress: string): boolean {
    if (this.barrier.sealed) return false;
    try {
      const record = this.authenticate(token, clientAddress);
      return this.policies.acl(this.tokenPolicies(record)).allowOperation('sys/storage/snapshot-restore', 'update', {}, true);
    } catch {
      return false;
    }
  }

  /**
   * Runs `run` once request `requestId` has been answered and audited (and before its answer is
   * sent), or `cancel` if the request fails after all. For work that ends this vault's life.
   */
  afterAnswer(requestId: string, run: () => Promise<void>, cancel: () => void): void {
    this.deferred.get(requestId)?.cancel();
    this.deferred.set(requestId, { run, cancel });
  }

  /** Stores a successful response under a wrapping token when a wrap TTL was asked for; the audit entry then records `wrap_info`. */
  private wrapResult(result: VaultResponse, requestId: string, wrapTtlSeconds: number | undefined, creationPath: string, creatorAccessor: string | undefined): VaultResponse {
    if (wrapTtlSeconds === undefined || result.body === undefined || result.statusCode !== 200) return result;
    if (Buffer.isBuffer(result.body)) throw new BadRequestError('a binary response (a snapshot) cannot be response-wrapped');
    const wrapInfo = this.wrapping.wrap({ response: result.body as Record<string, unknown>, ttlSeconds: wrapTtlSeconds, creationPath, creatorAccessor });
    return { statusCode: 200, body: envelope({ request_id: requestId, wrap_info: wrapInfo as unknown as Record<string, unknown> }) };
  }

  private async handleUnwrapped(request: VaultRequest, requestId: string, wrapTtlSeconds: number | undefined, replay?: Replay): Promise<VaultResponse> {
    // Vault canonicalises list requests to a trailing slash, so `secret/*` policies cover them.
    const path = request.operation === 'list' && !request.path.endsWith('/') ? `${request.path}/` : request.path;
    const { mount, compiled, mountPath } = this.route(path);
    const relativePath = path.slice(mountPath.length);
    const unauthenticated = compiled.some((c) => c.definition.unauthenticated && c.regex.test(relativePath));
    const canonicalCaptures = mountPath === 'sys/' ? this.system.canonicalCaptures : mount?.backend.canonicalCaptures;
    // Health, seal status, init and unseal are answered outside the audit trail, as in Vault.
    const audited = !SEALED_PATHS.has(path);

    let token: TokenRecord | undefined;
    let identity: RequestIdentity | undefined;
    let operation: Operation = request.operation === 'write' ? 'update' : request.operation;
    // The request entry's input, built only when an audit device will read it (not on the hot path
    // without audit); the response entry repeats it, so each device hashes the request part once.
    let auditRequest: AuditRequestInput | undefined;
    // The devices that recorded the request entry: its response entry is owed to exactly those.
    let auditScope: ReadonlySet<string> | undefined;
    // The caller's reason: the header, else (below) the one its login gave; bounded before anything reads it.
    let justification = replay ? replay.justification : boundedJustification(request.justification);
    // A login may carry `justification`: it is the token's, not the auth method's.
    let loginJustification: string | undefined;
    if (!replay && unauthenticated && mount?.entry.table === 'auth' && Object.hasOwn(request.data, 'justification')) {
      const given = request.data.justification;
      if (given !== null && typeof given !== 'string') throw new BadRequestError('invalid value for field "justification": must be a string');
      loginJustification = boundedJustification(given ?? undefined) ?? justification;
      const { justification: _omitted, ...rest } = request.data;
      request = { ...request, data: rest };
    } else if (unauthenticated && mount?.entry.table === 'auth') {
      loginJustification = justification;
    }
    const logRequest = async (error?: string, recovery = false) => {
      // With no device now, the response is owed to none (not even one this request enables).
      if (!audited || !this.audit.hasDevices()) return;
      auditRequest = this.auditRequestInput(request, requestId, path, mount, token, operation, error, loginJustification ?? justification);
      auditScope = await (recovery ? this.audit.logRecoveryRequest(auditRequest) : this.audit.logRequest(auditRequest));
    };

    // Timed from here (a path refused while sealed is not); a login is an unauthenticated path of an auth method, as Vault times them.
    const startedMs = this.measured?.requestStarted() ?? 0;
    try {
      if (replay) {
        // The requester, with its validity now: a token revoked or expired meanwhile was not found by the caller.
        token = replay.token;
        if (token.entry.entityId && this.identity.entityPolicies(token.entry.entityId)?.disabled) throw new PermissionDeniedError();
      } else if (!unauthenticated) {
        try {
          token = this.authenticate(request.token, request.clientAddress);
        } catch (error) {
          await logRequest('permission denied');
          // As Vault: an unwrap with a spent or bogus wrapping token as the client token is a 400, not a 403.
          if (WRAPPING_TOKEN_PATHS.has(path) && request.token) throw new BadRequestError(INVALID_WRAPPING_TOKEN_MESSAGE);
          throw error;
        }
      }
      if (token) {
        identity = {
          accessor: token.entry.accessor,
          displayName: token.entry.displayName,
          policies: this.tokenPolicies(token),
          metadata: token.entry.meta,
          authPath: token.entry.authPath,
          owner: token.entry.owner,
          entityId: token.entry.entityId,
          mountAccessor: token.entry.mountAccessor,
          roleName: token.entry.loginRole ?? token.entry.role,
          context: token.entry.internalData?.context as Record<string, string> | undefined,
          runKey: token.entry.runKey,
          isRoot: token.entry.policies.includes('root'),
        };
        const fromLogin = token.entry.internalData?.justification;
        if (justification === undefined && typeof fromLogin === 'string') justification = fromLogin;
      }
      const acl = identity ? this.policies.acl(identity.policies) : undefined;

      if (!mount && mountPath === '') {
        // Unmounted path: answer as the ACL would for a mounted one, so paths cannot be probed.
        const allowed = acl?.allowOperation(path, operation, request.data, false) ?? false;
        await logRequest(allowed ? 'no handler for route' : 'permission denied');
        if (!allowed) throw new PermissionDeniedError();
        throw new NotFoundError(`no handler for route "${path}". route entry not found.`);
      }

      let resolved;
      try {
        resolved = await resolveRequest(compiled, this.incoming(request, requestId, path, relativePath, mountPath, mount, identity), canonicalCaptures);
      } catch (error) {
        await logRequest(error instanceof Error ? error.message : 'invalid request');
        throw error;
      }
      operation = resolved.operation;

      let exhausted = false;
      let deferred: ControlGroupRule | undefined;
      let released: ControlGroupRequest | undefined;
      if (acl && token) {
        const def = resolved.path.definition;
        // The one access check: on the path the backend will act on, with the parameters as it will read them.
        const allowed = def.tokenOnly || acl.allowOperation(mountPath + resolved.canonicalPath, operation, resolved.effectiveData, def.sudo ?? false, wrapTtlSeconds);
        // An authorised audit device disable proceeds even when no device can record it (see logRecoveryRequest).
        await logRequest(allowed ? undefined : 'permission denied', allowed && isAuditDisable(mountPath, operation, resolved.canonicalPath));
        if (!allowed) throw new PermissionDeniedError();
        // A token at its limit of pending wraps is refused before the request does anything (or spends a use).
        if (wrapTtlSeconds !== undefined) this.wrapping.checkCapacity(token.entry.accessor);
        // Release controls of the governing rule: a reason first, then approvals (not again when an approved request runs).
        const release = def.tokenOnly ? {} : acl.releaseRulesFor(mountPath + resolved.canonicalPath);
        checkJustification(release.justification, justification);
        if (release.controlGroup && !replay) deferred = release.controlGroup;
        // An unwrap of a control-group token: refused (token untouched) until approved; then the stored request runs.
        if (WRAPPING_TOKEN_PATHS.has(path) && !replay) released = this.controlGroups.atUnwrap(path === 'sys/wrapping/rewrap', request.data.token, token.entry);
        // A released request spent the wrapping token already; a third party's own token still pays its use.
        if (token.usesRemaining !== null && request.token && released?.accessor !== token.entry.accessor) {
          const use = this.tokens.consumeUse(request.token);
          if (!use.allowed) throw new PermissionDeniedError();
          exhausted = use.exhausted;
        }
      } else {
        await logRequest();
      }

      let result: VaultResponse;
      try {
        if (deferred && token) {
          const wrapInfo = this.controlGroups.create({
            operation: request.operation,
            path: request.path,
            data: request.data,
            clientAddress: request.clientAddress,
            requesterAccessor: token.entry.accessor,
            requesterEntityId: token.entry.entityId,
            justification,
            factors: deferred.factors,
            ttlSeconds: deferred.ttlSeconds,
          });
          result = { statusCode: 200, body: envelope({ request_id: requestId, wrap_info: wrapInfo as unknown as Record<string, unknown> }) };
        } else if (released) {
          result = await this.runReleased(released);
        } else {
          const routeStartedMs = this.measured?.now() ?? 0;
          const response = await resolved.run();
          this.measured?.routed(mountPath, operation, routeStartedMs);
          const context = { clientAddress: request.clientAddress, identity, requestPath: relativePath.replace(/\/$/, ''), justification, approvers: replay?.approvers, loginJustification };
          result = await this.respond(requestId, response, mount, context);
          if (operation === 'read' && identity && mount && result.statusCode === 200) {
            this.ledgerEvents.released({ mountType: mount.entry.type, mountPath: mount.entry.path, kvVersion: mount.entry.options.version, relativePath, identity, requestId, data: (result.body as Envelope | undefined)?.data });
          }
          result = this.wrapResult(result, requestId, wrapTtlSeconds, request.path, identity?.accessor);
        }
      } finally {
        // Vault semantics: the last use still works, and the token is revoked right after it
        // (after any lease it created is registered, so the lease goes with it).
        if (exhausted && token) this.tokens.revokeTree(token.entry.accessor, { actor: requestActor(identity) });
      }
      if (auditRequest && auditScope && auditScope.size > 0) {
        await this.audit.logResponse(merged(auditRequest, { operation, error: undefined, response: this.auditResponse(result, mount) } satisfies Partial<AuditResponseInput>), auditScope);
      }
      return result;
    } catch (error) {
      if (auditRequest && auditScope && auditScope.size > 0 && !(error instanceof Error && error.name === 'AuditFailureError')) {
        await this.audit.logResponse(merged(auditRequest, { operation, error: error instanceof Error ? error.message : 'internal error' } satisfies Partial<AuditResponseInput>), auditScope);
      }
      throw error;
    } finally {
      this.measured?.requestFinished(startedMs, unauthenticated && mountPath.startsWith('auth/'));
    }
  }

  /** Spends the wrapping token, then runs the approved request as its requester and answers with its result. */
  private async runReleased(record: ControlGroupRequest): Promise<VaultResponse> {
    const requester = this.tokens.lookupByAccessor(record.requesterAccessor);
    if (!requester) throw new BadRequestError('the token that made this request is no longer valid');
    const approvers = this.controlGroups.release(record);
    return this.handleUnwrapped(
      { operation: record.operation, path: record.path, data: record.data, clientAddress: record.clientAddress },
      randomUUID(),
      undefined,
      { token: requester, approvers, justification: record.justification },
    );
  }

  /** The request entry's audit input; `token` absent for unauthenticated requests (its hash is still logged if one was sent). */
  private auditRequestInput(
    request: VaultRequest,
    requestId: string,
    path: string,
    mount: LiveMount | undefined,
    token: TokenRecord | undefined,
    operation: Operation,
    error: string | undefined,
    justification?: string,
  ): AuditRequestInput {
    return {
      justification,
      requestId,
      operation,
      path,
      mountType: mount?.entry.type ?? '',
      mountAccessor: mount?.entry.accessor ?? '',
      clientToken: request.token,
      clientTokenAccessor: token?.entry.accessor,
      callerRecord: token,
      auth: token ? this.auditAuth(token) : undefined,
      data: request.data,
      remoteAddress: request.clientAddress,
      remotePort: request.clientPort,
      error,
    };
  }

  /** A token's audit auth block input, built once per cached token record (it depends on the record alone). */
  private auditAuth(token: TokenRecord): AuditAuthInput {
    let auth = this.auditAuthByToken.get(token);
    if (!auth) {
      auth = {
        displayName: token.entry.displayName,
        policies: token.entry.policies,
        metadata: token.entry.meta,
        accessor: token.entry.accessor,
        tokenType: 'service',
        tokenTtlSeconds: token.entry.ttlSeconds,
        tokenIssueTime: token.entry.createdAtMs,
        entityId: token.entry.entityId,
      };
      this.auditAuthByToken.set(token, auth);
    }
    return auth;
  }

  private incoming(request: VaultRequest, requestId: string, path: string, relativePath: string, mountPath: string, mount: LiveMount | undefined, identity: RequestIdentity | undefined) {
    return {
      operation: request.operation,
      path: relativePath,
      mountPath,
      rawData: request.data,
      clientAddress: request.clientAddress,
      requestId,
      clientToken: request.token,
      rawBody: request.rawBody,
      mountLeaseTtl: mount ? effectiveLeaseTtl(mount.entry, this.systemLeaseTtl) : undefined,
      storage: mount?.storage ?? this.store.view(`unmounted/${path}`),
      identity,
      delivery: request.delivery,
    };
  }

  private auditResponse(result: VaultResponse, mount: LiveMount | undefined) {
    const body = result.body as Envelope | undefined;
    if (!body || typeof body !== 'object') return { mountType: mount?.entry.type ?? '' };
    const auth = body.auth as Record<string, unknown> | null | undefined;
    const wrap = body.wrap_info as Record<string, unknown> | null | undefined;
    return {
      mountType: mount?.entry.type ?? '',
      wrapInfo: wrap
        ? { token: String(wrap.token ?? ''), accessor: String(wrap.accessor ?? ''), ttlSeconds: Number(wrap.ttl ?? 0), creationTime: String(wrap.creation_time ?? ''), creationPath: String(wrap.creation_path ?? '') }
        : undefined,
      data: (body.data ?? undefined) as Record<string, unknown> | undefined,
      secret: body.lease_id ? { leaseId: body.lease_id } : undefined,
      auth: auth
        ? {
            clientToken: String(auth.client_token ?? ''),
            accessor: String(auth.accessor ?? ''),
            policies: (auth.policies as string[]) ?? [],
            metadata: (auth.metadata as Record<string, string>) ?? {},
            displayName: '',
            leaseDurationSeconds: Number(auth.lease_duration ?? 0),
            renewable: Boolean(auth.renewable),
            tokenType: 'service',
            numUses: Number(auth.num_uses ?? 0),
            entityId: typeof auth.entity_id === 'string' && auth.entity_id !== '' ? auth.entity_id : undefined,
          }
        : undefined,
      warnings: body.warnings ?? undefined,
    };
  }

  private async respond(
    requestId: string,
    response: BackendResponse | undefined,
    mount: LiveMount | undefined,
    context: { clientAddress: string; identity?: RequestIdentity; requestPath: string; justification?: string; approvers?: Approver[]; loginJustification?: string },
  ): Promise<VaultResponse> {
    if (!response) return { statusCode: 204 };
    const raw = response.raw;
    if (raw) return raw.contentType ? { statusCode: raw.statusCode, body: raw.body, contentType: raw.contentType } : { statusCode: raw.statusCode, body: raw.body };
    let auth = response.authBlock ?? null;
    if (response.auth && mount) auth = this.mintLoginToken(response.auth, mount, context.clientAddress, context.loginJustification);
    let lease = response.leaseInfo;
    if (response.secret && mount) {
      // Only the expiration manager mints lease ids; if it cannot store the lease it revokes the credential.
      lease = await this.expiration.register({
        mountUuid: mount.entry.uuid,
        requestPath: context.requestPath,
        secret: response.secret,
        requester: {
          tokenAccessor: context.identity?.accessor,
          identity: context.identity?.displayName,
          owner: context.identity?.owner,
          entityId: context.identity?.entityId,
          mountAccessor: context.identity?.mountAccessor,
          roleName: context.identity?.roleName,
          justification: context.justification,
          approvers: context.approvers && context.approvers.length > 0 ? context.approvers : undefined,
          runKey: context.identity?.runKey,
          context: { clientAddress: context.clientAddress, ...(context.identity?.context ? { claims: context.identity.context } : {}) },
        },
      });
      this.measured?.leaseCreated(mount.entry.type, mount.entry.path, lease.ttlSeconds);
    }
    if (!response.data && !auth && !lease && (!response.warnings || response.warnings.length === 0)) {
      return { statusCode: 204 };
    }
    const body: Envelope = envelope(
      {
        request_id: requestId,
        data: response.data ?? null,
        warnings: response.warnings,
        auth,
        lease_id: lease?.leaseId,
        renewable: lease?.renewable,
        lease_duration: lease ? lease.ttlSeconds : (response.leaseDurationSeconds ?? 0),
        mount_type: mount?.entry.type ?? '',
      },
      response.topLevelData,
    );
    return { statusCode: 200, body };
  }

  /** Turns an auth method's login answer into a stored token (orphan: logins have no parent). */
  private mintLoginToken(auth: NonNullable<BackendResponse['auth']>, mount: LiveMount, clientAddress: string, justification?: string): Record<string, unknown> {
    const mountTtl = effectiveLeaseTtl(mount.entry, this.systemLeaseTtl);
    const maxTtl = Math.min(auth.maxTtlSeconds || mountTtl.maxSeconds, mountTtl.maxSeconds);
    let ttlSeconds = auth.periodSeconds ? auth.periodSeconds : auth.ttlSeconds || mountTtl.defaultSeconds;
    if (!auth.periodSeconds) ttlSeconds = Math.min(ttlSeconds, maxTtl);
    if (auth.explicitMaxTtlSeconds) ttlSeconds = Math.min(ttlSeconds, auth.explicitMaxTtlSeconds);
    // Auth methods can never mint root tokens; `default` is added unless the role says otherwise.
    const withDefault = auth.noDefaultPolicy || auth.policies.includes('default') ? auth.policies : [...auth.policies, 'default'];
    const policies = [...new Set(withDefault)].filter((p) => p !== 'root' && p !== 'response-wrapping');
    if (policies.length === 0) throw new BadRequestError('the login would produce a token without policies');
    // A login of a CI run: the run is recorded (claims encrypted) and its key stamped on the token;
    // a run already revoked is refused before anything (an entity included) is created for it.
    const runKey = auth.run ? this.runs.recordLogin(mount.entry.accessor, auth.run.claims) : undefined;
    const holder = linkLogin(this.identity, mount.entry, auth);
    const { token, record } = this.tokens.create({
      policies,
      meta: auth.metadata,
      displayName: `${mount.entry.path.slice('auth/'.length, -1)}-${auth.displayName}`.replace(/-$/, ''),
      authPath: mount.entry.path,
      parentAccessor: null,
      ttlSeconds,
      explicitMaxTtlSeconds: auth.periodSeconds ? (auth.explicitMaxTtlSeconds ?? 0) : Math.min(maxTtl, auth.explicitMaxTtlSeconds || maxTtl),
      periodSeconds: auth.periodSeconds ?? 0,
      numUses: auth.numUses ?? 0,
      renewable: auth.renewable,
      orphan: true,
      type: 'service',
      boundCidrs: auth.boundCidrs && auth.boundCidrs.length > 0 ? auth.boundCidrs : undefined,
      internalData: { ...(auth.internalData ?? {}), clientAddress, ...(auth.context ? { context: auth.context } : {}), ...(justification ? { justification } : {}) },
      entityId: holder.entityId,
      owner: holder.owner,
      mountAccessor: holder.mountAccessor,
      loginRole: holder.roleName,
      runKey,
    });
    const identityPolicies = holder.entityId ? this.identity.entityPolicies(holder.entityId)?.policies : undefined;
    return authBlock(token, record, this.deps.clock.nowMs(), identityPolicies);
  }
}
