// The `sys/` backend: init, seal and unseal, health, the mount table and the keyring, declared
// like any other backend so routing, validation and the access check stay generic.
import { z } from 'zod';
import { BadRequestError, NotFoundError, PermissionDeniedError } from '../errors';
import { bool, durationSeconds, int, str, stringList } from './fields';
import type { Backend, BackendRequest, BackendResponse, PathDefinition } from './framework';
import type { MountEntry } from './mounts';
import { auditPaths } from './audit/paths';
import { keyCeremonyPaths } from './key-ceremony-paths';
import { snapshotPaths } from './snapshot-paths';
import { leasePaths } from './lease-paths';
import { metricsPaths } from './metrics/metrics-paths';
import { requestActor } from './governance/events';
import { governancePaths } from './governance/paths';
import { ledgerPaths } from './governance/ledger-paths';
import { leaseIndexPaths } from './governance/lease-index';
import { runPaths } from './governance/run-paths';
import { wrappingPaths } from './wrapping/paths';
import { controlGroupPaths } from './governance/control-group-paths';
import { policyPaths } from './policy/policy-paths';
import { normalisePolicyName } from './policy/policy-store';
import { canonicalMountCapture } from './capture-names';
import type { Vault } from './vault';

/** Vault's system-wide default and maximum lease TTL: 768 hours. */
export const SYSTEM_DEFAULT_LEASE_TTL_SECONDS = 768 * 3600;
export const SYSTEM_MAX_LEASE_TTL_SECONDS = 768 * 3600;

/** The system lease TTLs (server config `default_lease_ttl`, `max_lease_ttl`): for mounts and tokens without their own. */
export interface SystemLeaseTtl {
  defaultSeconds: number;
  maxSeconds: number;
}

export const DEFAULT_SYSTEM_LEASE_TTL: SystemLeaseTtl = { defaultSeconds: SYSTEM_DEFAULT_LEASE_TTL_SECONDS, maxSeconds: SYSTEM_MAX_LEASE_TTL_SECONDS };

/** A mount entry as Vault's sys/mounts and sys/auth render it. */
export function renderMount(entry: MountEntry): Record<string, unknown> {
  return {
    accessor: entry.accessor,
    config: {
      default_lease_ttl: entry.config.defaultLeaseTtlSeconds,
      force_no_cache: entry.config.forceNoCache,
      max_lease_ttl: entry.config.maxLeaseTtlSeconds,
      ...(entry.config.listingVisibility ? { listing_visibility: entry.config.listingVisibility } : {}),
    },
    description: entry.description,
    external_entropy_access: false,
    local: entry.local,
    options: Object.keys(entry.options).length > 0 ? entry.options : null,
    plugin_version: '',
    running_plugin_version: `v0.1.0+builtin.leasehold`,
    running_sha256: '',
    seal_wrap: entry.sealWrap,
    type: entry.type,
    uuid: entry.uuid,
  };
}

/**
 * A mount's effective lease TTLs: its tuned values, or the system ones where it has none. A default
 * above the effective max is capped to it (a system default above the system max, say).
 */
export function effectiveLeaseTtl(entry: MountEntry, system: SystemLeaseTtl = DEFAULT_SYSTEM_LEASE_TTL): { defaultSeconds: number; maxSeconds: number } {
  const maxSeconds = entry.config.maxLeaseTtlSeconds || system.maxSeconds;
  return { defaultSeconds: Math.min(entry.config.defaultLeaseTtlSeconds || system.defaultSeconds, maxSeconds), maxSeconds };
}

/** Refuses mount TTLs above the system max (Vault's config max_lease_ttl is the ceiling of every tune). */
function checkAgainstSystemMax(system: SystemLeaseTtl, ttl: { default_lease_ttl?: number; max_lease_ttl?: number }): void {
  for (const [name, value] of [['max_lease_ttl', ttl.max_lease_ttl], ['default_lease_ttl', ttl.default_lease_ttl]] as const) {
    if (value !== undefined && value > system.maxSeconds) {
      throw new BadRequestError(`${name} of ${value}s is greater than the system max lease TTL of ${system.maxSeconds}s (max_lease_ttl in the server config)`);
    }
  }
}

/** Vault's tune view: effective TTLs (system defaults filled in). */
export function renderTune(entry: MountEntry, system: SystemLeaseTtl = DEFAULT_SYSTEM_LEASE_TTL): Record<string, unknown> {
  const ttl = effectiveLeaseTtl(entry, system);
  return {
    default_lease_ttl: ttl.defaultSeconds,
    max_lease_ttl: ttl.maxSeconds,
    force_no_cache: entry.config.forceNoCache,
    description: entry.description,
    options: Object.keys(entry.options).length > 0 ? entry.options : null,
    ...(entry.config.listingVisibility ? { listing_visibility: entry.config.listingVisibility } : {}),
  };
}

const mountConfigSchema = z
  .object({
    default_lease_ttl: durationSeconds().optional(),
    max_lease_ttl: durationSeconds().optional(),
    force_no_cache: bool().optional(),
    listing_visibility: z.enum(['unauth', 'hidden', '']).optional(),
    audit_non_hmac_request_keys: stringList().optional(),
    audit_non_hmac_response_keys: stringList().optional(),
  })
  .partial();

const optionsSchema = z.record(z.string().max(64), z.union([z.string().max(256), z.number()]).transform(String));

const tuneFields = z.object({
  path: str(256),
  default_lease_ttl: durationSeconds().optional(),
  max_lease_ttl: durationSeconds().optional(),
  description: str(1024).optional(),
  options: optionsSchema.optional(),
  force_no_cache: bool().optional(),
  listing_visibility: z.enum(['unauth', 'hidden', '']).optional(),
  audit_non_hmac_request_keys: stringList().optional(),
  audit_non_hmac_response_keys: stringList().optional(),
});

/** Parses the query-string overrides of sys/health (`?standbyok=true&sealedcode=200`). */
function healthStatus(vault: Vault, fields: Record<string, unknown>): number {
  const code = (name: string, fallback: number) => {
    const v = fields[name];
    return typeof v === 'number' ? v : fallback;
  };
  if (!vault.seal.initialized) return code('uninitcode', 501);
  if (vault.seal.sealed) return code('sealedcode', 503);
  return code('activecode', 200);
}

function sealStatusBody(vault: Vault): Record<string, unknown> {
  const s = vault.seal.status();
  return {
    type: 'shamir',
    initialized: s.initialized,
    sealed: s.sealed,
    t: s.threshold,
    n: s.shares,
    progress: s.progress,
    nonce: s.nonce,
    version: vault.version,
    build_date: '2026-11-24T00:00:00Z',
    migration: false,
    recovery_seal: false,
    storage_type: 'sqlite',
    ...(s.sealed ? {} : { cluster_name: 'leasehold', cluster_id: vault.clusterId }),
  };
}

const healthFields = z.object({
  standbyok: bool().optional(),
  perfstandbyok: bool().optional(),
  activecode: int(100, 599).optional(),
  standbycode: int(100, 599).optional(),
  drsecondarycode: int(100, 599).optional(),
  performancestandbycode: int(100, 599).optional(),
  sealedcode: int(100, 599).optional(),
  uninitcode: int(100, 599).optional(),
});

/** The system backend, bound to its vault. */
export function systemBackend(vault: Vault): Backend {
  return {
    // Policy names are case- and space-insensitive (Vault trims and lowercases them): the ACL must
    // see `sys/policies/acl/admin` for `.../ADMIN` too.
    // Mount and audit paths: refused if they hold invisible characters, leading slashes folded, so
    // the ACL checks the name the mount table and audit broker will store (capture-names.ts).
    canonicalCaptures: { name: normalisePolicyName, path: canonicalMountCapture },
    paths: [
      {
        pattern: 'init',
        description: 'Initialise a new vault: create the root key, split it into shares, and create the root token.',
        unauthenticated: true,
        fields: z.object({
          secret_shares: int(1, 255).describe('Number of key shares to split the root key into.'),
          secret_threshold: int(1, 255).describe('Number of shares required to reconstruct the root key.'),
          // hvac's sys.initialize sends null for every option it was not given.
          pgp_keys: z.array(str(16384)).max(255).nullish(),
          root_token_pgp_key: str(16384).nullish(),
          stored_shares: int(0, 255).nullish(),
          recovery_shares: int(0, 255).nullish(),
          recovery_threshold: int(0, 255).nullish(),
        }).partial(),
        operations: {
          read: () => ({ raw: { statusCode: 200, body: { initialized: vault.seal.initialized } } }),
          update: async (req) => {
            const f = req.fields as { secret_shares?: number; secret_threshold?: number; pgp_keys?: string[] | null; root_token_pgp_key?: string | null };
            if (f.pgp_keys?.length || f.root_token_pgp_key) throw new BadRequestError('PGP-encrypted key shares are not supported');
            if (f.secret_shares === undefined || f.secret_threshold === undefined) throw new BadRequestError('secret_shares and secret_threshold are required');
            const { keys, rootToken } = await vault.initialize(f.secret_shares, f.secret_threshold);
            return {
              raw: {
                statusCode: 200,
                body: {
                  keys: keys.map((k) => Buffer.from(k).toString('hex')),
                  keys_base64: keys.map((k) => Buffer.from(k).toString('base64')),
                  root_token: rootToken,
                },
              },
            };
          },
        },
      },
      {
        pattern: 'seal-status',
        description: 'Whether the vault is initialised and sealed, and unseal progress.',
        unauthenticated: true,
        operations: { read: () => ({ raw: { statusCode: 200, body: sealStatusBody(vault) } }) },
      },
      {
        pattern: 'unseal',
        description: 'Submit one unseal key share (hex or base64), or reset progress.',
        unauthenticated: true,
        fields: z.object({ key: str(1024).optional(), reset: bool().optional(), migrate: bool().optional() }),
        operations: {
          update: async (req) => {
            const f = req.fields as { key?: string; reset?: boolean };
            if (!vault.seal.initialized) throw new BadRequestError('Vault is not initialized');
            if (f.reset) vault.seal.resetProgress();
            else if (!f.key) throw new BadRequestError("'key' must be specified in request body as JSON, or 'reset' set to true");
            else await vault.seal.submitShare(f.key);
            return { raw: { statusCode: 200, body: sealStatusBody(vault) } };
          },
        },
      },
      {
        pattern: 'seal',
        description: 'Seal the vault: every key is dropped from memory.',
        sudo: true,
        operations: {
          update: async () => {
            await vault.seal.seal();
            return undefined;
          },
        },
      },
      {
        pattern: 'health',
        description: 'Health as a status code: 200 active, 501 not initialised, 503 sealed (overridable by query).',
        unauthenticated: true,
        fields: healthFields,
        operations: {
          read: (req) => ({
            raw: {
              statusCode: healthStatus(vault, req.fields),
              body: {
                initialized: vault.seal.initialized,
                sealed: vault.seal.sealed,
                standby: false,
                performance_standby: false,
                replication_performance_mode: 'disabled',
                replication_dr_mode: 'disabled',
                server_time_utc: Math.floor(vault.deps.clock.nowMs() / 1000),
                version: vault.version,
                enterprise: false,
                cluster_name: 'leasehold',
                cluster_id: vault.clusterId,
                echo_duration_ms: 0,
                clock_skew_ms: 0,
                replication_primary_canary_age_ms: 0,
              },
            },
          }),
        },
      },
      {
        pattern: 'leader',
        description: 'High-availability status (Leasehold runs a single active node).',
        unauthenticated: true,
        operations: {
          read: () => ({
            raw: {
              statusCode: 200,
              body: { ha_enabled: false, is_self: true, active_time: '0001-01-01T00:00:00Z', leader_address: '', leader_cluster_address: '', performance_standby: false, performance_standby_last_remote_wal: 0 },
            },
          }),
        },
      },
      {
        pattern: 'key-status',
        description: 'The active keyring term and when it was installed.',
        operations: {
          read: () => {
            const s = vault.barrier.status();
            return { data: { term: s.term, install_time: new Date(s.installedAtMs).toISOString(), encryptions: 0 }, topLevelData: true };
          },
        },
      },
      {
        pattern: 'rotate',
        description: 'Add a new keyring term; new writes use it, older terms still decrypt.',
        sudo: true,
        operations: {
          update: () => {
            vault.seal.rotate();
            return undefined;
          },
        },
      },
      ...mountTablePaths(vault, 'secret'),
      ...mountTablePaths(vault, 'auth'),
      {
        pattern: 'internal/ui/mounts/(?<path>.+)',
        description: 'Mount details for a path (clients use it to detect KV version 2).',
        tokenOnly: true,
        fields: z.object({ path: str(1024) }),
        operations: {
          read: (req) => {
            const path = String(req.fields.path);
            const mount = vault.mounts.route(path);
            if (!mount || mount.entry.type === 'system') throw new NotFoundError();
            // Only reveal a mount to a token that can do something on it or on the path asked about.
            const acl = vault.policies.acl(req.identity?.policies ?? []);
            if (!acl.grantsAnythingUnder(mount.entry.path)) throw new PermissionDeniedError();
            return { data: { ...renderMount(mount.entry), path: mount.entry.path } };
          },
        },
      },
      ...policyPaths({ policies: vault.policies, tokens: vault.tokens }),
      ...leasePaths(vault.expiration),
      ...metricsPaths({ metrics: vault.metrics, ...vault.telemetry }),
      ...governancePaths({ offboarder: () => vault.offboarder, blastRadius: () => vault.blastRadius }),
      ...runPaths({ runs: () => vault.runs, webhooks: () => vault.webhooks }),
      ...wrappingPaths(vault.wrapping),
      ...controlGroupPaths(() => vault.controlGroups),
      ...auditPaths(vault.audit),
      ...ledgerPaths(vault.ledger),
      ...leaseIndexPaths(() => vault.leaseIndex),
      ...keyCeremonyPaths(vault),
      ...snapshotPaths(vault),
    ],
  };
}

/** sys/mounts or sys/auth: list, enable, read, tune and disable for one mount table. */
function mountTablePaths(vault: Vault, table: MountEntry['table']): PathDefinition[] {
  const prefix = table === 'auth' ? 'auth' : 'mounts';
  const what = table === 'auth' ? 'auth methods' : 'secrets engines';
  const fullPath = (req: BackendRequest) => `${table === 'auth' ? 'auth/' : ''}${withSlash(String(req.fields.path ?? ''))}`;
  const mountPathOf = (req: BackendRequest) => String(req.fields.path ?? '');
  return [
      {
        pattern: prefix,
        description: `List the mounted ${what}.`,
        operations: { read: () => listMounts(vault, table) },
      },
      {
        pattern: `${prefix}/(?<path>.+?)/tune`,
        description: "Read or change a mount's TTLs, description and options.",
        // Vault's root paths include sys/auth/*, which covers sys/auth/:path/tune (sys/mounts/:path/tune is not).
        sudo: table === 'auth',
        fields: tuneFields,
        operations: {
          read: (req) => {
            const mount = vault.mounts.get(fullPath(req));
            if (!mount) throw new BadRequestError(`cannot fetch sysview for path "${mountPathOf(req)}"`);
            return { data: renderTune(mount.entry, vault.systemLeaseTtl), topLevelData: true };
          },
          update: (req) => {
            const f = req.fields as z.infer<typeof tuneFields>;
            const path = fullPath(req);
            if (path === 'sys/') throw new BadRequestError('cannot tune "sys/"');
            if (!vault.mounts.get(path)) throw new BadRequestError(`no mount at "${mountPathOf(req)}"`);
            checkAgainstSystemMax(vault.systemLeaseTtl, f);
            vault.mounts.tune(path, {
              description: f.description,
              options: f.options,
              defaultLeaseTtlSeconds: f.default_lease_ttl,
              maxLeaseTtlSeconds: f.max_lease_ttl,
              forceNoCache: f.force_no_cache,
              listingVisibility: f.listing_visibility,
              auditNonHmacRequestKeys: f.audit_non_hmac_request_keys,
              auditNonHmacResponseKeys: f.audit_non_hmac_response_keys,
            });
            return undefined;
          },
        },
      },
      {
        pattern: `${prefix}/(?<path>.+)`,
        description: `Enable, read or disable ${what} at a path.`,
        // Vault root-protects sys/auth/*: changing how identities log in needs sudo.
        sudo: table === 'auth',
        fields: z.object({
          path: str(256),
          type: str(64).optional(),
          description: str(1024).optional(),
          config: mountConfigSchema.optional(),
          options: optionsSchema.optional(),
          local: bool().optional(),
          seal_wrap: bool().optional(),
          external_entropy_access: bool().optional(),
          plugin_version: str(64).optional(),
        }),
        operations: {
          read: (req) => {
            const mount = vault.mounts.get(fullPath(req));
            if (!mount || mount.entry.table !== table) throw new BadRequestError(`No ${table === 'auth' ? 'auth' : 'secret engine'} mount at ${withSlash(mountPathOf(req))}`);
            return { data: renderMount(mount.entry), topLevelData: true };
          },
          update: (req) => {
            const f = req.fields as { path: string; type?: string; description?: string; config?: z.infer<typeof mountConfigSchema>; options?: Record<string, string>; local?: boolean; seal_wrap?: boolean };
            if (!f.type) throw new BadRequestError('missing field "type"');
            if (f.config) checkAgainstSystemMax(vault.systemLeaseTtl, f.config);
            vault.mounts.mount({
              table,
              path: f.path,
              type: f.type,
              description: f.description ?? '',
              config: {
                defaultLeaseTtlSeconds: f.config?.default_lease_ttl ?? 0,
                maxLeaseTtlSeconds: f.config?.max_lease_ttl ?? 0,
                forceNoCache: f.config?.force_no_cache ?? false,
                listingVisibility: f.config?.listing_visibility,
                auditNonHmacRequestKeys: f.config?.audit_non_hmac_request_keys,
                auditNonHmacResponseKeys: f.config?.audit_non_hmac_response_keys,
              },
              options: f.options ?? {},
              local: f.local ?? false,
              sealWrap: f.seal_wrap ?? false,
            });
            return undefined;
          },
          delete: async (req) => {
            const path = fullPath(req);
            const mount = vault.mounts.get(path);
            if (!mount || mount.entry.table !== table) return undefined;
            await vault.unmount(path, requestActor(req.identity));
            return undefined;
          },
        },
      },
  ];
}

/** The mounts of one table, keyed as Vault's sys/mounts and sys/auth key them. */
function listMounts(vault: Vault, table: MountEntry['table']): BackendResponse {
  const data: Record<string, unknown> = {};
  for (const m of vault.mounts.list(table)) data[table === 'auth' ? m.entry.path.slice('auth/'.length) : m.entry.path] = renderMount(m.entry);
  return { data, topLevelData: true };
}

function withSlash(path: string): string {
  return path.endsWith('/') ? path : `${path}/`;
}
