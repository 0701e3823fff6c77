// Run-end webhooks: GitHub (`workflow_run` completed) and GitLab (pipeline finished) tell the vault
// that a CI run is over, and everything bound to that run is revoked. A receiver is configured
// under sys/governance/webhooks/<provider>/<name> (stored through the barrier; the secret is never
// returned) and delivers to .../deliver, which takes no Vault token: the delivery is authenticated
// by GitHub's HMAC over the exact body bytes, or GitLab's shared token, compared in constant time.
//
// Run claims a delivery maps to (the claims of each CI system's OIDC tokens):
//   GitHub Actions: repository = repository.full_name, run_id = workflow_run.id, run_attempt = workflow_run.run_attempt
//   GitLab CI:      project_path = project.path_with_namespace, pipeline_id = object_attributes.id
// For every role of the receiver, the role's run_claims are filled from that map (a role naming a
// claim the delivery does not carry is skipped) and the run key computed as at login.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { BadRequestError, NotFoundError, VaultError } from '../../errors';
import type { SqliteDatabase } from '../../storage/database';
import type { Clock } from '../../util/clock';
import { name, str, stringList } from '../fields';
import type { BackendRequest, BackendResponse, PathDefinition, WebhookDelivery } from '../framework';
import type { StorageView } from '../storage-view';
import type { GovernanceEvents } from './events';
import type { RunRegistry } from './runs';

export type Provider = 'github' | 'gitlab';

/** A stored receiver. The secret lives only here, encrypted by the barrier. */
interface Receiver {
  secret: string;
  /** The JWT auth mount path, normalised: `auth/jwt/`. */
  jwtMount: string;
  roles: string[];
}

/** The largest delivery body accepted, and only on the deliver routes (GitHub payloads can be large). */
export const WEBHOOK_MAX_BODY_BYTES = 5 * 1024 * 1024;
/** The deliver routes, as canonical request paths. */
export const WEBHOOK_DELIVER_PATH = /^sys\/governance\/webhooks\/(github|gitlab)\/[^/]+\/deliver$/;
/** Headers the HTTP layer hands to the receiver (lower-case). */
export const WEBHOOK_HEADERS = ['x-hub-signature-256', 'x-github-event', 'x-github-delivery', 'x-gitlab-token', 'x-gitlab-event', 'x-gitlab-event-uuid'] as const;

/** How long a delivery id is remembered; a delivery whose run ended before that is ignored as stale. */
const DELIVERY_RETENTION_MS = 7 * 86400_000;
/** Most delivery ids remembered per receiver kind; the oldest go first beyond it. */
const MAX_REMEMBERED_DELIVERIES = 100_000;
const MIN_SECRET_CHARS = 16;
const DELIVERY_ID = /^[A-Za-z0-9-]{1,128}$/;
const FINISHED_PIPELINE = new Set(['success', 'failed', 'canceled', 'cancelled', 'skipped']);

/** 401 with a fixed message: nothing about the receiver or the run is revealed. */
class UnauthenticatedDeliveryError extends VaultError {
  constructor() {
    super(401, 'invalid webhook signature');
  }
}

/** 409: a delivery id already acted on. */
class ReplayedDeliveryError extends VaultError {
  constructor() {
    super(409, 'delivery already processed');
  }
}

const configFields = z.object({
  name: name(),
  secret: str(1024).optional().describe('Shared secret: GitHub\'s webhook secret, or GitLab\'s secret token. Write-only.'),
  jwt_mount: str(256).optional().describe('The JWT auth mount whose run-bound tokens this receiver revokes, e.g. "jwt".'),
  roles: stringList(64, 128).optional().describe('The JWT roles (with run_claims) whose runs this receiver revokes.'),
});
type ConfigFields = z.infer<typeof configFields>;

/** A JWT mount path as stored: `auth/<path>/`, from "jwt", "auth/jwt" or "auth/jwt/". */
function normaliseMount(raw: string): string {
  let path = raw.trim().replace(/^\/+|\/+$/g, '');
  if (!path.startsWith('auth/')) path = `auth/${path}`;
  if (!/^auth\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(path) || path.split('/').some((segment) => segment === '.' || segment === '..')) throw new BadRequestError('invalid value for field "jwt_mount": must name an auth mount such as "jwt"');
  return `${path}/`;
}

/** Constant-time equality of two secrets of any length (compared as SHA-256 HMACs of equal length). */
function secretsEqual(a: Buffer, b: Buffer): boolean {
  const key = 'leasehold-webhook-compare';
  return timingSafeEqual(createHmac('sha256', key).update(a).digest(), createHmac('sha256', key).update(b).digest());
}

/** Whether GitHub's `X-Hub-Signature-256: sha256=<hex>` is the HMAC of exactly these bytes. */
function githubSignatureValid(secret: string, body: Buffer, header: string | undefined): boolean {
  if (header === undefined || !/^sha256=[0-9a-fA-F]{64}$/.test(header)) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(header.slice('sha256='.length), 'hex'));
}

const githubRun = z.object({
  action: z.string().max(64),
  repository: z.object({ full_name: z.string().min(1).max(256) }),
  workflow_run: z.object({
    id: z.number().int().nonnegative(),
    run_attempt: z.number().int().positive(),
    status: z.string().max(64).optional(),
    updated_at: z.string().max(64).optional(),
  }),
});

const gitlabPipeline = z.object({
  object_kind: z.string().max(64),
  project: z.object({ path_with_namespace: z.string().min(1).max(256) }),
  object_attributes: z.object({
    id: z.number().int().nonnegative(),
    status: z.string().max(64),
    finished_at: z.string().max(64).nullable().optional(),
  }),
});

/** What a delivery reports: a finished run's claims, or why it is ignored. */
type Reported = { claims: Record<string, string>; endedAt?: string } | { ignored: string };

function parseBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new BadRequestError('webhook body is not JSON');
  }
}

function githubReport(event: string | undefined, body: unknown): Reported {
  if (event !== 'workflow_run') return { ignored: `event "${(event ?? '').slice(0, 64)}" is not acted on` };
  const parsed = githubRun.safeParse(body);
  if (!parsed.success) throw new BadRequestError('workflow_run payload lacks repository.full_name, workflow_run.id or workflow_run.run_attempt');
  if (parsed.data.action !== 'completed') return { ignored: `workflow_run action "${parsed.data.action}" is not acted on` };
  const run = parsed.data.workflow_run;
  return {
    claims: { repository: parsed.data.repository.full_name, run_id: String(run.id), run_attempt: String(run.run_attempt) },
    endedAt: run.updated_at,
  };
}

function gitlabReport(event: string | undefined, body: unknown): Reported {
  const kind = (body as { object_kind?: unknown } | null)?.object_kind;
  if (kind !== 'pipeline') return { ignored: `event "${(event ?? '').slice(0, 64)}" is not acted on` };
  const parsed = gitlabPipeline.safeParse(body);
  if (!parsed.success) throw new BadRequestError('pipeline payload lacks project.path_with_namespace, object_attributes.id or object_attributes.status');
  const attributes = parsed.data.object_attributes;
  if (!FINISHED_PIPELINE.has(attributes.status)) return { ignored: `pipeline status "${attributes.status}" is not finished` };
  return { claims: { project_path: parsed.data.project.path_with_namespace, pipeline_id: String(attributes.id) }, endedAt: attributes.finished_at ?? undefined };
}

/**
 * Remembers a delivery id for a receiver; false when it was already seen (a replay). Ids older than
 * the retention go first, and beyond `max` ids the oldest go, so the table stays bounded.
 */
export function rememberDelivery(db: SqliteDatabase, receiver: string, deliveryId: string, nowMs: number, limits = { retentionMs: DELIVERY_RETENTION_MS, max: MAX_REMEMBERED_DELIVERIES }): boolean {
  return db.transaction(() => {
    db.prepare('DELETE FROM governance_webhook_deliveries WHERE seen_at < ?').run(nowMs - limits.retentionMs);
    const inserted = db.prepare('INSERT OR IGNORE INTO governance_webhook_deliveries (receiver, delivery_id, seen_at) VALUES (?, ?, ?)').run(receiver, deliveryId, nowMs).changes > 0;
    const { n } = db.prepare('SELECT COUNT(*) AS n FROM governance_webhook_deliveries').get() as { n: number };
    if (n > limits.max) {
      db.prepare(
        'DELETE FROM governance_webhook_deliveries WHERE (receiver, delivery_id) IN (SELECT receiver, delivery_id FROM governance_webhook_deliveries ORDER BY seen_at LIMIT ?)',
      ).run(n - limits.max);
    }
    return inserted;
  })();
}

/** Deps of the receivers; wired by the system backend. */
export interface WebhookDeps {
  db: SqliteDatabase;
  clock: Clock;
  storage: () => StorageView;
  runs: () => RunRegistry;
  events: () => GovernanceEvents;
  /** A JWT mount's accessor and the run_claims of one of its roles (undefined: no such mount or role, or no run_claims). */
  roleRunClaims: (jwtMount: string, role: string) => { mountAccessor: string; runClaims: string[] } | undefined;
  /** Counts each delivery by outcome (the leasehold_webhook_deliveries_total metric). */
  delivered?: (outcome: 'accepted' | 'ignored' | 'rejected' | 'error') => void;
}

/** Configures receivers and acts on their deliveries. */
export class WebhookReceivers {
  constructor(private readonly deps: WebhookDeps) {}

  private key(provider: Provider, receiverName: string): string {
    return `${provider}/${receiverName.toLowerCase()}`;
  }

  /** Stores a receiver; warns about roles that cannot be acted on (yet): no such mount or role, or no run_claims. */
  write(provider: Provider, fields: ConfigFields): string[] {
    const key = this.key(provider, fields.name);
    const existing = this.deps.storage().getJSON<Receiver>(key);
    const secret = fields.secret ?? existing?.secret;
    if (secret === undefined || secret === '') throw new BadRequestError('missing secret');
    if (secret.length < MIN_SECRET_CHARS) throw new BadRequestError(`invalid value for field "secret": must be at least ${MIN_SECRET_CHARS} characters`);
    const jwtMount = fields.jwt_mount !== undefined ? normaliseMount(fields.jwt_mount) : existing?.jwtMount;
    if (jwtMount === undefined) throw new BadRequestError('missing jwt_mount');
    const roles = fields.roles !== undefined ? [...new Set(fields.roles.map((r) => r.trim().toLowerCase()).filter((r) => r !== ''))] : existing?.roles;
    if (roles === undefined || roles.length === 0) throw new BadRequestError('missing roles');
    if (!roles.every((r) => /^[a-z0-9][a-z0-9._-]*$/.test(r))) throw new BadRequestError('invalid value for field "roles": role names only');
    this.deps.storage().putJSON(key, { secret, jwtMount, roles } satisfies Receiver);
    const known = provider === 'github' ? ['repository', 'run_id', 'run_attempt'] : ['project_path', 'pipeline_id'];
    const warnings: string[] = [];
    for (const role of roles) {
      const found = this.deps.roleRunClaims(jwtMount, role);
      if (!found) warnings.push(`role "${role}" on ${jwtMount} does not exist or has no run_claims: its runs are not revoked until it does`);
      else if (!found.runClaims.every((c) => known.includes(c))) warnings.push(`role "${role}" names run_claims a ${provider} delivery does not carry (it carries ${known.join(', ')}): its runs are not revoked`);
    }
    return warnings;
  }

  read(provider: Provider, receiverName: string): Record<string, unknown> {
    const receiver = this.deps.storage().getJSON<Receiver>(this.key(provider, receiverName));
    if (!receiver) throw new NotFoundError();
    // The secret is write-only.
    return { jwt_mount: receiver.jwtMount, roles: receiver.roles, secret_set: true };
  }

  remove(provider: Provider, receiverName: string): void {
    this.deps.storage().delete(this.key(provider, receiverName));
  }

  list(provider: Provider): string[] {
    return this.deps.storage().list(`${provider}/`).filter((k) => !k.endsWith('/'));
  }

  /** Authenticates a delivery and revokes the run it reports finished. */
  async deliver(provider: Provider, receiverName: string, delivery: WebhookDelivery | undefined, requestId: string): Promise<BackendResponse> {
    try {
      const answer = await this.act(provider, receiverName, delivery, requestId);
      this.deps.delivered?.((answer.data as { acted?: boolean } | undefined)?.acted ? 'accepted' : 'ignored');
      return answer;
    } catch (error) {
      const refused = error instanceof UnauthenticatedDeliveryError || error instanceof ReplayedDeliveryError || error instanceof BadRequestError;
      this.deps.delivered?.(refused ? 'rejected' : 'error');
      throw error;
    }
  }

  private async act(provider: Provider, receiverName: string, delivery: WebhookDelivery | undefined, requestId: string): Promise<BackendResponse> {
    // An unknown receiver answers exactly as a bad signature does: names cannot be probed.
    const receiver = this.deps.storage().getJSON<Receiver>(this.key(provider, receiverName));
    if (!delivery) throw new UnauthenticatedDeliveryError();
    if (!receiver) {
      // The same work as a real check, so the answer's timing does not tell the receiver is unknown.
      githubSignatureValid('leasehold-no-such-receiver', delivery.body, delivery.headers['x-hub-signature-256']);
      throw new UnauthenticatedDeliveryError();
    }
    const headers = delivery.headers;
    const authentic =
      provider === 'github'
        ? githubSignatureValid(receiver.secret, delivery.body, headers['x-hub-signature-256'])
        : headers['x-gitlab-token'] !== undefined && secretsEqual(Buffer.from(receiver.secret, 'utf8'), Buffer.from(headers['x-gitlab-token'], 'utf8'));
    if (!authentic) throw new UnauthenticatedDeliveryError();

    const receiverId = this.key(provider, receiverName);
    const deliveryId = provider === 'github' ? headers['x-github-delivery'] : headers['x-gitlab-event-uuid'];
    if (provider === 'github' && deliveryId === undefined) throw new BadRequestError('missing X-GitHub-Delivery header');
    if (deliveryId !== undefined && !DELIVERY_ID.test(deliveryId)) throw new BadRequestError('invalid delivery id header');

    const body = parseBody(delivery.body);
    const reported = provider === 'github' ? githubReport(headers['x-github-event'], body) : gitlabReport(headers['x-gitlab-event'], body);
    if (deliveryId !== undefined && !rememberDelivery(this.deps.db, receiverId, deliveryId, this.deps.clock.nowMs())) throw new ReplayedDeliveryError();
    if ('ignored' in reported) return { data: { acted: false, reason: reported.ignored } };
    const endedMs = reported.endedAt ? Date.parse(reported.endedAt) : NaN;
    // Older than the replay window: its delivery id may be forgotten, so it is not acted on.
    if (Number.isFinite(endedMs) && endedMs < this.deps.clock.nowMs() - DELIVERY_RETENTION_MS) return { data: { acted: false, reason: 'the run ended too long ago' } };

    // One run key per distinct (mount, run claims) among the receiver's roles, for runs that logged
    // in here and are not revoked yet: the completed runs of every other repository of an
    // organisation leave no trace, and a run revoked already holds nothing (its logins are refused).
    const targets = new Set<string>();
    for (const role of receiver.roles) {
      const found = this.deps.roleRunClaims(receiver.jwtMount, role);
      if (!found || found.runClaims.length === 0) continue;
      if (!found.runClaims.every((c) => Object.hasOwn(reported.claims, c))) continue;
      const claims = Object.fromEntries(found.runClaims.map((c) => [c, reported.claims[c] as string]));
      const runKey = this.deps.runs().runKey(found.mountAccessor, claims);
      if (this.deps.runs().isLive(runKey)) targets.add(runKey);
    }
    const actor = `webhook:${receiverId}`;
    const reason = provider === 'github' ? `workflow_run completed (delivery ${deliveryId})` : `pipeline finished (delivery ${deliveryId ?? 'without id'})`;
    let tokens = 0;
    let leases = 0;
    let pending = 0;
    for (const runKey of targets) {
      const result = await this.deps.runs().revoke({ runKey, actor, reason, requestId });
      tokens += result.tokens_revoked;
      leases += result.leases_revoked;
      pending += result.leases_pending;
    }
    if (targets.size > 0) this.deps.events().webhookDelivered({ receiver: receiverId, deliveryId: deliveryId ?? '', runKeys: [...targets], requestId });
    return { data: { acted: targets.size > 0, runs: targets.size, tokens_revoked: tokens, leases_revoked: leases, leases_pending: pending } };
  }
}

/** sys/governance/webhooks/<provider>/<name> (config) and .../deliver (unauthenticated), relative to sys/. */
export function webhookPaths(receivers: () => WebhookReceivers): PathDefinition[] {
  const provider = (req: BackendRequest): Provider => (req.path.startsWith('governance/webhooks/gitlab/') ? 'gitlab' : 'github');
  return [
    {
      pattern: 'governance/webhooks/(?<provider>github|gitlab)/(?<name>[^/]+)/deliver',
      fields: z.object({ provider: z.enum(['github', 'gitlab']), name: name() }),
      unauthenticated: true,
      operations: {
        update: (req: BackendRequest<{ name: string }>) => receivers().deliver(provider(req), req.fields.name, req.delivery, req.requestId),
      },
      description: 'Receives a CI system\'s run-end webhook (authenticated by its signature or token, not a Vault token) and revokes that run\'s tokens and leases.',
    },
    {
      pattern: 'governance/webhooks/(?<provider>github|gitlab)/?',
      fields: z.object({ provider: z.enum(['github', 'gitlab']) }),
      sudo: true,
      operations: {
        list: (req: BackendRequest) => {
          const keys = receivers().list(provider(req));
          if (keys.length === 0) throw new NotFoundError();
          return { data: { keys } };
        },
      },
      description: 'Lists the configured webhook receivers of a CI system.',
    },
    {
      pattern: 'governance/webhooks/(?<provider>github|gitlab)/(?<name>[^/]+)',
      fields: configFields.extend({ provider: z.enum(['github', 'gitlab']) }),
      sudo: true,
      operations: {
        update: (req: BackendRequest<ConfigFields>) => {
          const warnings = receivers().write(provider(req), req.fields);
          return warnings.length > 0 ? { warnings } : undefined;
        },
        read: (req: BackendRequest<ConfigFields>) => ({ data: receivers().read(provider(req), req.fields.name) }),
        delete: (req: BackendRequest<ConfigFields>) => {
          receivers().remove(provider(req), req.fields.name);
          return undefined;
        },
      },
      description: 'Configures a run-end webhook receiver: secret (write-only), jwt_mount and the roles whose runs it revokes.',
    },
  ];
}
