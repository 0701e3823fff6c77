// The identity store: entities, aliases and groups in typed SQLite tables. Only ids, names, the
// owner, the disabled flag and alias mount accessors are plaintext (indexed); metadata and policies
// are barrier records bound to their row.
import { randomUUID } from 'node:crypto';
import type { SqliteDatabase } from '../../storage/database';
import type { Clock } from '../../util/clock';
import type { Barrier } from '../barrier';

/** An identity entity: a workload or person, whatever it logs in with. */
export interface Entity {
  id: string;
  name: string;
  metadata: Record<string, string>;
  policies: string[];
  disabled: boolean;
  createdAtMs: number;
  updatedAtMs: number;
}

/** A login name on one auth mount, linked to its entity. */
export interface EntityAlias {
  id: string;
  canonicalId: string;
  mountAccessor: string;
  name: string;
  metadata: Record<string, string>;
  createdAtMs: number;
  updatedAtMs: number;
}

/** An internal group: policies shared by its member entities. */
export interface Group {
  id: string;
  name: string;
  metadata: Record<string, string>;
  policies: string[];
  memberEntityIds: string[];
  createdAtMs: number;
  updatedAtMs: number;
}

interface EntityRow {
  id: string;
  name: string;
  owner: string | null;
  disabled: number;
  created_at: number;
  updated_at: number;
  body: Buffer;
}
interface AliasRow {
  id: string;
  canonical_id: string;
  mount_accessor: string;
  name: string;
  created_at: number;
  updated_at: number;
  body: Buffer;
}
interface GroupRow {
  id: string;
  name: string;
  created_at: number;
  updated_at: number;
  body: Buffer;
}

/** Deps of the identity store; wired in the composition root. */
export interface IdentityStoreDeps {
  db: SqliteDatabase;
  barrier: Barrier;
  clock: Clock;
}

/** The owner recorded for an entity: its `metadata.owner`, if any. */
export function entityOwner(entity: Pick<Entity, 'metadata'>): string | undefined {
  const owner = entity.metadata.owner;
  return owner !== undefined && owner !== '' ? owner : undefined;
}

/** Reads and writes entities, aliases and groups; every write invalidates the policy cache. */
export class IdentityStore {
  /** Entity and group policies by entity id: the ACL asks on every request of a linked token. */
  private readonly policyCache = new Map<string, { policies: string[]; disabled: boolean }>();
  private readonly writeListeners: (() => void)[] = [];
  private readonly createListeners: ((entity: Entity, actor: string | null) => void)[] = [];

  constructor(private readonly deps: IdentityStoreDeps) {}

  /** Called after every entity, alias or group write (caches elsewhere drop their copies). */
  onWrite(listener: () => void): void {
    this.writeListeners.push(listener);
  }

  private changed(): void {
    this.policyCache.clear();
    for (const listener of this.writeListeners) listener();
  }

  /** Called with each new entity and who asked (null: a first login), inside the transaction that stores it (the ledger's `entity.created`). */
  onEntityCreated(listener: (entity: Entity, actor: string | null) => void): void {
    this.createListeners.push(listener);
  }

  // Entities

  createEntity(input: { name?: string; metadata?: Record<string, string>; policies?: string[]; disabled?: boolean; id?: string }, actor: string | null = null): Entity {
    const nowMs = this.deps.clock.nowMs();
    const id = input.id ?? randomUUID();
    const entity: Entity = {
      id,
      name: input.name ?? `entity_${id.slice(0, 8)}`,
      metadata: input.metadata ?? {},
      policies: input.policies ?? [],
      disabled: input.disabled ?? false,
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    };
    this.deps.db
      .prepare('INSERT INTO identity_entities (id, name, owner, disabled, created_at, updated_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(entity.id, entity.name, entityOwner(entity) ?? null, entity.disabled ? 1 : 0, nowMs, nowMs, this.entityBody(entity));
    for (const listener of this.createListeners) listener(entity, actor);
    this.changed();
    return entity;
  }

  updateEntity(entity: Entity, change: { name?: string; metadata?: Record<string, string>; policies?: string[]; disabled?: boolean }): Entity {
    const next: Entity = {
      ...entity,
      name: change.name ?? entity.name,
      metadata: change.metadata ?? entity.metadata,
      policies: change.policies ?? entity.policies,
      disabled: change.disabled ?? entity.disabled,
      updatedAtMs: this.deps.clock.nowMs(),
    };
    this.updateEntityRow(next);
    this.changed();
    return next;
  }

  /** Disables entities by id (offboarding); returns how many changed from enabled to disabled. */
  disableEntities(ids: string[]): number {
    let changed = 0;
    this.deps.db.transaction(() => {
      for (const id of ids) {
        const entity = this.entityById(id);
        if (!entity || entity.disabled) continue;
        this.updateEntityRow({ ...entity, disabled: true, updatedAtMs: this.deps.clock.nowMs() });
        changed++;
      }
    })();
    this.changed();
    return changed;
  }

  private updateEntityRow(next: Entity): void {
    this.deps.db
      .prepare('UPDATE identity_entities SET name = ?, owner = ?, disabled = ?, updated_at = ?, body = ? WHERE id = ?')
      .run(next.name, entityOwner(next) ?? null, next.disabled ? 1 : 0, next.updatedAtMs, this.entityBody(next), next.id);
  }

  deleteEntity(id: string): boolean {
    const changes = this.deps.db.prepare('DELETE FROM identity_entities WHERE id = ?').run(id).changes;
    this.changed();
    return changes > 0;
  }

  entityById(id: string): Entity | undefined {
    const row = this.deps.db.prepare('SELECT * FROM identity_entities WHERE id = ?').get(id) as EntityRow | undefined;
    return row ? this.entityFromRow(row) : undefined;
  }

  entityByName(name: string): Entity | undefined {
    const row = this.deps.db.prepare('SELECT * FROM identity_entities WHERE name = ?').get(name) as EntityRow | undefined;
    return row ? this.entityFromRow(row) : undefined;
  }

  /** Ids of entities whose `metadata.owner` is `owner` (by index). */
  entityIdsByOwner(owner: string): string[] {
    return (this.deps.db.prepare('SELECT id FROM identity_entities WHERE owner = ? ORDER BY id').all(owner) as { id: string }[]).map((r) => r.id);
  }

  listEntities(): Entity[] {
    return (this.deps.db.prepare('SELECT * FROM identity_entities ORDER BY name').all() as EntityRow[]).map((r) => this.entityFromRow(r));
  }

  /** An entity's own policies plus those of its groups, and whether it is disabled; cached until the next write. */
  entityPolicies(entityId: string): { policies: string[]; disabled: boolean } | undefined {
    const cached = this.policyCache.get(entityId);
    if (cached) return cached;
    const entity = this.entityById(entityId);
    if (!entity) return undefined;
    const policies = new Set(entity.policies);
    for (const group of this.groupsOfEntity(entityId)) for (const p of group.policies) policies.add(p);
    const answer = { policies: [...policies], disabled: entity.disabled };
    this.policyCache.set(entityId, answer);
    return answer;
  }

  // Aliases

  createAlias(input: { name: string; canonicalId: string; mountAccessor: string; metadata?: Record<string, string> }): EntityAlias {
    const nowMs = this.deps.clock.nowMs();
    const alias: EntityAlias = { id: randomUUID(), canonicalId: input.canonicalId, mountAccessor: input.mountAccessor, name: input.name, metadata: input.metadata ?? {}, createdAtMs: nowMs, updatedAtMs: nowMs };
    this.deps.db
      .prepare('INSERT INTO identity_aliases (id, canonical_id, mount_accessor, name, created_at, updated_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(alias.id, alias.canonicalId, alias.mountAccessor, alias.name, nowMs, nowMs, this.aliasBody(alias));
    this.changed();
    return alias;
  }

  updateAlias(alias: EntityAlias, change: { name?: string; canonicalId?: string; mountAccessor?: string; metadata?: Record<string, string> }): EntityAlias {
    const next: EntityAlias = {
      ...alias,
      name: change.name ?? alias.name,
      canonicalId: change.canonicalId ?? alias.canonicalId,
      mountAccessor: change.mountAccessor ?? alias.mountAccessor,
      metadata: change.metadata ?? alias.metadata,
      updatedAtMs: this.deps.clock.nowMs(),
    };
    this.deps.db
      .prepare('UPDATE identity_aliases SET canonical_id = ?, mount_accessor = ?, name = ?, updated_at = ?, body = ? WHERE id = ?')
      .run(next.canonicalId, next.mountAccessor, next.name, next.updatedAtMs, this.aliasBody(next), next.id);
    this.changed();
    return next;
  }

  deleteAlias(id: string): boolean {
    const changes = this.deps.db.prepare('DELETE FROM identity_aliases WHERE id = ?').run(id).changes;
    this.changed();
    return changes > 0;
  }

  aliasById(id: string): EntityAlias | undefined {
    const row = this.deps.db.prepare('SELECT * FROM identity_aliases WHERE id = ?').get(id) as AliasRow | undefined;
    return row ? this.aliasFromRow(row) : undefined;
  }

  aliasByName(mountAccessor: string, name: string): EntityAlias | undefined {
    const row = this.deps.db.prepare('SELECT * FROM identity_aliases WHERE mount_accessor = ? AND name = ?').get(mountAccessor, name) as AliasRow | undefined;
    return row ? this.aliasFromRow(row) : undefined;
  }

  aliasesOfEntity(entityId: string): EntityAlias[] {
    return (this.deps.db.prepare('SELECT * FROM identity_aliases WHERE canonical_id = ? ORDER BY id').all(entityId) as AliasRow[]).map((r) => this.aliasFromRow(r));
  }

  listAliases(): EntityAlias[] {
    return (this.deps.db.prepare('SELECT * FROM identity_aliases ORDER BY id').all() as AliasRow[]).map((r) => this.aliasFromRow(r));
  }

  /**
   * The entity a login on `mountAccessor` as `aliasName` belongs to; created with its alias on the
   * first login, as Vault does.
   */
  entityForLogin(mountAccessor: string, mountType: string, aliasName: string): Entity {
    const existing = this.aliasByName(mountAccessor, aliasName);
    if (existing) {
      const entity = this.entityById(existing.canonicalId);
      if (entity) return entity;
    }
    return this.deps.db.transaction(() => {
      const entity = this.createEntity({});
      this.createAlias({ name: aliasName, canonicalId: entity.id, mountAccessor });
      return entity;
    })();
  }

  // Groups

  createGroup(input: { name?: string; metadata?: Record<string, string>; policies?: string[]; memberEntityIds?: string[] }): Group {
    const nowMs = this.deps.clock.nowMs();
    const id = randomUUID();
    const group: Group = {
      id,
      name: input.name ?? `group_${id.slice(0, 8)}`,
      metadata: input.metadata ?? {},
      policies: input.policies ?? [],
      memberEntityIds: [...new Set(input.memberEntityIds ?? [])],
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    };
    this.deps.db.transaction(() => {
      this.deps.db.prepare('INSERT INTO identity_groups (id, name, created_at, updated_at, body) VALUES (?, ?, ?, ?, ?)').run(group.id, group.name, nowMs, nowMs, this.groupBody(group));
      this.setMembers(group.id, group.memberEntityIds);
    })();
    this.changed();
    return group;
  }

  updateGroup(group: Group, change: { name?: string; metadata?: Record<string, string>; policies?: string[]; memberEntityIds?: string[] }): Group {
    const next: Group = {
      ...group,
      name: change.name ?? group.name,
      metadata: change.metadata ?? group.metadata,
      policies: change.policies ?? group.policies,
      memberEntityIds: change.memberEntityIds ? [...new Set(change.memberEntityIds)] : group.memberEntityIds,
      updatedAtMs: this.deps.clock.nowMs(),
    };
    this.deps.db.transaction(() => {
      this.deps.db.prepare('UPDATE identity_groups SET name = ?, updated_at = ?, body = ? WHERE id = ?').run(next.name, next.updatedAtMs, this.groupBody(next), next.id);
      this.setMembers(next.id, next.memberEntityIds);
    })();
    this.changed();
    return next;
  }

  private setMembers(groupId: string, entityIds: string[]): void {
    this.deps.db.prepare('DELETE FROM identity_group_members WHERE group_id = ?').run(groupId);
    const insert = this.deps.db.prepare('INSERT INTO identity_group_members (group_id, entity_id) VALUES (?, ?)');
    for (const entityId of entityIds) insert.run(groupId, entityId);
  }

  deleteGroup(id: string): boolean {
    const changes = this.deps.db.prepare('DELETE FROM identity_groups WHERE id = ?').run(id).changes;
    this.changed();
    return changes > 0;
  }

  groupById(id: string): Group | undefined {
    const row = this.deps.db.prepare('SELECT * FROM identity_groups WHERE id = ?').get(id) as GroupRow | undefined;
    return row ? this.groupFromRow(row) : undefined;
  }

  groupByName(name: string): Group | undefined {
    const row = this.deps.db.prepare('SELECT * FROM identity_groups WHERE name = ?').get(name) as GroupRow | undefined;
    return row ? this.groupFromRow(row) : undefined;
  }

  listGroups(): Group[] {
    return (this.deps.db.prepare('SELECT * FROM identity_groups ORDER BY name').all() as GroupRow[]).map((r) => this.groupFromRow(r));
  }

  groupsOfEntity(entityId: string): Group[] {
    const rows = this.deps.db
      .prepare('SELECT g.* FROM identity_groups g JOIN identity_group_members m ON m.group_id = g.id WHERE m.entity_id = ? ORDER BY g.name')
      .all(entityId) as GroupRow[];
    return rows.map((r) => this.groupFromRow(r));
  }

  // Rows and bodies

  private entityBody(entity: Entity): Uint8Array {
    return this.deps.barrier.encryptJSON(`identity_entities/${entity.id}`, { metadata: entity.metadata, policies: entity.policies });
  }

  private entityFromRow(row: EntityRow): Entity {
    const body = this.deps.barrier.decryptJSON<{ metadata: Record<string, string>; policies: string[] }>(`identity_entities/${row.id}`, row.body);
    return { id: row.id, name: row.name, metadata: body.metadata, policies: body.policies, disabled: row.disabled === 1, createdAtMs: row.created_at, updatedAtMs: row.updated_at };
  }

  private aliasBody(alias: EntityAlias): Uint8Array {
    return this.deps.barrier.encryptJSON(`identity_aliases/${alias.id}`, { metadata: alias.metadata });
  }

  private aliasFromRow(row: AliasRow): EntityAlias {
    const body = this.deps.barrier.decryptJSON<{ metadata: Record<string, string> }>(`identity_aliases/${row.id}`, row.body);
    return { id: row.id, canonicalId: row.canonical_id, mountAccessor: row.mount_accessor, name: row.name, metadata: body.metadata, createdAtMs: row.created_at, updatedAtMs: row.updated_at };
  }

  private groupBody(group: Group): Uint8Array {
    return this.deps.barrier.encryptJSON(`identity_groups/${group.id}`, { metadata: group.metadata, policies: group.policies });
  }

  private groupFromRow(row: GroupRow): Group {
    const body = this.deps.barrier.decryptJSON<{ metadata: Record<string, string>; policies: string[] }>(`identity_groups/${row.id}`, row.body);
    const members = (this.deps.db.prepare('SELECT entity_id FROM identity_group_members WHERE group_id = ? ORDER BY entity_id').all(row.id) as { entity_id: string }[]).map((r) => r.entity_id);
    return { id: row.id, name: row.name, metadata: body.metadata, policies: body.policies, memberEntityIds: members, createdAtMs: row.created_at, updatedAtMs: row.updated_at };
  }
}
