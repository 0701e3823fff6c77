// Blast radius: what an identity can reach now and what it holds. Joins the policies in force across
// its live tokens with the things that exist now (KV keys, database roles, auth roles), deciding each
// concrete path with the real ACL (so `*`, `+` and `deny` behave exactly as at request time), and
// lists its live tokens and leases.
import { NotFoundError } from '../../errors';
import type { SqliteDatabase } from '../../storage/database';
import type { Barrier } from '../barrier';
import type { IdentityStore } from '../identity/identity-store';
import { entityOwner } from '../identity/identity-store';
import type { LiveMount } from '../mounts';
import { type Acl, CAPABILITY_BITS, capabilityNames } from '../policy/acl';
import type { PolicyStore } from '../policy/policy-store';
import type { TokenStore } from '../tokens';

/** How many concrete targets each reach item names (the count is always exact). */
const FIRST_TARGETS = 10;

/** Deps of the blast-radius query; wired in the composition root. */
export interface BlastRadiusDeps {
  db: SqliteDatabase;
  barrier: Barrier;
  mounts: () => LiveMount[];
  policies: Pick<PolicyStore, 'acl'>;
  identity: Pick<IdentityStore, 'entityById' | 'groupsOfEntity'>;
  tokens: Pick<TokenStore, 'lookupByAccessor'>;
  nowMs: () => number;
}

/** A concrete thing a path reaches, found in a mount's storage. */
interface Candidate {
  path: string;
  /** The capability that reaches it (read a KV key or mint creds; update to create secret-ids or tokens). */
  needs: number;
  kind: 'kv_key' | 'database_role' | 'auth_role' | 'token_role';
  name: string;
  detail?: Record<string, unknown>;
}

interface ReachItem {
  mount: string;
  type: string;
  path: string;
  capabilities: string[];
  targets: { count: number; first: Record<string, unknown>[]; sudo?: boolean };
}

const rfc3339 = (ms: number) => new Date(ms).toISOString();

/** The literal part of a policy pattern, before its first `+` or `*`. */
function literalPrefix(pattern: string): string {
  const cut = [pattern.indexOf('+'), pattern.indexOf('*')].filter((i) => i >= 0);
  return cut.length > 0 ? pattern.slice(0, Math.min(...cut)) : pattern;
}

/** The concrete paths a mount offers now, read from its storage keys (no values decrypted but roles'). */
function candidatesOf(mount: LiveMount): Candidate[] {
  const base = mount.entry.path;
  const storage = mount.storage;
  const read = CAPABILITY_BITS.read;
  const update = CAPABILITY_BITS.update;
  switch (mount.entry.type) {
    case 'kv': {
      if (mount.entry.options.version === '2') {
        return storage.listRecursive('metadata/').map((k) => {
          const key = k.slice('metadata/'.length);
          return { path: `${base}data/${key}`, needs: read, kind: 'kv_key', name: key };
        });
      }
      return storage.listRecursive('').map((key) => ({ path: `${base}${key}`, needs: read, kind: 'kv_key', name: key }));
    }
    case 'database':
      return storage.listRecursive('role/').map((k) => {
        const name = k.slice('role/'.length);
        const role = storage.getJSON<{ db_name?: string; creation_statements?: string[] }>(k);
        const grants = (role?.creation_statements ?? []).flatMap((s) => s.split(';')).map((s) => s.trim()).filter((s) => /^GRANT\b/i.test(s));
        return { path: `${base}creds/${name}`, needs: read, kind: 'database_role', name, detail: { db_name: role?.db_name ?? '', grants } };
      });
    case 'approle':
      return storage
        .listRecursive('role/')
        .map((k) => k.slice('role/'.length))
        .map((name) => ({ path: `${base}role/${name}/secret-id`, needs: update, kind: 'auth_role', name }));
    case 'token':
      return storage
        .listRecursive('roles/')
        .map((k) => k.slice('roles/'.length))
        .map((name) => ({ path: `${base}create/${name}`, needs: update, kind: 'token_role', name }));
    default:
      return [];
  }
}

/** Answers sys/governance/blast-radius for an entity or a token accessor. */
export class BlastRadius {
  constructor(private readonly deps: BlastRadiusDeps) {}

  /** By entity id; 404 when there is no such entity. */
  forEntity(entityId: string): Record<string, unknown> {
    const entity = this.deps.identity.entityById(entityId);
    if (!entity) throw new NotFoundError();
    const accessors = (this.deps.db.prepare('SELECT accessor FROM tokens WHERE entity_id = ?').all(entityId) as { accessor: string }[]).map((r) => r.accessor);
    const leaseRows = this.deps.db
      .prepare("SELECT lease_id, mount_path, expire_at, payload FROM leases WHERE entity_id = ? AND state = 'active'")
      .all(entityId) as LeaseHoldRow[];
    const identityPolicies = [...entity.policies, ...this.deps.identity.groupsOfEntity(entityId).flatMap((g) => g.policies)];
    return this.answer({ id: entity.id, name: entity.name, owner: entityOwner(entity) ?? '', disabled: entity.disabled }, accessors, leaseRows, identityPolicies);
  }

  /** By token accessor (a token without an entity); 404 when the token is not live. */
  forAccessor(accessor: string): Record<string, unknown> {
    const record = this.deps.tokens.lookupByAccessor(accessor);
    if (!record) throw new NotFoundError();
    if (record.entry.entityId) return this.forEntity(record.entry.entityId);
    const leaseRows = this.deps.db
      .prepare("SELECT lease_id, mount_path, expire_at, payload FROM leases WHERE token_accessor = ? AND state = 'active'")
      .all(accessor) as LeaseHoldRow[];
    return this.answer({ id: '', name: record.entry.displayName, owner: record.entry.owner ?? '', disabled: false }, [accessor], leaseRows, []);
  }

  private answer(entity: Record<string, unknown>, accessors: string[], leaseRows: LeaseHoldRow[], identityPolicies: string[]): Record<string, unknown> {
    const nowMs = this.deps.nowMs();
    const tokens: { accessor: string; expire_time: string | null; policies: string[] }[] = [];
    const policies = new Set(identityPolicies);
    for (const accessor of accessors) {
      const record = this.deps.tokens.lookupByAccessor(accessor);
      if (!record) continue;
      for (const p of record.entry.policies) policies.add(p);
      tokens.push({ accessor, expire_time: record.expireAtMs === null ? null : rfc3339(record.expireAtMs), policies: record.entry.policies });
    }
    const leases = leaseRows
      .filter((r) => r.expire_at > nowMs)
      .map((r) => {
        const payload = this.deps.barrier.decryptJSON<{ internalData?: Record<string, unknown> }>(`leases/${r.lease_id}`, r.payload);
        const username = payload.internalData?.username;
        return { lease_id: r.lease_id, mount: r.mount_path, expire_time: rfc3339(r.expire_at), ...(typeof username === 'string' ? { username } : {}) };
      });
    const inForce = [...policies].sort();
    const { items: reach, rolesMintable } = tokens.length > 0 || identityPolicies.length > 0 ? this.reach(this.deps.policies.acl(inForce)) : { items: [], rolesMintable: 0 };
    const expiries = [...tokens.map((t) => t.expire_time), ...leases.map((l) => l.expire_time)].filter((e): e is string => e !== null).sort();
    return {
      entity,
      policies: inForce,
      reach,
      holds: { tokens, leases },
      summary: {
        mounts_reachable: new Set(reach.map((r) => r.mount)).size,
        paths_reachable: reach.reduce((n, item) => n + item.targets.count, 0),
        roles_mintable: rolesMintable,
        live_credentials: tokens.length + leases.length,
        latest_expiry: expiries.length > 0 ? expiries[expiries.length - 1] : null,
      },
    };
  }

  /** One item per (mount, rule) that grants something, with the concrete targets it governs now. */
  private reach(acl: Acl): { items: ReachItem[]; rolesMintable: number } {
    let rolesMintable = 0;
    const items = new Map<string, ReachItem>();
    const mounts = this.deps.mounts();
    const granting = acl.isRoot ? [{ pattern: '*', capabilities: 0xff & ~CAPABILITY_BITS.deny }] : acl.rules().filter((r) => r.capabilities !== 0 && !(r.capabilities & CAPABILITY_BITS.deny));
    const itemFor = (mount: LiveMount, pattern: string, capabilities: number): ReachItem => {
      const key = `${mount.entry.path}\n${pattern}`;
      let item = items.get(key);
      if (!item) {
        item = { mount: mount.entry.path, type: mount.entry.type, path: pattern, capabilities: capabilityNames(capabilities, acl.isRoot), targets: { count: 0, first: [] } };
        if (capabilities & CAPABILITY_BITS.sudo || acl.isRoot) item.targets.sudo = true;
        items.set(key, item);
      }
      return item;
    };
    // Every rule that grants something under a mount is an item, even with nothing to reach yet.
    for (const rule of granting) {
      const literal = literalPrefix(rule.pattern);
      for (const mount of mounts) {
        if (literal.startsWith(mount.entry.path) || mount.entry.path.startsWith(literal)) itemFor(mount, rule.pattern, rule.capabilities);
      }
    }
    // Concrete targets, each decided by the ACL itself and filed under the rule that governs it.
    for (const mount of mounts) {
      for (const candidate of candidatesOf(mount)) {
        if (!(acl.capabilitiesFor(candidate.path) & candidate.needs)) continue;
        const pattern = acl.isRoot ? '*' : acl.governingPattern(candidate.path);
        if (pattern === undefined) continue;
        const item = itemFor(mount, pattern, acl.isRoot ? 0xff & ~CAPABILITY_BITS.deny : acl.capabilitiesFor(candidate.path));
        item.targets.count++;
        if (candidate.kind !== 'kv_key') rolesMintable++;
        if (item.targets.first.length < FIRST_TARGETS) item.targets.first.push({ kind: candidate.kind, name: candidate.name, path: candidate.path, ...candidate.detail });
      }
    }
    const kept = [...items.values()].filter((item) => item.targets.count > 0 || item.mount === 'sys/' || item.targets.sudo || candidatesSupported(item.type));
    return { items: kept, rolesMintable };
  }
}

/** Mount types whose targets blast radius enumerates (an empty item there means "nothing exists yet"). */
function candidatesSupported(type: string): boolean {
  return ['kv', 'database', 'approle', 'token'].includes(type);
}

interface LeaseHoldRow {
  lease_id: string;
  mount_path: string;
  expire_at: number;
  payload: Buffer;
}
