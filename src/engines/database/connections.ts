// Database connections of one mount: their stored configuration (encrypted by the barrier, like all engine
// storage) and the live, sanitised plugin instance for each, opened lazily and replaced on reconfiguration.
import type { StorageView } from '../../core/storage-view';
import { BadRequestError } from '../../errors';
import { KeyedLock } from './keyed-lock';
import { databasePlugin } from './plugins/registry';
import { sanitisedPlugin } from './plugins/sanitise';
import type { DatabasePlugin } from './plugins/types';

/** A connection as stored at `config/<name>`. `connection_details` holds the password: never return it as is. */
export interface StoredConnection {
  plugin_name: string;
  /** The plugin's normalised connection settings (connection_url, username, password, pool settings, ...). */
  connection_details: Record<string, unknown>;
  allowed_roles: string[];
  root_rotation_statements: string[];
  password_length: number;
  verify_connection: boolean;
  drop_unleased_roles: boolean;
  unleased_role_grace_period: number;
  /**
   * A root password rotate-root sent to the database without knowing (yet) that it took effect. Kept until a
   * login with it or with `connection_details.password` is confirmed, so that neither a crash half way nor
   * an error after PostgreSQL committed the ALTER ROLE (a timeout, a dropped connection) can lock us out.
   */
  pending_root_password?: string;
}

const CONFIG_PREFIX = 'config/';

/** Every secret value a connection's configuration holds, in the forms the sanitiser needs. */
export function connectionSecrets(connection: StoredConnection | undefined): string[] {
  if (!connection) return [];
  const details = connection.connection_details;
  const password = typeof details.password === 'string' ? details.password : '';
  const username = typeof details.username === 'string' ? details.username : '';
  const url = typeof details.connection_url === 'string' ? details.connection_url : '';
  const out = [password, connection.pending_root_password ?? '', url];
  for (const pw of [password, connection.pending_root_password ?? '']) {
    if (url) out.push(url.replace(/\{\{username\}\}/g, encodeURIComponent(username)).replace(/\{\{password\}\}/g, encodeURIComponent(pw)));
  }
  return out.filter((s) => s !== '');
}

/** Whether a role name is allowed by a connection's allowed_roles ("*" or globs with `*`). */
export function roleAllowed(allowed: readonly string[], role: string): boolean {
  return allowed.some((pattern) => {
    if (pattern === '*' || pattern === role) return true;
    if (!pattern.includes('*')) return false;
    const regex = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    return regex.test(role);
  });
}

/** The connections of one mount and their live plugins. */
export class Connections {
  private readonly live = new Map<string, Promise<DatabasePlugin>>();
  /** Serialises configuration changes and root rotation per connection. */
  readonly lock = new KeyedLock();

  constructor(private readonly storage: StorageView) {}

  read(name: string): StoredConnection | undefined {
    return this.storage.getJSON<StoredConnection>(`${CONFIG_PREFIX}${name}`);
  }

  /** The stored connection, or a 400 naming it. */
  require(name: string): StoredConnection {
    const connection = this.read(name);
    if (!connection) throw new BadRequestError(`unknown database connection "${name}"`);
    return connection;
  }

  write(name: string, connection: StoredConnection): void {
    this.storage.putJSON(`${CONFIG_PREFIX}${name}`, connection);
  }

  names(): string[] {
    return this.storage.list(CONFIG_PREFIX).filter((k) => !k.endsWith('/'));
  }

  /** A new, initialised, sanitised plugin for a configuration; not cached. Errors are sanitised. */
  async open(connection: StoredConnection, verifyConnection: boolean, secrets: () => string[]): Promise<{ plugin: DatabasePlugin; details: Record<string, unknown> }> {
    const entry = databasePlugin(connection.plugin_name);
    if (!entry) throw new BadRequestError(`unknown plugin_name "${connection.plugin_name.slice(0, 128)}"`);
    const plugin = sanitisedPlugin(entry.factory(), secrets);
    try {
      const { config } = await plugin.initialize({ config: connection.connection_details, verifyConnection });
      return { plugin, details: config };
    } catch (error) {
      await plugin.close().catch(() => undefined);
      throw error;
    }
  }

  /** The live plugin of a connection, opened from storage on first use. */
  plugin(name: string): Promise<DatabasePlugin> {
    const existing = this.live.get(name);
    if (existing) return existing;
    const opening = this.openStored(name);
    this.live.set(name, opening);
    // A failed open is not cached: the next use tries again (the database may be back).
    opening.catch(() => {
      if (this.live.get(name) === opening) this.live.delete(name);
    });
    return opening;
  }

  private async openStored(name: string): Promise<DatabasePlugin> {
    const connection = this.require(name);
    const secrets = () => connectionSecrets(this.read(name) ?? connection);
    if (connection.pending_root_password === undefined) return (await this.open(connection, false, secrets)).plugin;
    const opened = await this.openResolving(connection, secrets);
    this.confirmRootPassword(name, connection, opened.connection);
    return opened.plugin;
  }

  /**
   * Opens a connection whose root password is uncertain: a rotate-root may or may not have applied
   * `pending_root_password` (it failed or stopped after sending the ALTER ROLE). Each candidate is tried with a
   * real login, the configured password first; the one that logs in is confirmed. Returns the plugin and the
   * connection as confirmed (that password configured, nothing pending). Fails, with the last login error,
   * when neither logs in: then nothing is known and both must be kept.
   */
  async openResolving(connection: StoredConnection, secrets: () => string[]): Promise<{ plugin: DatabasePlugin; connection: StoredConnection }> {
    const pending = connection.pending_root_password;
    const settled: StoredConnection = { ...connection };
    delete settled.pending_root_password;
    const candidates: StoredConnection[] = [settled];
    if (pending !== undefined) candidates.push({ ...settled, connection_details: { ...settled.connection_details, password: pending } });
    let lastError: unknown = new Error('no password to try');
    for (const candidate of candidates) {
      try {
        const opened = await this.open(candidate, true, secrets);
        return { plugin: opened.plugin, connection: { ...candidate, connection_details: opened.details } };
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  /**
   * Stores a root password confirmed by a login, unless the stored connection changed since `basis` was
   * read (a newer configuration or rotation decides then, and keeps its own pending password).
   */
  private confirmRootPassword(name: string, basis: StoredConnection, confirmed: StoredConnection): void {
    const current = this.read(name);
    if (!current) return;
    const unchanged = current.pending_root_password === basis.pending_root_password && current.connection_details.password === basis.connection_details.password;
    if (!unchanged) return;
    const settled: StoredConnection = { ...current, connection_details: { ...current.connection_details, password: confirmed.connection_details.password } };
    delete settled.pending_root_password;
    this.write(name, settled);
  }

  /** Installs a freshly opened plugin as the live one and closes the previous instance. */
  async replace(name: string, plugin: DatabasePlugin | undefined): Promise<void> {
    const previous = this.live.get(name);
    if (plugin) this.live.set(name, Promise.resolve(plugin));
    else this.live.delete(name);
    if (previous) await (await previous.catch(() => undefined))?.close().catch(() => undefined);
  }

  /** Closes every live plugin (mount removal). */
  async closeAll(): Promise<void> {
    const all = [...this.live.values()];
    this.live.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.close().catch(() => undefined)));
  }
}
