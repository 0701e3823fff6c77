// config/:name (connections), reset/:name and rotate-root/:name: configure a database, restart its plugin,
// and rotate the vault's own login so that afterwards only the vault knows its password.
import type { z } from 'zod';
import type { BackendRequest, BackendResponse, PathDefinition } from '../../core/framework';
import { BadRequestError, InternalError, NotFoundError } from '../../errors';
import { type StoredConnection, connectionSecrets } from './connections';
import { type DatabaseEngine, listResponse, pluginFailure } from './engine';
import { MIN_PASSWORD_LENGTH, configFields, connectionNameFields } from './fields';
import { generatePassword } from './passwords';
import { maskConnectionUrl } from './plugins/connection-url';
import { databasePlugin, pluginConfigShape } from './plugins/registry';
import type { DatabasePlugin } from './plugins/types';

type ConfigFields = z.infer<typeof configFields>;

const DEFAULT_GRACE_PERIOD_SECONDS = 300;
const PLUGIN_FIELDS = Object.keys(pluginConfigShape());

/**
 * A connection_url for reads: a literal password in the userinfo and secret query parameters (`password`,
 * `sslpassword`, `sslkey`, ...) replaced by `*****`, templates kept; a URL that does not parse is masked whole.
 */
export function maskedConnectionUrl(url: string): string {
  return maskConnectionUrl(url).masked;
}

/** The read view of a connection: Vault's shape, without the password (or any other secret field). */
export function connectionView(connection: StoredConnection): Record<string, unknown> {
  const secretFields = new Set(databasePlugin(connection.plugin_name)?.secretFields ?? ['password']);
  const details: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(connection.connection_details)) {
    if (secretFields.has(k)) continue;
    details[k] = k === 'connection_url' && typeof v === 'string' ? maskedConnectionUrl(v) : v;
  }
  return {
    plugin_name: connection.plugin_name,
    plugin_version: '',
    connection_details: details,
    allowed_roles: connection.allowed_roles,
    root_credentials_rotate_statements: connection.root_rotation_statements,
    password_policy: '',
    password_length: connection.password_length,
    verify_connection: connection.verify_connection,
    drop_unleased_roles: connection.drop_unleased_roles,
    unleased_role_grace_period: connection.unleased_role_grace_period,
  };
}

function literalPasswordInUrl(url: unknown): boolean {
  return typeof url === 'string' && maskConnectionUrl(url).secret;
}

async function writeConfig(engine: DatabaseEngine, req: BackendRequest<ConfigFields>): Promise<BackendResponse | undefined> {
  const f = req.fields;
  if (f.password_policy) throw new BadRequestError('password_policy is not supported: Vault password policies do not exist here; use password_length');
  return engine.connections.lock.run(f.name, async () => {
    const existing = engine.connections.read(f.name);
    const pluginName = f.plugin_name ?? existing?.plugin_name;
    if (!pluginName) throw new BadRequestError('empty plugin name');
    if (!databasePlugin(pluginName)) throw new BadRequestError(`unknown plugin_name "${pluginName}"`);
    const details: Record<string, unknown> = existing && existing.plugin_name === pluginName ? { ...existing.connection_details } : {};
    for (const key of PLUGIN_FIELDS) {
      const value = (f as Record<string, unknown>)[key];
      if (value !== undefined) details[key] = value;
    }
    refuseFileParameters(details.connection_url);
    const connection: StoredConnection = {
      plugin_name: pluginName,
      connection_details: details,
      allowed_roles: f.allowed_roles ?? existing?.allowed_roles ?? [],
      root_rotation_statements: f.root_rotation_statements ?? existing?.root_rotation_statements ?? [],
      password_length: f.password_length ?? existing?.password_length ?? MIN_PASSWORD_LENGTH,
      verify_connection: f.verify_connection ?? true,
      drop_unleased_roles: f.drop_unleased_roles ?? existing?.drop_unleased_roles ?? false,
      unleased_role_grace_period: f.unleased_role_grace_period ?? existing?.unleased_role_grace_period ?? DEFAULT_GRACE_PERIOD_SECONDS,
    };
    // An unconfirmed root rotation stays unconfirmed unless this write sets the password itself.
    const setsPassword = (f as Record<string, unknown>).password !== undefined;
    const pending = existing?.plugin_name === pluginName && !setsPassword ? existing.pending_root_password : undefined;
    if (pending !== undefined) connection.pending_root_password = pending;
    let stored: StoredConnection;
    let live: DatabasePlugin | undefined;
    try {
      if (pending !== undefined && connection.verify_connection) {
        // Which password works decides what is stored (a login confirms it).
        const opened = await engine.connections.openResolving(connection, () => connectionSecrets(connection));
        stored = opened.connection;
        live = opened.plugin;
      } else {
        const opened = await engine.connections.open(connection, connection.verify_connection, () => connectionSecrets(connection));
        stored = { ...connection, connection_details: opened.details };
        live = opened.plugin;
        if (pending !== undefined) {
          // Not verified, so still unresolved: no live plugin; the next use logs in with whichever password works.
          await opened.plugin.close().catch(() => undefined);
          live = undefined;
        }
      }
    } catch (error) {
      if (error instanceof BadRequestError) throw error;
      throw new BadRequestError(`error creating database object: ${error instanceof Error ? error.message : 'plugin error'}`);
    }
    engine.connections.write(f.name, stored);
    await engine.connections.replace(f.name, live);
    const warnings: string[] = [];
    if (literalPasswordInUrl(details.connection_url)) {
      warnings.push('Password found in connection_url, use a templated url to enable root rotation and prevent read access to password information.');
    }
    return warnings.length > 0 ? { warnings } : undefined;
  });
}

/**
 * `pg` opens sslcert/sslkey/sslrootcert/sslcrl query values as files on the vault host: whoever may
 * write a connection config could make the vault read any file it can. Refused outright.
 */
function refuseFileParameters(connectionUrl: unknown): void {
  if (typeof connectionUrl !== 'string') return;
  const query = connectionUrl.split('?')[1] ?? '';
  for (const pair of query.split('&')) {
    let name: string;
    try {
      name = decodeURIComponent(pair.split('=')[0] ?? '').toLowerCase();
    } catch {
      throw new BadRequestError('connection_url has a malformed query string');
    }
    if (['sslcert', 'sslkey', 'sslrootcert', 'sslcrl', 'sslcrldir', 'passfile'].includes(name)) {
      throw new BadRequestError(`connection_url parameter "${name}" is not allowed: it would make the vault read a file from its own host`);
    }
  }
}

async function resetConnection(engine: DatabaseEngine, name: string): Promise<undefined> {
  await engine.connections.lock.run(name, async () => {
    engine.connections.require(name);
    await engine.connections.replace(name, undefined);
    try {
      await engine.connections.plugin(name);
    } catch (error) {
      throw pluginFailure(`failed to reset the "${name}" connection`, error);
    }
  });
  return undefined;
}

/**
 * rotate-root: a fresh password is stored as pending first, applied through updateUser on the vault's own
 * login (with root_rotation_statements), and becomes the configured password once a login with it works.
 * Until some login confirms one password, the pending one is kept: an updateUser error does not prove the
 * ALTER ROLE did not commit (a query timeout or a dropped connection after the commit), and the next open of
 * the connection tries both (Connections.openResolving).
 */
async function rotateRoot(engine: DatabaseEngine, name: string): Promise<undefined> {
  await engine.connections.lock.run(name, async () => {
    const initial = engine.connections.require(name);
    const username = initial.connection_details.username;
    if (typeof username !== 'string' || username === '') throw new BadRequestError('unable to rotate root credentials: no username in configuration');
    if (!initial.connection_details.password) throw new BadRequestError('unable to rotate root credentials: no password in configuration');
    const url = initial.connection_details.connection_url;
    if (typeof url === 'string' && (!url.includes('{{password}}') || literalPasswordInUrl(url))) {
      // The rotated password would never be used: the vault would lock itself out.
      throw new BadRequestError('unable to rotate root credentials: connection_url must use {{password}} and contain no literal password');
    }
    // An earlier rotation whose outcome is unknown: find out which password logs in before making another.
    if (initial.pending_root_password !== undefined) await engine.connections.replace(name, undefined);
    const plugin = await engine.connections.plugin(name).catch((error: unknown) => {
      throw pluginFailure('failed to connect for root rotation', error);
    });
    const connection = engine.connections.require(name);
    if (connection.pending_root_password !== undefined) {
      await engine.connections.replace(name, undefined);
      throw new InternalError('unable to rotate root credentials: an earlier rotation is not confirmed yet; try again');
    }
    const newPassword = generatePassword(connection.password_length);
    const pending: StoredConnection = { ...connection, pending_root_password: newPassword };
    engine.connections.write(name, pending);
    try {
      await plugin.updateUser({ username, password: { newPassword, statements: { commands: connection.root_rotation_statements } } });
    } catch (error) {
      // Possibly applied: keep the pending password and drop the live plugin, so the next use resolves it.
      await engine.connections.replace(name, undefined);
      throw pluginFailure('failed to update user', error);
    }
    const rotated: StoredConnection = { ...connection, connection_details: { ...connection.connection_details, password: newPassword } };
    let confirmed;
    try {
      confirmed = await engine.connections.open(rotated, true, () => connectionSecrets(pending));
    } catch (error) {
      await engine.connections.replace(name, undefined);
      throw pluginFailure('the root password was changed but logging in with it failed (the next use tries both passwords)', error);
    }
    engine.connections.write(name, { ...rotated, connection_details: confirmed.details });
    await engine.connections.replace(name, confirmed.plugin);
    engine.ctx.logger.info({ connection: name }, 'database root credentials rotated');
  });
  return undefined;
}

/** The connection paths of the database engine. */
export function configPaths(engine: DatabaseEngine): PathDefinition[] {
  return [
    {
      pattern: 'config/?',
      description: 'List configured database connections.',
      operations: { list: () => listResponse(engine.connections.names()) },
    },
    {
      pattern: 'config/(?<name>[^/]+)',
      description: 'Configure a database connection (plugin_name, connection_url, username, password, allowed_roles, ...).',
      fields: configFields,
      existenceCheck: (req) => engine.connections.read(String(req.fields.name)) !== undefined,
      operations: {
        create: (req) => writeConfig(engine, req),
        update: (req) => writeConfig(engine, req),
        read: (req) => {
          const connection = engine.connections.read(String(req.fields.name));
          if (!connection) throw new NotFoundError();
          return { data: connectionView(connection) };
        },
        delete: async (req) => {
          const name = String(req.fields.name);
          await engine.connections.lock.run(name, async () => {
            req.storage.delete(`config/${name}`);
            req.storage.delete(`drift/${name}`);
            await engine.connections.replace(name, undefined);
          });
          return undefined;
        },
      },
    },
    {
      pattern: 'reset/(?<name>[^/]+)',
      description: 'Close a connection\'s plugin and open it again from the stored configuration.',
      fields: connectionNameFields,
      operations: { update: (req) => resetConnection(engine, String(req.fields.name)) },
    },
    {
      pattern: 'rotate-root/(?<name>[^/]+)',
      description: 'Rotate the password of the vault\'s own database login; afterwards only the vault knows it.',
      fields: connectionNameFields,
      operations: { update: (req) => rotateRoot(engine, String(req.fields.name)) },
    },
  ];
}
