// Links a login to its identity, as Vault does: the auth method names the alias (AppRole: role_id;
// JWT: the user_claim value), the entity is found by (mount accessor, alias name) or created on the
// first login, and a disabled entity's logins are refused. Also decides the token's owner.
import { PermissionDeniedError } from '../../errors';
import type { AuthDescriptor } from '../framework';
import { entityOwner, type IdentityStore } from './identity-store';

/** Who a login token belongs to: its holder (entity), owner, and the issuing mount and role. */
export interface LoginHolder {
  entityId?: string;
  owner?: string;
  mountAccessor: string;
  roleName?: string;
}

/**
 * The holder of a login on the auth mount with `mountAccessor`. The entity's `metadata.owner`
 * wins; the issuing role's `owner` applies where the entity has none.
 */
export function linkLogin(store: IdentityStore, mount: { accessor: string; type: string }, auth: AuthDescriptor): LoginHolder {
  const holder: LoginHolder = { mountAccessor: mount.accessor, roleName: auth.roleName, owner: auth.owner };
  if (!auth.alias) return holder;
  const entity = store.entityForLogin(mount.accessor, mount.type, auth.alias.name);
  if (entity.disabled) throw new PermissionDeniedError();
  holder.entityId = entity.id;
  holder.owner = entityOwner(entity) ?? auth.owner;
  return holder;
}
