// The mount table: which engine or auth method serves which path prefix. Persisted encrypted,
// loaded on unseal; the router picks the longest matching prefix.
import { randomBytes, randomUUID } from 'node:crypto';
import { BadRequestError } from '../errors';
import type { Clock } from '../util/clock';
import type { BarrierStorage } from './barrier-storage';
import { type Backend, type BackendFactory, type CompiledPath, compilePaths, type LeaseQuery } from './framework';
import type { StorageView } from './storage-view';

/** Per-mount tunables (sys/mounts/:path/tune). Zero means "use the system default". */
export interface MountConfig {
  defaultLeaseTtlSeconds: number;
  maxLeaseTtlSeconds: number;
  forceNoCache: boolean;
  listingVisibility?: string;
  auditNonHmacRequestKeys?: string[];
  auditNonHmacResponseKeys?: string[];
}

/** One row of the mount table. `table` distinguishes secret engines from auth methods. */
export interface MountEntry {
  table: 'secret' | 'auth';
  /** Full routing prefix with trailing slash: `secret/`, `auth/approle/`. */
  path: string;
  type: string;
  description: string;
  accessor: string;
  uuid: string;
  config: MountConfig;
  options: Record<string, string>;
  local: boolean;
  sealWrap: boolean;
  /** Built-in mounts (sys/, auth/token/, cubbyhole/) cannot be disabled or moved. */
  builtin?: boolean;
  createdAtMs: number;
}

/** A mount with its live backend. */
export interface LiveMount {
  entry: MountEntry;
  backend: Backend;
  compiled: CompiledPath[];
  storage: StorageView;
}

/** Registered engine and auth method types. `kv-v2` is Vault's alias for kv with version 2. */
export type BackendRegistry = Record<string, BackendFactory>;

const TABLE_KEY = 'core/mounts';
const RESERVED_PREFIXES = ['sys/', 'auth/token/', 'cubbyhole/', 'identity/'];
const MOUNT_PATH_RE = /^[A-Za-z0-9][A-Za-z0-9_.\-/]*\/$/;

/** Makes `path` a normalised mount path with one trailing slash; refuses odd characters. */
export function normaliseMountPath(path: string): string {
  // No trim(): a name with edge whitespace is refused by the pattern, never silently changed after the ACL.
  let p = path.replace(/^\/+/, '');
  if (!p.endsWith('/')) p += '/';
  if (p.length > 256 || !MOUNT_PATH_RE.test(p) || p.includes('//') || p.split('/').some((s) => s === '.' || s === '..')) {
    throw new BadRequestError(`invalid mount path "${path.slice(0, 64)}"`);
  }
  return p;
}

/** Deps of the mount table; wired in the composition root. */
export interface MountTableDeps {
  store: BarrierStorage;
  registry: BackendRegistry;
  clock: Clock;
  logger: { info: (o: object, m?: string) => void; warn: (o: object, m?: string) => void; error: (o: object, m?: string) => void };
  /** Lease lookups for one mount, handed to its backend. */
  leaseQuery?: (mountUuid: string) => LeaseQuery;
}

/** Holds the live mounts while unsealed. */
export class MountTable {
  private mounts: LiveMount[] = [];

  constructor(
    private readonly deps: MountTableDeps,
    private readonly builtins: () => { entry: Omit<MountEntry, 'uuid' | 'accessor' | 'createdAtMs'>; backend: (storage: StorageView) => Backend }[],
  ) {}

  /** Loads the persisted table and instantiates every backend (on unseal). */
  load(): void {
    const stored = this.deps.store.view('').getJSON<MountEntry[]>(TABLE_KEY) ?? [];
    const live: LiveMount[] = [];
    for (const builtin of this.builtins()) {
      const persisted = stored.find((m) => m.path === builtin.entry.path);
      const entry: MountEntry = persisted ?? { ...builtin.entry, uuid: randomUUID(), accessor: this.accessorFor(builtin.entry.table, builtin.entry.type), createdAtMs: this.deps.clock.nowMs() };
      const storage = this.storageFor(entry);
      live.push(this.instantiate(entry, storage, builtin.backend(storage)));
    }
    for (const entry of stored) {
      if (entry.builtin) continue;
      const storage = this.storageFor(entry);
      live.push(this.instantiate(entry, storage, this.createBackend(entry, storage)));
    }
    this.mounts = this.sorted(live);
    this.persist();
  }

  /** Drops live backends (on seal), letting each close its pools and timers. */
  async unload(): Promise<void> {
    const dropped = this.mounts;
    this.mounts = [];
    for (const mount of dropped) {
      try {
        await mount.backend.close?.();
      } catch (error) {
        this.deps.logger.warn({ mount: mount.entry.path, err: error instanceof Error ? error.message : 'failed' }, 'closing a backend failed');
      }
    }
  }

  /** The mount serving `path`, by longest prefix. */
  route(path: string): LiveMount | undefined {
    for (const mount of this.mounts) {
      if (path.startsWith(mount.entry.path) || path + '/' === mount.entry.path) return mount;
    }
    return undefined;
  }

  /** Every live mount (for the periodic job). */
  all(): LiveMount[] {
    return [...this.mounts];
  }

  list(table: MountEntry['table']): LiveMount[] {
    return this.mounts.filter((m) => m.entry.table === table).sort((a, b) => a.entry.path.localeCompare(b.entry.path));
  }

  getByUuid(uuid: string): LiveMount | undefined {
    return this.mounts.find((m) => m.entry.uuid === uuid);
  }

  get(path: string): LiveMount | undefined {
    return this.mounts.find((m) => m.entry.path === path);
  }

  /** Mounts a new engine or auth method. Refuses overlaps and reserved paths. */
  mount(input: { table: MountEntry['table']; path: string; type: string; description: string; config: MountConfig; options: Record<string, string>; local: boolean; sealWrap: boolean }): MountEntry {
    const path = input.table === 'auth' ? `auth/${normaliseMountPath(input.path)}` : normaliseMountPath(input.path);
    let type = input.type;
    const options = { ...input.options };
    if (type === 'kv-v2') {
      type = 'kv';
      options.version = '2';
    }
    if (!this.deps.registry[type] || (input.table === 'auth') !== this.isAuthType(type)) {
      throw new BadRequestError(`plugin not found in the catalog: ${type.slice(0, 64)}`);
    }
    for (const reserved of RESERVED_PREFIXES) {
      if (path.startsWith(reserved) || reserved.startsWith(path)) throw new BadRequestError(`cannot mount at "${path}": reserved path`);
    }
    if (input.table === 'secret' && path.startsWith('auth/')) throw new BadRequestError(`cannot mount at "${path}": reserved path`);
    for (const existing of this.mounts) {
      if (path.startsWith(existing.entry.path) || existing.entry.path.startsWith(path)) {
        throw new BadRequestError(`path is already in use at ${existing.entry.path}`);
      }
    }
    const entry: MountEntry = {
      table: input.table,
      path,
      type,
      description: input.description,
      accessor: this.accessorFor(input.table, type),
      uuid: randomUUID(),
      config: input.config,
      options,
      local: input.local,
      sealWrap: input.sealWrap,
      createdAtMs: this.deps.clock.nowMs(),
    };
    const storage = this.storageFor(entry);
    const live = this.instantiate(entry, storage, this.createBackend(entry, storage));
    this.mounts = this.sorted([...this.mounts, live]);
    this.persist();
    return entry;
  }

  /** Throws when `path` may not be unmounted (a built-in mount); callers check this before any side effect. */
  assertUnmountable(path: string): void {
    const mount = this.get(path);
    if (mount?.entry.builtin) throw new BadRequestError(`cannot unmount "${path}"`);
  }

  /** Removes a mount and its storage. Callers check `assertUnmountable` and revoke its leases first. */
  async unmount(path: string): Promise<MountEntry | undefined> {
    const mount = this.get(path);
    if (!mount) return undefined;
    this.assertUnmountable(path);
    await mount.backend.cleanup?.();
    this.deps.store.transaction(() => {
      for (const key of mount.storage.listRecursive('')) mount.storage.delete(key);
      this.mounts = this.mounts.filter((m) => m !== mount);
      this.persist();
    });
    return mount.entry;
  }

  /** Changes a mount's tunables or description. Everything is validated before anything changes. */
  tune(path: string, change: Partial<MountConfig> & { description?: string; options?: Record<string, string> }): MountEntry {
    const mount = this.get(path);
    if (!mount) throw new BadRequestError(`no mount at "${path}"`);
    const { description, options, ...config } = change;
    const entry = mount.entry;
    if (options && entry.type === 'kv' && options.version && options.version !== (entry.options.version ?? '1')) {
      if (!(options.version === '2' && (entry.options.version ?? '1') === '1')) throw new BadRequestError('kv mounts can only be upgraded from version 1 to 2');
      throw new BadRequestError('upgrading a kv mount from version 1 to 2 is not supported yet: mount a new kv-v2 engine and copy the data');
    }
    const next = { ...entry.config, ...Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)) };
    if (next.defaultLeaseTtlSeconds && next.maxLeaseTtlSeconds && next.defaultLeaseTtlSeconds > next.maxLeaseTtlSeconds) {
      throw new BadRequestError('default_lease_ttl cannot be greater than max_lease_ttl');
    }
    if (description !== undefined) entry.description = description;
    if (options) entry.options = { ...entry.options, ...options };
    entry.config = next;
    this.persist();
    return entry;
  }

  private isAuthType(type: string): boolean {
    return ['approle', 'jwt', 'oidc', 'token', 'userpass'].includes(type);
  }

  /** Vault's accessor form: `auth_approle_1a2b3c4d` for auth methods, `kv_1a2b3c4d` for engines. */
  private accessorFor(table: MountEntry['table'], type: string): string {
    return `${table === 'auth' ? 'auth_' : ''}${type}_${randomBytes(4).toString('hex')}`;
  }

  private storageFor(entry: MountEntry): StorageView {
    return this.deps.store.view(`${entry.table === 'auth' ? 'auth' : 'logical'}/${entry.uuid}/`);
  }

  private createBackend(entry: MountEntry, storage: StorageView): Backend {
    const factory = this.deps.registry[entry.type];
    if (!factory) throw new BadRequestError(`plugin not found in the catalog: ${entry.type}`);
    return factory({ mountPath: entry.path, options: entry.options, storage, clock: this.deps.clock, logger: this.deps.logger, leases: this.deps.leaseQuery?.(entry.uuid) });
  }

  private instantiate(entry: MountEntry, storage: StorageView, backend: Backend): LiveMount {
    return { entry, backend, compiled: compilePaths(backend.paths), storage };
  }

  private sorted(mounts: LiveMount[]): LiveMount[] {
    return mounts.sort((a, b) => b.entry.path.length - a.entry.path.length);
  }

  private persist(): void {
    this.deps.store.view('').putJSON(
      TABLE_KEY,
      this.mounts.map((m) => m.entry),
    );
  }
}
