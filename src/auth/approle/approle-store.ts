// AppRole's records in the mount's encrypted storage: roles, the role_id index, secret IDs kept only as HMACs, accessors.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { StorageView } from '../../core/storage-view';

/** A role as stored. Durations are whole seconds; `secretIdBoundCidrs` is null until set, as Vault reports it. */
export interface RoleEntry {
  name: string;
  roleId: string;
  bindSecretId: boolean;
  secretIdBoundCidrs: string[] | null;
  secretIdNumUses: number;
  secretIdTtlSeconds: number;
  localSecretIds: boolean;
  tokenPolicies: string[];
  tokenTtlSeconds: number;
  tokenMaxTtlSeconds: number;
  tokenExplicitMaxTtlSeconds: number;
  tokenPeriodSeconds: number;
  tokenNoDefaultPolicy: boolean;
  tokenNumUses: number;
  tokenType: 'default' | 'service';
  tokenBoundCidrs: string[];
  /** The accountable owner of tokens and leases issued through this role (Leasehold governance). */
  owner?: string;
  /** Set through the deprecated `period` field: reads then echo `period`, as Vault does. */
  legacyPeriod: boolean;
}

/** A secret ID as stored: never the secret ID itself, only its HMAC (which is also its storage key). */
export interface SecretIdEntry {
  secretIdHmac: string;
  accessor: string;
  /** Logins left; 0 means unlimited. */
  numUses: number;
  /** The lifetime it was issued with; 0 means no expiry. */
  ttlSeconds: number;
  createdAtMs: number;
  /** 0 means no expiry. */
  expireAtMs: number;
  lastUpdatedAtMs: number;
  metadata: Record<string, string>;
  cidrList: string[];
  tokenBoundCidrs: string[];
}

const HMAC_KEY = 'hmac-key';
const HMAC_KEY_BYTES = 32;

/** A role name no role can have (names start with a word character): where unknown-role logins look, to do the same work. */
export const NO_SUCH_ROLE = '-';

const roleKey = (name: string) => `role/${name}`;
const roleIdKey = (roleIdHmac: string) => `role-id/${roleIdHmac}`;
const secretIdPrefix = (roleName: string) => `secret-id/${roleName}/`;
const secretIdKey = (roleName: string, secretIdHmac: string) => `${secretIdPrefix(roleName)}${secretIdHmac}`;
const accessorPrefix = (roleName: string) => `accessor/${roleName}/`;
const accessorKey = (roleName: string, accessor: string) => `${accessorPrefix(roleName)}${accessor}`;

/** Compares two hex digests in constant time (different lengths are simply unequal). */
export function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Typed access to one AppRole mount's storage. Every method is synchronous, so callers can compose them in a transaction. */
export class ApproleStore {
  constructor(private readonly storage: StorageView) {}

  /** Runs `fn` atomically (synchronous; no await inside). */
  transaction<T>(fn: () => T): T {
    return this.storage.transaction(fn);
  }

  /** The mount's HMAC key, created at random on first use; it never leaves the mount's encrypted storage. */
  private hmacKey(): Uint8Array {
    return this.storage.transaction(() => {
      const existing = this.storage.get(HMAC_KEY);
      if (existing) return existing;
      const key = new Uint8Array(randomBytes(HMAC_KEY_BYTES));
      this.storage.put(HMAC_KEY, key);
      return key;
    });
  }

  /** HMAC-SHA256 of a credential, hex; `purpose` separates role_id and secret_id digests. */
  hmac(purpose: 'role_id' | 'secret_id', value: string): string {
    const key = this.hmacKey();
    try {
      return createHmac('sha256', key).update(`${purpose}\0${value}`, 'utf8').digest('hex');
    } finally {
      key.fill(0);
    }
  }

  getRole(name: string): RoleEntry | undefined {
    return this.storage.getJSON<RoleEntry>(roleKey(name));
  }

  listRoles(): string[] {
    return this.storage.list('role/').filter((k) => !k.endsWith('/'));
  }

  /** The role a role_id HMAC belongs to. */
  roleNameForRoleId(roleIdHmac: string): string | undefined {
    return this.storage.getJSON<{ name: string }>(roleIdKey(roleIdHmac))?.name;
  }

  /** Stores a role and its role_id index. Returns false, writing nothing, if another role already holds the role_id. */
  putRole(role: RoleEntry, previousRoleId: string | undefined): boolean {
    return this.storage.transaction(() => {
      const roleIdHmac = this.hmac('role_id', role.roleId);
      const holder = this.roleNameForRoleId(roleIdHmac);
      if (holder !== undefined && holder !== role.name) return false;
      if (previousRoleId !== undefined && previousRoleId !== role.roleId) this.storage.delete(roleIdKey(this.hmac('role_id', previousRoleId)));
      this.storage.putJSON(roleKey(role.name), role);
      this.storage.putJSON(roleIdKey(roleIdHmac), { name: role.name });
      return true;
    });
  }

  /** Removes a role with its role_id index, every secret ID and every accessor. */
  deleteRole(role: RoleEntry): void {
    this.storage.transaction(() => {
      for (const key of this.storage.listRecursive(secretIdPrefix(role.name))) this.storage.delete(key);
      for (const key of this.storage.listRecursive(accessorPrefix(role.name))) this.storage.delete(key);
      this.storage.delete(roleIdKey(this.hmac('role_id', role.roleId)));
      this.storage.delete(roleKey(role.name));
    });
  }

  getSecretId(roleName: string, secretIdHmac: string): SecretIdEntry | undefined {
    return this.storage.getJSON<SecretIdEntry>(secretIdKey(roleName, secretIdHmac));
  }

  /** Stores a secret ID and its accessor together. */
  putSecretId(roleName: string, entry: SecretIdEntry): void {
    this.storage.transaction(() => {
      this.storage.putJSON(accessorKey(roleName, entry.accessor), { secretIdHmac: entry.secretIdHmac });
      this.storage.putJSON(secretIdKey(roleName, entry.secretIdHmac), entry);
    });
  }

  /** Rewrites a secret ID's record (use count) without touching its accessor. */
  updateSecretId(roleName: string, entry: SecretIdEntry): void {
    this.storage.putJSON(secretIdKey(roleName, entry.secretIdHmac), entry);
  }

  /** Removes a secret ID and its accessor. Idempotent. */
  deleteSecretId(roleName: string, secretIdHmac: string, accessor: string | undefined): void {
    this.storage.transaction(() => {
      if (accessor) this.storage.delete(accessorKey(roleName, accessor));
      this.storage.delete(secretIdKey(roleName, secretIdHmac));
    });
  }

  /** Removes an accessor record alone (tidy, when its secret ID is gone). */
  deleteAccessor(roleName: string, accessor: string): void {
    this.storage.delete(accessorKey(roleName, accessor));
  }

  /** The secret ID HMAC an accessor of this role points to. Accessors are scoped to their role. */
  secretIdHmacForAccessor(roleName: string, accessor: string): string | undefined {
    return this.storage.getJSON<{ secretIdHmac: string }>(accessorKey(roleName, accessor))?.secretIdHmac;
  }

  /** HMACs of every secret ID stored for a role. */
  listSecretIdHmacs(roleName: string): string[] {
    return this.storage.list(secretIdPrefix(roleName)).filter((k) => !k.endsWith('/'));
  }

  /** Every accessor stored for a role. */
  listAccessors(roleName: string): string[] {
    return this.storage.list(accessorPrefix(roleName)).filter((k) => !k.endsWith('/'));
  }

  /** Role names that still have secret-id or accessor records (a role deleted mid-way leaves none, but tidy checks). */
  rolesWithSecretIds(): string[] {
    const names = new Set<string>();
    for (const k of [...this.storage.list('secret-id/'), ...this.storage.list('accessor/')]) if (k.endsWith('/')) names.add(k.slice(0, -1));
    return [...names].sort();
  }

  /** Deletes every record of a role's secret IDs and accessors (tidy, for roles that no longer exist). */
  purgeSecretIds(roleName: string): number {
    return this.storage.transaction(() => {
      const keys = [...this.storage.listRecursive(secretIdPrefix(roleName)), ...this.storage.listRecursive(accessorPrefix(roleName))];
      for (const key of keys) this.storage.delete(key);
      return keys.length;
    });
  }
}
