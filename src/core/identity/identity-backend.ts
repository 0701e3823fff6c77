// The builtin `identity/` backend: Vault's entity, entity-alias, group and lookup endpoints over the
// identity store, with Vault's wire shapes so hvac's `client.secrets.identity.*` works unchanged.
import { z } from 'zod';
import { BadRequestError, NotFoundError } from '../../errors';
import { bool, str, stringList, stringMap } from '../fields';
import type { Backend, BackendRequest, BackendResponse, PathDefinition } from '../framework';
import { requestActor } from '../governance/events';
import type { Entity, EntityAlias, Group, IdentityStore } from './identity-store';

/** What the backend needs from the core: the store, auth mounts by accessor, and the disable hook. */
export interface IdentityBackendDeps {
  store: IdentityStore;
  /** The auth mount an accessor names (aliases must point at one), or undefined. */
  mountByAccessor: (accessor: string) => { path: string; type: string } | undefined;
  /**
   * Called when an update disables an entity: revokes what it holds. Returns warnings for the
   * response (Vault leaves the leases live; we do not, and say so).
   */
  onEntityDisabled?: (entityId: string, actor: string | null) => Promise<string[]>;
}

/** Optional, with a JSON null meaning "not given" (hvac sends every unset option as null). */
const opt = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === null ? undefined : v), schema.optional());

const idField = str(64).min(1).describe('The identifier (a UUID)');
const nameField = str(256).min(1).describe('The name');

const entityFields = z.object({
  name: opt(nameField),
  id: opt(idField),
  metadata: opt(stringMap().describe('Metadata; `owner` names the accountable person or team')),
  policies: opt(stringList(256, 128).describe('Policies granted to the entity')),
  disabled: opt(bool().describe('Refuse the entity\'s tokens and logins')),
});
type EntityFields = z.infer<typeof entityFields>;

const aliasFields = z.object({
  id: opt(idField),
  name: opt(nameField.describe('The alias name (AppRole: role_id; JWT: the user_claim value)')),
  canonical_id: opt(idField.describe('The entity this alias belongs to')),
  mount_accessor: opt(str(128).describe('Accessor of the auth mount the alias is for')),
  custom_metadata: opt(stringMap().describe('Arbitrary metadata')),
});
type AliasFields = z.infer<typeof aliasFields>;

const groupFields = z.object({
  name: opt(nameField),
  id: opt(idField),
  type: opt(z.enum(['internal']).describe('Only internal groups are supported')),
  metadata: opt(stringMap().describe('Metadata')),
  policies: opt(stringList(256, 128).describe('Policies granted to members')),
  member_entity_ids: opt(stringList(1024, 64).describe('Member entity ids')),
  member_group_ids: opt(stringList(64, 64).describe('Nested groups (not supported)')),
});
type GroupFields = z.infer<typeof groupFields>;

const lookupFields = z.object({
  name: opt(nameField),
  id: opt(idField),
  alias_id: opt(idField),
  alias_name: opt(nameField),
  alias_mount_accessor: opt(str(128)),
});
type LookupFields = z.infer<typeof lookupFields>;

const rfc3339 = (ms: number) => new Date(ms).toISOString();

/** The identity backend factory, wired in the composition root. */
export function identityBackend(deps: IdentityBackendDeps): Backend {
  const { store } = deps;

  function renderAlias(alias: EntityAlias): Record<string, unknown> {
    const mount = deps.mountByAccessor(alias.mountAccessor);
    return {
      canonical_id: alias.canonicalId,
      creation_time: rfc3339(alias.createdAtMs),
      custom_metadata: alias.metadata,
      id: alias.id,
      last_update_time: rfc3339(alias.updatedAtMs),
      local: false,
      merged_from_canonical_ids: null,
      metadata: null,
      mount_accessor: alias.mountAccessor,
      mount_path: mount?.path ?? '',
      mount_type: mount?.type ?? '',
      name: alias.name,
      namespace_id: 'root',
    };
  }

  function renderEntity(entity: Entity): Record<string, unknown> {
    const groupIds = store.groupsOfEntity(entity.id).map((g) => g.id);
    return {
      aliases: store.aliasesOfEntity(entity.id).map(renderAlias),
      creation_time: rfc3339(entity.createdAtMs),
      direct_group_ids: groupIds,
      disabled: entity.disabled,
      group_ids: groupIds,
      id: entity.id,
      inherited_group_ids: [],
      last_update_time: rfc3339(entity.updatedAtMs),
      merged_entity_ids: null,
      metadata: entity.metadata,
      name: entity.name,
      namespace_id: 'root',
      policies: entity.policies,
    };
  }

  function renderGroup(group: Group): Record<string, unknown> {
    return {
      alias: {},
      creation_time: rfc3339(group.createdAtMs),
      id: group.id,
      last_update_time: rfc3339(group.updatedAtMs),
      member_entity_ids: group.memberEntityIds,
      member_group_ids: null,
      metadata: group.metadata,
      modify_index: 0,
      name: group.name,
      namespace_id: 'root',
      parent_group_ids: null,
      policies: group.policies,
      type: 'internal',
    };
  }

  /** Creates or updates; a disable through identity/ also revokes what the entity holds. */
  async function writeEntity(existing: Entity | undefined, fields: EntityFields, actor: string | null): Promise<BackendResponse> {
    if (fields.name !== undefined && (!existing || existing.name !== fields.name)) {
      const clash = store.entityByName(fields.name);
      if (clash && clash.id !== existing?.id) {
        if (existing) throw new BadRequestError('entity name is already in use');
        existing = clash;
      }
    }
    const change = { name: fields.name, metadata: fields.metadata, policies: fields.policies, disabled: fields.disabled };
    if (!existing) {
      const created = store.createEntity({ ...change, id: fields.id }, actor);
      return { data: { id: created.id, name: created.name, aliases: null } };
    }
    const wasDisabled = existing.disabled;
    const updated = store.updateEntity(existing, change);
    const warnings = !wasDisabled && updated.disabled && deps.onEntityDisabled ? await deps.onEntityDisabled(updated.id, actor) : [];
    return { data: { id: updated.id, name: updated.name, aliases: null }, warnings: warnings.length > 0 ? warnings : undefined };
  }

  function entityOrThrow(req: BackendRequest<{ id?: string; name?: string }>, by: 'id' | 'name'): Entity {
    const entity = by === 'id' ? store.entityById(String(req.fields.id)) : store.entityByName(String(req.fields.name));
    if (!entity) throw new NotFoundError();
    return entity;
  }

  function listEntities(by: 'id' | 'name'): BackendResponse {
    const entities = store.listEntities();
    if (entities.length === 0) throw new NotFoundError();
    const keyInfo: Record<string, unknown> = {};
    for (const e of entities) {
      keyInfo[by === 'id' ? e.id : e.name] = {
        name: e.name,
        ...(by === 'id' ? {} : { id: e.id }),
        aliases: store.aliasesOfEntity(e.id).map((a) => ({ id: a.id, mount_accessor: a.mountAccessor, name: a.name })),
      };
    }
    return { data: { keys: Object.keys(keyInfo), key_info: keyInfo } };
  }

  function requireMount(accessor: string | undefined): string {
    if (!accessor || !deps.mountByAccessor(accessor)) throw new BadRequestError('invalid mount accessor');
    return accessor;
  }

  function writeAlias(existing: EntityAlias | undefined, fields: AliasFields): BackendResponse {
    if (fields.canonical_id !== undefined && !store.entityById(fields.canonical_id)) throw new BadRequestError('invalid canonical ID');
    if (!existing) {
      if (!fields.name) throw new BadRequestError('missing alias name');
      if (!fields.canonical_id) throw new BadRequestError('missing canonical ID');
      const mountAccessor = requireMount(fields.mount_accessor);
      const clash = store.aliasByName(mountAccessor, fields.name);
      if (clash) throw new BadRequestError(`alias with name "${fields.name}" already exists for this mount accessor`);
      const alias = store.createAlias({ name: fields.name, canonicalId: fields.canonical_id, mountAccessor, metadata: fields.custom_metadata });
      return { data: { canonical_id: alias.canonicalId, id: alias.id } };
    }
    const mountAccessor = fields.mount_accessor !== undefined ? requireMount(fields.mount_accessor) : undefined;
    const alias = store.updateAlias(existing, { name: fields.name, canonicalId: fields.canonical_id, mountAccessor, metadata: fields.custom_metadata });
    return { data: { canonical_id: alias.canonicalId, id: alias.id } };
  }

  function checkMembers(ids: string[] | undefined): void {
    for (const id of ids ?? []) if (!store.entityById(id)) throw new BadRequestError(`entity "${id.slice(0, 64)}" does not exist`);
  }

  function writeGroup(existing: Group | undefined, fields: GroupFields): BackendResponse {
    if (fields.member_group_ids && fields.member_group_ids.length > 0) throw new BadRequestError('nested groups are not supported');
    checkMembers(fields.member_entity_ids);
    if (fields.name !== undefined && (!existing || existing.name !== fields.name)) {
      const clash = store.groupByName(fields.name);
      if (clash && clash.id !== existing?.id) {
        if (existing) throw new BadRequestError('group name is already in use');
        existing = clash;
      }
    }
    const change = { name: fields.name, metadata: fields.metadata, policies: fields.policies, memberEntityIds: fields.member_entity_ids };
    const group = existing ? store.updateGroup(existing, change) : store.createGroup(change);
    return { data: { id: group.id, name: group.name } };
  }

  function listGroups(by: 'id' | 'name'): BackendResponse {
    const groups = store.listGroups();
    if (groups.length === 0) throw new NotFoundError();
    const keyInfo: Record<string, unknown> = {};
    for (const g of groups) keyInfo[by === 'id' ? g.id : g.name] = { name: g.name, num_member_entities: g.memberEntityIds.length, num_parent_groups: 0 };
    return { data: { keys: Object.keys(keyInfo), key_info: keyInfo } };
  }

  function groupOrThrow(req: BackendRequest<{ id?: string; name?: string }>, by: 'id' | 'name'): Group {
    const group = by === 'id' ? store.groupById(String(req.fields.id)) : store.groupByName(String(req.fields.name));
    if (!group) throw new NotFoundError();
    return group;
  }

  const segment = '[^/]+';
  const paths: PathDefinition[] = [
    {
      pattern: 'entity',
      fields: entityFields,
      operations: { update: (req: BackendRequest<EntityFields>) => writeEntity(req.fields.id ? store.entityById(req.fields.id) : undefined, req.fields, requestActor(req.identity)) },
      description: 'Creates an entity, or updates the one with this name or id.',
    },
    ...(['id', 'name'] as const).flatMap((by): PathDefinition[] => [
      {
        pattern: `entity/${by}/(?<${by}>${segment})`,
        fields: entityFields,
        operations: {
          read: (req) => ({ data: renderEntity(entityOrThrow(req, by)) }),
          update: (req: BackendRequest<EntityFields>) => writeEntity(entityOrThrow(req, by), by === 'name' ? { ...req.fields, name: undefined } : { ...req.fields, id: undefined }, requestActor(req.identity)),
          delete: (req) => {
            const entity = by === 'id' ? store.entityById(String(req.fields.id)) : store.entityByName(String(req.fields.name));
            if (entity) store.deleteEntity(entity.id);
            return undefined;
          },
        },
        description: `Reads, updates or deletes an entity by ${by}.`,
      },
      { pattern: `entity/${by}/?`, operations: { list: () => listEntities(by) }, description: `Lists entities by ${by}.` },
    ]),
    {
      pattern: 'entity-alias',
      fields: aliasFields,
      operations: { update: (req: BackendRequest<AliasFields>) => writeAlias(req.fields.id ? store.aliasById(req.fields.id) : undefined, req.fields) },
      description: 'Creates an entity alias.',
    },
    {
      pattern: `entity-alias/id/(?<id>${segment})`,
      fields: aliasFields,
      operations: {
        read: (req) => {
          const alias = store.aliasById(String(req.fields.id));
          if (!alias) throw new NotFoundError();
          return { data: renderAlias(alias) };
        },
        update: (req: BackendRequest<AliasFields>) => {
          const alias = store.aliasById(String(req.fields.id));
          if (!alias) throw new NotFoundError();
          return writeAlias(alias, req.fields);
        },
        delete: (req) => {
          store.deleteAlias(String(req.fields.id));
          return undefined;
        },
      },
      description: 'Reads, updates or deletes an entity alias.',
    },
    {
      pattern: 'entity-alias/id/?',
      operations: {
        list: () => {
          const aliases = store.listAliases();
          if (aliases.length === 0) throw new NotFoundError();
          const keyInfo: Record<string, unknown> = {};
          for (const a of aliases) {
            const mount = deps.mountByAccessor(a.mountAccessor);
            keyInfo[a.id] = { canonical_id: a.canonicalId, custom_metadata: a.metadata, local: false, mount_accessor: a.mountAccessor, mount_path: mount?.path ?? '', mount_type: mount?.type ?? '', name: a.name };
          }
          return { data: { keys: Object.keys(keyInfo), key_info: keyInfo } };
        },
      },
      description: 'Lists entity aliases.',
    },
    {
      pattern: 'group',
      fields: groupFields,
      operations: { update: (req: BackendRequest<GroupFields>) => writeGroup(req.fields.id ? store.groupById(req.fields.id) : undefined, req.fields) },
      description: 'Creates an internal group, or updates the one with this name or id.',
    },
    ...(['id', 'name'] as const).flatMap((by): PathDefinition[] => [
      {
        pattern: `group/${by}/(?<${by}>${segment})`,
        fields: groupFields,
        operations: {
          read: (req) => ({ data: renderGroup(groupOrThrow(req, by)) }),
          update: (req: BackendRequest<GroupFields>) => writeGroup(groupOrThrow(req, by), by === 'name' ? { ...req.fields, name: undefined } : { ...req.fields, id: undefined }),
          delete: (req) => {
            const group = by === 'id' ? store.groupById(String(req.fields.id)) : store.groupByName(String(req.fields.name));
            if (group) store.deleteGroup(group.id);
            return undefined;
          },
        },
        description: `Reads, updates or deletes a group by ${by}.`,
      },
      { pattern: `group/${by}/?`, operations: { list: () => listGroups(by) }, description: `Lists groups by ${by}.` },
    ]),
    {
      pattern: 'lookup/entity',
      fields: lookupFields,
      operations: {
        update: (req: BackendRequest<LookupFields>) => {
          const f = req.fields;
          const criteria = [f.name, f.id, f.alias_id, f.alias_name ?? f.alias_mount_accessor].filter((v) => v !== undefined).length;
          if (criteria !== 1) throw new BadRequestError('exactly one of name, id, alias_id, or alias_name and alias_mount_accessor must be given');
          let entity: Entity | undefined;
          if (f.name !== undefined) entity = store.entityByName(f.name);
          else if (f.id !== undefined) entity = store.entityById(f.id);
          else if (f.alias_id !== undefined) {
            const alias = store.aliasById(f.alias_id);
            entity = alias ? store.entityById(alias.canonicalId) : undefined;
          } else {
            if (!f.alias_name || !f.alias_mount_accessor) throw new BadRequestError('both alias_name and alias_mount_accessor must be given');
            const alias = store.aliasByName(f.alias_mount_accessor, f.alias_name);
            entity = alias ? store.entityById(alias.canonicalId) : undefined;
          }
          return entity ? { data: renderEntity(entity) } : undefined;
        },
      },
      description: 'Looks an entity up by name, id, alias id, or alias name and mount accessor.',
    },
  ];
  return { paths };
}
