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
import { type Backend, type BackendResponse, type CompiledPath, compilePaths, matchPath, type Operation, type RequestIdentity, type WebhookDelivery } from './framework';
import { type BackendRegistry, type LiveMount, MountTable } from './mounts';
import { PolicyStore } from './policy/policy-store';
import { Scheduler } from '../scheduler/scheduler';
import { SealManager } from './seal';
import { effectiveLeaseTtl, SYSTEM_DEFAULT_LEASE_TTL_SECONDS, SYSTEM_MAX_LEASE_TTL_SECONDS, systemBackend } from './system-backend';
import { authBlock, tokenBackend } from './token-backend';
import { INVALID_WRAPPING_TOKEN_MESSAGE, WrappingManager, parseWrapTtl } from './wrapping/manager';
import { requireWrapTtl } from './wrapping/paths';
import { cubbyholeBackend, purgeCubbyhole } from '../engines/cubbyhole';
import { Ledger } from './governance/ledger';
import { LedgerEvents } from './governance/ledger-events';
import { type TokenRecord, TokenStore } from './tokens';
import { identityBackend } from './identity/identity-backend';
import { IdentityStore } from './identity/identity-store';
import { linkLogin } from './identity/login-link';
import type { GovernanceEvents } from './governance/events';
import { Offboarder } from './governance/offboard';
import { BlastRadius } from './governance/blast-radius';
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
  /** A webhook delivery's raw body and headers (only the HTTP layer's webhook route sets it). */
  delivery?: WebhookDelivery;
}

/** What the HTTP layer sends back; `body` undefined means 204. */
export interface VaultResponse {
  statusCode: number;
  body?: unknown;
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
  /** CI runs bound to JWT logins (role run_claims) and their revocation. */
  readonly runs: RunRegistry;
  /** Run-end webhook receivers (GitHub, GitLab). */
  readonly webhooks: WebhookReceivers;
  /** Where offboarding and entity disables report: the ledger. */
  readonly governanceEvents: GovernanceEvents;
  readonly ledger: Ledger;
  private readonly ledgerEvents: LedgerEvents;
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

  constructor(readonly deps: VaultDeps) {
    this.version = deps.version ?? '0.1.0';
    this.store = new BarrierStorage(deps.db, this.barrier);
    this.ledger = new Ledger({ db: deps.db, barrier: this.barrier, clock: deps.clock, logger: deps.logger, retentionSeconds: deps.ledgerRetentionSeconds });
    this.ledgerEvents = new LedgerEvents(this.ledger, deps.db);
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
      events: this.ledgerEvents.lease,
      resolveMount: (uuid) => {
        const mount = this.mounts.getByUuid(uuid);
        if (!mount) return undefined;
        const ttl = effectiveLeaseTtl(mount.entry);
        return { path: mount.entry.path, secrets: mount.backend.secrets ?? {}, storage: mount.storage, defaultLeaseTtlSeconds: ttl.defaultSeconds, maxLeaseTtlSeconds: ttl.maxSeconds };
      },
    });
    this.tokens.onCreate(this.ledgerEvents.tokenCreated);
    this.tokens.onRevoke(this.ledgerEvents.tokensRevoked);
    // Leases go with their token, in the same transaction that deletes it.
    this.tokens.onRevoke((accessors) => {
      this.expiration.markTokenLeases(accessors);
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
    });
    this.wrapping = new WrappingManager({ tokens: this.tokens, storage: this.store.view('core/wrapping/'), clock: deps.clock });
    // A revoked token's cubbyhole goes with it, in the same transaction.
    this.tokens.onRevoke((accessors) => {
      const cubbyhole = this.mounts.get('cubbyhole/');
      if (cubbyhole) for (const accessor of accessors) purgeCubbyhole(cubbyhole.storage, accessor);
    });
    this.scheduler = new Scheduler(deps.logger);
    this.scheduler.register({ name: 'wrapping-tidy', schedule: '0 */5 * * * *', run: () => this.wrapping.tidy(1000) });
    this.scheduler.register({ name: 'lease-sweep', schedule: '* * * * * *', run: () => this.expiration.sweep() });
    this.scheduler.register({ name: 'token-expiry', schedule: '*/5 * * * * *', run: () => this.revokeExpiredTokens() });
    this.scheduler.register({ name: 'lease-tidy', schedule: '0 17 * * * *', run: () => this.expiration.tidy() });
    this.scheduler.register({ name: 'ci-run-tidy', schedule: '0 41 * * * *', run: () => this.runs.tidy() });
    this.scheduler.register({ name: 'ledger-tidy', schedule: '0 23 * * * *', run: () => this.ledger.tidy() });
    this.scheduler.register({ name: 'backend-periodic', schedule: '*/5 * * * * *', run: () => this.runPeriodic() });
    const system = systemBackend(this);
    this.system = system;
    this.systemPaths = compilePaths(system.paths);
    const noTune = { defaultLeaseTtlSeconds: 0, maxLeaseTtlSeconds: 0, forceNoCache: false };
    this.mounts = new MountTable({ store: this.store, registry: deps.registry, clock: deps.clock, logger: deps.logger, leaseQuery: (uuid) => ({ activeLeaseData: () => this.expiration.activeLeaseData(uuid) }) }, () => [
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
            onEntityDisabled: async (entityId) => {
              const { revoked, pending } = await this.offboarder.revokeEntityLeases(entityId);
              this.governanceEvents.entityDisabled({ entityId, actor: 'identity' });
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
              limits: () => ({ defaultTtlSeconds: SYSTEM_DEFAULT_LEASE_TTL_SECONDS, maxTtlSeconds: SYSTEM_MAX_LEASE_TTL_SECONDS }),
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
      for (const accessor of batch) revoked += this.ledgerEvents.expiring(() => this.tokens.revokeTree(accessor)).length;
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

  /** Disables a mount: its leases are revoked first (synchronously); a failure keeps the mount. */
  async unmount(path: string): Promise<void> {
    const mount = this.mounts.get(path);
    if (!mount) return;
    // Everything checkable is checked before the first side effect: a refused unmount changes nothing.
    this.mounts.assertUnmountable(path);
    // Disabling an auth method ends every login it granted, before anything else goes.
    if (mount.entry.table === 'auth') this.tokens.revokeByAuthPath(mount.entry.path);
    await this.expiration.revokePrefix(mount.entry.path, { sync: true });
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
      if (this.barrier.sealed && !SEALED_PATHS.has(path)) throw new SealedError();
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
    return this.handleUnwrapped(request, requestId, wrapTtlSeconds);
  }

  /** Stores a successful response under a wrapping token when a wrap TTL was asked for; the audit entry then records `wrap_info`. */
  private wrapResult(result: VaultResponse, requestId: string, wrapTtlSeconds: number | undefined, creationPath: string): VaultResponse {
    if (wrapTtlSeconds === undefined || result.body === undefined || result.statusCode !== 200) return result;
    const wrapInfo = this.wrapping.wrap({ response: result.body as Record<string, unknown>, ttlSeconds: wrapTtlSeconds, creationPath });
    return { statusCode: 200, body: envelope({ request_id: requestId, wrap_info: wrapInfo as unknown as Record<string, unknown> }) };
  }

  private async handleUnwrapped(request: VaultRequest, requestId: string, wrapTtlSeconds: number | undefined): Promise<VaultResponse> {
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
    const logRequest = async (error?: string, recovery = false) => {
      // With no device now, the response is owed to none (not even one this request enables).
      if (!audited || !this.audit.hasDevices()) return;
      auditRequest = this.auditRequestInput(request, requestId, path, mount, token, operation, error);
      auditScope = await (recovery ? this.audit.logRecoveryRequest(auditRequest) : this.audit.logRequest(auditRequest));
    };

    try {
      if (!unauthenticated) {
        try {
          token = this.authenticate(request.token, request.clientAddress);
        } catch (error) {
          await logRequest('permission denied');
          // As Vault: an unwrap with a spent or bogus wrapping token as the client token is a 400, not a 403.
          if (WRAPPING_TOKEN_PATHS.has(path) && request.token) throw new BadRequestError(INVALID_WRAPPING_TOKEN_MESSAGE);
          throw error;
        }
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
      if (acl && token) {
        const def = resolved.path.definition;
        // The one access check: on the path the backend will act on, with the parameters as it will read them.
        const allowed = def.tokenOnly || acl.allowOperation(mountPath + resolved.canonicalPath, operation, resolved.effectiveData, def.sudo ?? false, wrapTtlSeconds);
        // An authorised audit device disable proceeds even when no device can record it (see logRecoveryRequest).
        await logRequest(allowed ? undefined : 'permission denied', allowed && isAuditDisable(mountPath, operation, resolved.canonicalPath));
        if (!allowed) throw new PermissionDeniedError();
        if (token.usesRemaining !== null && request.token) {
          const use = this.tokens.consumeUse(request.token);
          if (!use.allowed) throw new PermissionDeniedError();
          exhausted = use.exhausted;
        }
      } else {
        await logRequest();
      }

      let result: VaultResponse;
      try {
        const response = await resolved.run();
        result = await this.respond(requestId, response, mount, { clientAddress: request.clientAddress, identity, requestPath: relativePath.replace(/\/$/, '') });
        if (operation === 'read' && identity && mount && result.statusCode === 200) {
          this.ledgerEvents.released({ mountType: mount.entry.type, mountPath: mount.entry.path, kvVersion: mount.entry.options.version, relativePath, identity, requestId, data: (result.body as Envelope | undefined)?.data });
        }
        result = this.wrapResult(result, requestId, wrapTtlSeconds, request.path);
      } finally {
        // Vault semantics: the last use still works, and the token is revoked right after it
        // (after any lease it created is registered, so the lease goes with it).
        if (exhausted && token) this.tokens.revokeTree(token.entry.accessor);
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
    }
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
  ): AuditRequestInput {
    return {
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
      mountLeaseTtl: mount ? effectiveLeaseTtl(mount.entry) : undefined,
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
    context: { clientAddress: string; identity?: RequestIdentity; requestPath: string },
  ): Promise<VaultResponse> {
    if (!response) return { statusCode: 204 };
    if (response.raw) return { statusCode: response.raw.statusCode, body: response.raw.body };
    let auth = response.authBlock ?? null;
    if (response.auth && mount) auth = this.mintLoginToken(response.auth, mount, context.clientAddress);
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
          runKey: context.identity?.runKey,
          context: { clientAddress: context.clientAddress, ...(context.identity?.context ? { claims: context.identity.context } : {}) },
        },
      });
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
  private mintLoginToken(auth: NonNullable<BackendResponse['auth']>, mount: LiveMount, clientAddress: string): Record<string, unknown> {
    const mountTtl = effectiveLeaseTtl(mount.entry);
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
      internalData: { ...(auth.internalData ?? {}), clientAddress, ...(auth.context ? { context: auth.context } : {}) },
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
