// A vault's telemetry: Vault's metric names (so existing dashboards and alerts work) and
// Leasehold's own under `leasehold_`, in one prom-client Registry per Vault instance (never the
// global registry: a test process holds many vaults). The request path only bumps numbers and
// writes into a ring (see WindowedSummary); gauges are read from their stores when scraped.
//
// API for other parts of Leasehold (call these; do not register metrics of your own elsewhere):
// - `vault.metrics.setPendingApprovalsSource(() => n)`: the approvals code reports how many
//   requests wait for an approval (`leasehold_approvals_pending`), read at each scrape.
// - `vault.metrics.webhookDelivered(outcome)`: one CI webhook delivery handled, by outcome
//   (`leasehold_webhook_deliveries_total{outcome}`; outcomes are the fixed WEBHOOK_DELIVERY_OUTCOMES).
// Label values are bounded: mount paths, auth/engine types, TTL buckets and kinds; never lease
// ids, accessors, owners, entities or request paths.
import { storageFullCount } from '../../storage/storage-full';
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Registry } from 'prom-client';
import type { AuditDeviceListing } from '../audit/broker';
import type { LeaseLifecycleEvent } from '../expiration';
import type { SecretType } from '../framework';
import type { LeaseGauges } from './lease-gauges';
import { type ScrapedMetric, WindowedSummary } from './windowed-summary';

/** How a CI webhook delivery ended: a run ended (`accepted`), nothing to do, a bad signature, or a failure. */
export const WEBHOOK_DELIVERY_OUTCOMES = ['accepted', 'ignored', 'rejected', 'error'] as const;
export type WebhookDeliveryOutcome = (typeof WEBHOOK_DELIVERY_OUTCOMES)[number];

/** What the gauges read at scrape time; wired in the composition root. */
export interface MetricsSources {
  unsealed: () => boolean;
  /** Read from the lease table's plaintext columns: true while sealed too. */
  leases: () => LeaseGauges;
  /** Ledger events appended since start, by kind (a running total). */
  ledgerEventsByKind: () => Record<string, number>;
  auditDevices: () => Record<string, AuditDeviceListing>;
  /** Entries no audit device recorded since start (the broker's counts). */
  auditFailures: () => { request: number; response: number };
  /** The type of the mount at a path (`auth/approle/` -> `approle`), for the token creation labels. */
  mountType: (path: string) => string | undefined;
  nowMs: () => number;
}

/** Vault's TTL buckets for the creation_ttl label (metricsutil.TTLBucket). */
const TTL_BUCKETS: ReadonlyArray<[number, string]> = [
  [60, '1m'],
  [600, '10m'],
  [1200, '20m'],
  [3600, '1h'],
  [7200, '2h'],
  [86400, '1d'],
  [2 * 86400, '2d'],
  [7 * 86400, '7d'],
  [30 * 86400, '30d'],
];

/** The creation_ttl label Vault gives a TTL: the smallest bucket that holds it; `+Inf` past 30 days or for none. */
export function ttlBucket(ttlSeconds: number): string {
  if (ttlSeconds <= 0) return '+Inf';
  for (const [limit, label] of TTL_BUCKETS) if (ttlSeconds <= limit) return label;
  return '+Inf';
}

/**
 * The Prometheus name for a go-metrics key: Vault's route metrics put the mount in the name with
 * `/` as `-` (`secret/` -> `vault.route.read.secret-`), and its Prometheus sink turns ` .=-/` into
 * `_` (`vault_route_read_secret_`); anything else a name cannot hold becomes `_` too.
 */
export function prometheusName(key: string): string {
  return key.replace(/[^a-zA-Z0-9_:]/g, '_');
}

/** A metric as the JSON form needs it: its go-metrics key and its prom-client object. */
interface Registered {
  key: string;
  metric: { get(): Promise<unknown> };
  summary?: WindowedSummary;
}

/** go-metrics' JSON rendering (Vault's sys/metrics without `format`). */
export interface VaultMetricsJson {
  Timestamp: string;
  Gauges: Array<{ Name: string; Value: number; Labels: Record<string, string> }>;
  Points: never[];
  Counters: SampledValue[];
  Samples: SampledValue[];
}

interface SampledValue {
  Name: string;
  Count: number;
  Rate: number;
  Sum: number;
  Min: number;
  Max: number;
  Mean: number;
  Stddev: number;
  Labels: Record<string, string>;
}

type RouteSummaries = Partial<Record<string, WindowedSummary>>;

/** One vault's metrics. Every method is cheap and never throws into the caller's path. */
export class VaultMetrics {
  readonly registry = new Registry();
  private readonly registered: Registered[] = [];
  private readonly startedAtMs: number;
  private inFlight = 0;
  private pendingApprovals: () => number = () => 0;
  private readonly handleRequest: WindowedSummary;
  private readonly handleLoginRequest: WindowedSummary;
  private readonly expireRevoke: WindowedSummary;
  private readonly sweepDuration: WindowedSummary;
  private readonly routes = new Map<string, RouteSummaries>();
  private readonly leaseExpiration: Counter;
  private readonly leaseExpirationError: Counter;
  private readonly leaseCreation: Counter<'namespace' | 'secret_engine' | 'mount_point' | 'creation_ttl'>;
  private readonly tokenCreation: Counter<'namespace' | 'auth_method' | 'mount_point' | 'creation_ttl' | 'token_type'>;
  private readonly webhookDeliveries: Counter<'outcome'>;
  private readonly timedSecretsCache = new WeakMap<Record<string, SecretType>, Record<string, SecretType>>();
  /** The lease gauges of the scrape in progress: the several gauges that show them share one set of queries. */
  private scrapeLeases: LeaseGauges | undefined;

  constructor(private readonly sources: MetricsSources) {
    this.startedAtMs = sources.nowMs();
    const src = sources;
    const leasesNow = () => this.leasesForScrape();

    this.gauge('vault.core.unsealed', 'Whether the vault is unsealed (1) or sealed (0).', [], (g) => g.set(src.unsealed() ? 1 : 0));
    // One node, active whenever it is unsealed.
    this.gauge('vault.core.active', 'Whether this node is the active node (1) or a standby (0).', [], (g) => g.set(src.unsealed() ? 1 : 0));
    this.gauge('vault.core.in_flight_requests', 'Requests being handled now.', [], (g) => g.set(this.inFlight));
    this.handleRequest = this.summary('vault.core.handle_request', 'Time to handle a non-login request, in milliseconds.');
    this.handleLoginRequest = this.summary('vault.core.handle_login_request', 'Time to handle a login request, in milliseconds.');

    this.gauge('vault.expire.num_leases', 'Leases not yet revoked (they will expire or be revoked).', [], (g) => g.set(leasesNow().notRevoked));
    this.gauge('vault.expire.num_irrevocable_leases', 'Leases whose revocation failed every attempt; retried, shown by sys/leases.', [], (g) => g.set(leasesNow().irrevocable));
    this.expireRevoke = this.summary('vault.expire.revoke', 'Time of one backend revocation call, in milliseconds.');
    this.leaseExpiration = this.counter('vault.expire.lease_expiration', 'Leases revoked because they expired.', []);
    this.leaseExpirationError = this.counter('vault.expire.lease_expiration.error', 'Failed attempts to revoke an expired lease.', []);
    this.leaseCreation = this.counter('vault.secret.lease.creation', 'Leases created, by engine, mount and TTL bucket.', ['namespace', 'secret_engine', 'mount_point', 'creation_ttl']);
    this.tokenCreation = this.counter('vault.token.creation', 'Tokens created, by auth method, mount and TTL bucket.', ['namespace', 'auth_method', 'mount_point', 'creation_ttl', 'token_type']);

    this.counter('vault.audit.log_request_failure', 'Request entries that no audit device recorded (the request was refused).', [], (c) => c.inc(src.auditFailures().request));
    this.counter('vault.audit.log_response_failure', 'Response entries that no audit device recorded.', [], (c) => c.inc(src.auditFailures().response));
    const auditGauge = (key: string, help: string, value: (device: AuditDeviceListing) => number) =>
      this.gauge(key, help, ['path'], (g) => {
        for (const [path, device] of Object.entries(src.auditDevices())) g.set({ path }, value(device));
      });
    auditGauge('leasehold.audit.device.failures', 'Failed writes of an audit device since it was enabled or the vault unsealed.', (d) => d.health.failures_since_enable);
    auditGauge('leasehold.audit.device.failing', 'Whether the audit device failed its last write (1) or not (0).', (d) => (d.health.last_error_time !== '' && d.health.last_error_time >= d.health.last_success_time ? 1 : 0));
    auditGauge('leasehold.audit.device.last_error_timestamp_seconds', 'Unix time of the audit device\'s last failed write; 0 when none.', (d) => timestampSeconds(d.health.last_error_time));
    auditGauge('leasehold.audit.device.last_success_timestamp_seconds', 'Unix time of the audit device\'s last successful write; 0 when none.', (d) => timestampSeconds(d.health.last_success_time));

    this.gauge('leasehold.leases.live', 'Live leases (active, not past expiry) by mount.', ['mount'], (g) => {
      for (const [mount, n] of Object.entries(leasesNow().liveByMount)) g.set({ mount }, n);
    });
    this.gauge('leasehold.revocation.oldest_pending_age_seconds', 'Seconds since the oldest revocation still to do became due (an expired or revoked lease whose backend call has not succeeded); 0 when none.', [], (g) =>
      g.set(leasesNow().oldestPendingRevocationAgeSeconds),
    );
    this.counter('leasehold.ledger.events_total', 'Events appended to the governance ledger since start, by kind.', ['kind'], (c) => {
      for (const [kind, n] of Object.entries(src.ledgerEventsByKind())) c.inc({ kind }, n);
    });
    this.sweepDuration = this.summary('leasehold.sweep.duration_seconds', 'Time of one lease sweep (expired and pending revocations), in seconds.');
    this.gauge('leasehold.approvals.pending', 'Requests waiting for an approval.', [], (g) => g.set(this.pendingApprovals()));
    this.counter('leasehold.storage.full_writes_total', 'Writes refused because the storage (disk) was full, since the process started.', [], (c) => c.inc(storageFullCount()));
    this.webhookDeliveries = this.counter('leasehold.webhook.deliveries_total', 'CI webhook deliveries handled, by outcome.', ['outcome']);
    for (const outcome of WEBHOOK_DELIVERY_OUTCOMES) this.webhookDeliveries.inc({ outcome }, 0);
  }

  // --- the request path -------------------------------------------------------------------

  /** Start of a request: counted in flight; returns its start time for `requestFinished`. */
  requestStarted(): number {
    this.inFlight += 1;
    return performance.now();
  }

  /** End of a request (answered or failed). */
  requestFinished(startedMs: number, login: boolean): void {
    this.inFlight -= 1;
    (login ? this.handleLoginRequest : this.handleRequest).observe(performance.now() - startedMs);
  }

  /** A timestamp for `routed`. */
  now(): number {
    return performance.now();
  }

  /** A backend answered `operation` on the mount at `mountPath` (Vault's vault.route.<op>.<mount>). */
  routed(mountPath: string, operation: string, startedMs: number): void {
    let byOperation = this.routes.get(mountPath);
    if (!byOperation) {
      byOperation = {};
      this.routes.set(mountPath, byOperation);
    }
    let summary = byOperation[operation];
    if (!summary) {
      summary = this.summary(`vault.route.${operation}.${mountPath.replaceAll('/', '-')}`, `Time for the backend at ${mountPath} to answer a ${operation}, in milliseconds.`);
      byOperation[operation] = summary;
    }
    summary.observe(performance.now() - startedMs);
  }

  // --- lifecycle events (off the hot path) ------------------------------------------------

  /** A lease was registered by an engine mounted at `mountPoint`. */
  leaseCreated(engineType: string, mountPoint: string, ttlSeconds: number): void {
    this.leaseCreation.inc({ namespace: 'root', secret_engine: engineType, mount_point: mountPoint, creation_ttl: ttlBucket(ttlSeconds) });
  }

  /** A token was stored. */
  tokenCreated(authPath: string, ttlSeconds: number, tokenType: string): void {
    const authMethod = this.sources.mountType(authPath) ?? (authPath === 'auth/token/' ? 'token' : 'unknown');
    this.tokenCreation.inc({ namespace: 'root', auth_method: authMethod, mount_point: authPath, creation_ttl: ttlBucket(ttlSeconds), token_type: tokenType });
  }

  /** The expiration manager's lifecycle events (called inside its transaction: counting only). */
  leaseEvent(event: LeaseLifecycleEvent): void {
    if (event.reason !== 'expired') return;
    if (event.kind === 'revoked') this.leaseExpiration.inc();
    else if (event.kind === 'revoke_failed' || event.kind === 'irrevocable') this.leaseExpirationError.inc();
  }

  /** A mount's secret types with each backend revoke call timed (vault.expire.revoke); cached per backend. */
  timedSecretTypes(secrets: Record<string, SecretType>): Record<string, SecretType> {
    let timed = this.timedSecretsCache.get(secrets);
    if (!timed) {
      timed = {};
      for (const [name, type] of Object.entries(secrets)) {
        timed[name] = {
          ...type,
          revoke: async (input) => {
            const startedMs = performance.now();
            try {
              return await type.revoke(input);
            } finally {
              this.expireRevoke.observe(performance.now() - startedMs);
            }
          },
        };
      }
      this.timedSecretsCache.set(secrets, timed);
    }
    return timed;
  }

  /** Runs one lease sweep and records how long it took. */
  async timeSweep<T>(sweep: () => Promise<T>): Promise<T> {
    const startedMs = performance.now();
    try {
      return await sweep();
    } finally {
      this.sweepDuration.observe((performance.now() - startedMs) / 1000);
    }
  }

  // --- the API for other parts of Leasehold -----------------------------------------------

  /** Where `leasehold_approvals_pending` comes from (the approvals code sets it once; read at each scrape). */
  setPendingApprovalsSource(source: () => number): void {
    this.pendingApprovals = source;
  }

  /** Counts one CI webhook delivery by how it ended. */
  webhookDelivered(outcome: WebhookDeliveryOutcome): void {
    this.webhookDeliveries.inc({ outcome });
  }

  // --- scraping ---------------------------------------------------------------------------

  /** The Prometheus text exposition format. */
  async prometheus(): Promise<string> {
    return this.scrape(() => this.registry.metrics());
  }

  /** Content type of `prometheus()`. */
  get prometheusContentType(): string {
    return this.registry.contentType;
  }

  /**
   * go-metrics' JSON (what Vault's sys/metrics answers without `format`): names dotted as Vault's
   * keys. Leasehold keeps totals since start rather than go-metrics' 10-second intervals, so a
   * counter's Count and Sum are its total and Rate is per second since start.
   */
  async json(): Promise<VaultMetricsJson> {
    return this.scrape(async () => {
      const nowMs = this.sources.nowMs();
      const uptimeSeconds = Math.max(1, (nowMs - this.startedAtMs) / 1000);
      const out: VaultMetricsJson = { Timestamp: goTimestamp(nowMs), Gauges: [], Points: [], Counters: [], Samples: [] };
      for (const { key, metric, summary } of this.registered) {
        if (summary) {
          const a = summary.aggregate();
          const mean = a.count > 0 ? a.sum / a.count : 0;
          const variance = a.count > 1 ? Math.max(0, (a.sumSquares - a.count * mean * mean) / (a.count - 1)) : 0;
          out.Samples.push({ Name: key, Count: a.count, Rate: a.sum / uptimeSeconds, Sum: a.sum, Min: a.min, Max: a.max, Mean: mean, Stddev: Math.sqrt(variance), Labels: {} });
          continue;
        }
        const scraped = (await metric.get()) as ScrapedMetric;
        for (const { value, labels } of scraped.values) {
          const Labels = Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)]));
          if (scraped.type === 'gauge') {
            out.Gauges.push({ Name: key, Value: value, Labels });
          } else {
            const one = value > 0 ? 1 : 0;
            out.Counters.push({ Name: key, Count: value, Rate: value / uptimeSeconds, Sum: value, Min: one, Max: one, Mean: one, Stddev: 0, Labels });
          }
        }
      }
      const byName = (a: { Name: string }, b: { Name: string }) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0);
      out.Gauges.sort(byName);
      out.Counters.sort(byName);
      out.Samples.sort(byName);
      return out;
    });
  }

  /** Runs one scrape with the lease queries shared by the gauges that read them. */
  private async scrape<T>(render: () => Promise<T>): Promise<T> {
    this.scrapeLeases = undefined;
    try {
      return await render();
    } finally {
      this.scrapeLeases = undefined;
    }
  }

  private leasesForScrape(): LeaseGauges {
    this.scrapeLeases ??= this.sources.leases();
    return this.scrapeLeases;
  }

  // --- registration -----------------------------------------------------------------------

  private gauge<L extends string>(key: string, help: string, labelNames: L[], collect: (gauge: Gauge<L>) => void): Gauge<L> {
    const gauge: Gauge<L> = new Gauge<L>({
      name: prometheusName(key),
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        // Labelled gauges are rebuilt at each scrape: a disabled device or an emptied mount disappears.
        if (labelNames.length > 0) this.reset();
        collect(this);
      },
    });
    this.registered.push({ key, metric: gauge });
    return gauge;
  }

  private counter<L extends string>(key: string, help: string, labelNames: L[], total?: (counter: Counter<L>) => void): Counter<L> {
    const counter: Counter<L> = new Counter<L>({
      name: prometheusName(key),
      help,
      labelNames,
      registers: [this.registry],
      ...(total
        ? {
            collect() {
              // A total kept by its owner (the audit broker): shown as it stands.
              this.reset();
              total(this);
            },
          }
        : {}),
    });
    this.registered.push({ key, metric: counter });
    return counter;
  }

  private summary(key: string, help: string): WindowedSummary {
    const summary = new WindowedSummary(prometheusName(key), help);
    this.registry.registerMetric(summary as unknown as Parameters<Registry['registerMetric']>[0]);
    this.registered.push({ key, metric: summary, summary });
    return summary;
  }
}

function timestampSeconds(rfc3339: string): number {
  if (rfc3339 === '') return 0;
  const ms = Date.parse(rfc3339);
  return Number.isFinite(ms) ? ms / 1000 : 0;
}

/** go-metrics' timestamp format: `2006-01-02 15:04:05 +0000 UTC`. */
function goTimestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}
