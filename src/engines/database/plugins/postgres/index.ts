// The PostgreSQL database plugin (`postgresql-database-plugin`): a `pg` Pool per configured connection,
// Vault's default statements and username template, and a revocation that also ends the role's sessions.
import { Pool, type PoolClient } from 'pg';
import { z } from 'zod';
import { durationSeconds, int, str } from '../../../../core/fields';
import type {
  DatabasePlugin,
  DeleteUserRequest,
  DeleteUserResponse,
  InitializeRequest,
  InitializeResponse,
  ListManagedUsersResponse,
  NewUserRequest,
  NewUserResponse,
  UpdateUserRequest,
  UpdateUserResponse,
} from '../types';
import { parseUsernameTemplate, templatePrefix, type UsernameTemplate } from '../username-template';
import { retryTransient } from './retry';
import { scramSha256Verifier } from './scram';
import { MAX_IDENTIFIER_BYTES, type PlaceholderValues, expandStatements, quoteIdentifier, renderStatement } from './sql';

/** The name operators configure in `plugin_name`. */
export const POSTGRES_PLUGIN_NAME = 'postgresql-database-plugin';

/** Vault's default for PostgreSQL: 63 characters is the identifier limit. */
export const DEFAULT_POSTGRES_USERNAME_TEMPLATE = '{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 8) (.RoleName | truncate 8) (random 20) (unix_time) | truncate 63 }}';

const DEFAULT_CHANGE_PASSWORD = `ALTER ROLE "{{username}}" WITH PASSWORD '{{password}}';`;
const DEFAULT_RENEW = `ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';`;
const DEFAULT_MAX_OPEN_CONNECTIONS = 4;
const IDLE_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;
const QUERY_TIMEOUT_MS = 30_000;

/** The plugin's connection fields, merged into the engine's `config/:name` schema. */
export const postgresConfigShape = {
  connection_url: str(2048)
    .optional()
    .describe('postgres:// URL; may contain {{username}} and {{password}}, filled in URL-encoded from username/password.'),
  username: str(MAX_IDENTIFIER_BYTES).optional().describe('The login the vault uses; fills {{username}} in connection_url.'),
  password: str(1024).optional().describe('The password of that login; fills {{password}}. Never returned.'),
  max_open_connections: int(0, 1000).optional().describe('Most connections in the pool (0 means the default, 4).'),
  max_idle_connections: int(0, 1000).optional().describe('Accepted for Vault compatibility; idle connections close after 30 seconds.'),
  max_connection_lifetime: durationSeconds().optional().describe('Seconds a connection may be reused; 0 means forever.'),
  username_template: str(1024).optional().describe('Template for generated usernames (Vault template syntax, a subset of its functions).'),
  password_authentication: z
    .enum(['password', 'scram-sha-256'])
    .optional()
    .describe('password: send passwords to the server as they are; scram-sha-256: send only a SCRAM verifier computed here.'),
};

const configSchema = z.object(postgresConfigShape);

/** The plugin's normalised configuration (what the engine stores). */
export interface PostgresConfig {
  connection_url: string;
  username: string;
  password: string;
  max_open_connections: number;
  max_idle_connections: number;
  max_connection_lifetime: number;
  username_template: string;
  password_authentication: 'password' | 'scram-sha-256';
}

/** Go's "2006-01-02 15:04:05-0700" in UTC, the format Vault gives PostgreSQL for VALID UNTIL. */
export function formatExpiration(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}+0000`;
}

/** Fills {{username}}/{{password}} URL-encoded and checks the result is a postgres URL. Errors never include the URL. */
export function connectionString(config: Pick<PostgresConfig, 'connection_url' | 'username' | 'password'>): string {
  const filled = config.connection_url.replace(/\{\{username\}\}/g, encodeURIComponent(config.username)).replace(/\{\{password\}\}/g, encodeURIComponent(config.password));
  let url: URL;
  try {
    url = new URL(filled);
  } catch {
    throw new Error('connection_url is not a valid URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new Error('connection_url must be a postgres:// or postgresql:// URL');
  return filled;
}

/** Runs `fn` on one pooled connection; the connection is discarded if anything failed (it may be broken). */
async function onClient<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A checked-out client whose server goes away emits 'error' outside any query; unhandled, that would
  // crash the process. The failing query reports the problem; the listener only keeps us alive.
  const ignore = () => undefined;
  client.on('error', ignore);
  let failed = false;
  try {
    return await fn(client);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    client.removeListener('error', ignore);
    client.release(failed);
  }
}

function identifierBytesOk(name: string): boolean {
  return Buffer.byteLength(name, 'utf8') <= MAX_IDENTIFIER_BYTES;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The PostgreSQL plugin. One instance serves one configured connection. */
export class PostgresPlugin {
  private config: PostgresConfig | undefined;
  private pool: Pool | undefined;
  private template: UsernameTemplate | undefined;

  type(): string {
    return 'postgres';
  }

  async initialize(req: InitializeRequest): Promise<InitializeResponse> {
    const parsed = configSchema.safeParse(req.config);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`invalid connection setting ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
    }
    const c = parsed.data;
    if (!c.connection_url) throw new Error('connection_url cannot be empty');
    const maxOpen = c.max_open_connections || DEFAULT_MAX_OPEN_CONNECTIONS;
    const config: PostgresConfig = {
      connection_url: c.connection_url,
      username: c.username ?? '',
      password: c.password ?? '',
      max_open_connections: maxOpen,
      max_idle_connections: Math.min(c.max_idle_connections || maxOpen, maxOpen),
      max_connection_lifetime: c.max_connection_lifetime ?? 0,
      username_template: c.username_template || DEFAULT_POSTGRES_USERNAME_TEMPLATE,
      password_authentication: c.password_authentication ?? 'password',
    };
    const template = parseUsernameTemplate(config.username_template);
    const pool = this.createPool(config);
    if (req.verifyConnection) {
      try {
        await onClient(pool, (client) => client.query('SELECT 1'));
      } catch (error) {
        await pool.end().catch(() => undefined);
        throw new Error(`error verifying connection: ${errorMessage(error)}`);
      }
    }
    await this.pool?.end().catch(() => undefined);
    this.pool = pool;
    this.config = config;
    this.template = template;
    return { config: { ...config } };
  }

  private createPool(config: PostgresConfig): Pool {
    const pool = new Pool({
      connectionString: connectionString(config),
      max: config.max_open_connections,
      idleTimeoutMillis: IDLE_TIMEOUT_MS,
      maxLifetimeSeconds: config.max_connection_lifetime || undefined,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      allowExitOnIdle: true,
      application_name: 'leasehold',
      // Our literal quoting relies on standard strings; never trust the server default. The server gives up
      // on a statement when we do: a creation we stopped waiting for cannot commit later, after the
      // pending lease's grace (twice this) has revoked it.
      options: `-c standard_conforming_strings=on -c statement_timeout=${QUERY_TIMEOUT_MS}`,
    });
    // An idle connection the server dropped (restart, terminate) must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    return pool;
  }

  private requirePool(): Pool {
    if (!this.pool) throw new Error('the plugin is not initialized');
    return this.pool;
  }

  private requireConfig(): PostgresConfig {
    if (!this.config) throw new Error('the plugin is not initialized');
    return this.config;
  }

  private withClient<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return onClient(this.requirePool(), fn);
  }

  private async inTransaction(statements: string[], values: PlaceholderValues): Promise<void> {
    const rendered = statements.map((s) => renderStatement(s, values));
    // One round trip: a multi-statement simple query runs as a single implicit transaction, so it
    // commits whole or not at all (values are already quoted in; nothing is sent as a parameter).
    // Rolled back, it can run again: a transaction that lost a catalog race with another is retried.
    await this.withClient((client) =>
      retryTransient(async () => {
        try {
          await client.query(rendered.join(';\n'));
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }),
    );
  }

  private passwordValue(password: string): string {
    return this.requireConfig().password_authentication === 'scram-sha-256' ? scramSha256Verifier(password) : password;
  }

  async newUser(req: NewUserRequest): Promise<NewUserResponse> {
    const statements = expandStatements(req.statements.commands);
    if (statements.length === 0) throw new Error('empty creation statements');
    const template = this.template;
    if (!template) throw new Error('the plugin is not initialized');
    const username = template.render(req.usernameConfig, Date.now());
    if (username === '') throw new Error('username_template produced an empty username');
    if (!identifierBytesOk(username)) throw new Error(`username_template produced a username longer than ${MAX_IDENTIFIER_BYTES} bytes`);
    // The intent is recorded before the role exists (issue 15 item 14).
    await req.beforeCreate?.(username);
    const values: PlaceholderValues = {
      name: { value: username, kind: 'identifier' },
      username: { value: username, kind: 'identifier' },
      password: { value: this.passwordValue(req.password), kind: 'literal' },
      expiration: { value: formatExpiration(req.expiration), kind: 'literal' },
    };
    try {
      // Whatever the creation statements say, the user expires with its lease: the database enforces it even if the vault is down.
      await this.inTransaction([...statements, ...expandStatements([DEFAULT_RENEW])], values);
    } catch (error) {
      const rollback = expandStatements(req.rollbackStatements?.commands ?? []);
      if (rollback.length > 0) await this.inTransaction(rollback, { name: values.name as PlaceholderValues[string], username: values.username as PlaceholderValues[string] }).catch(() => undefined);
      throw new Error(`failed to create the user: ${errorMessage(error)}`);
    }
    return { username };
  }

  async updateUser(req: UpdateUserRequest): Promise<UpdateUserResponse> {
    if (!req.username) throw new Error('missing username');
    if (!req.password && !req.expiration) throw new Error('no changes requested');
    if (!identifierBytesOk(req.username)) throw new Error(`username is longer than ${MAX_IDENTIFIER_BYTES} bytes`);
    const ident = { value: req.username, kind: 'identifier' as const };
    if (req.password) {
      if (!req.password.newPassword) throw new Error('missing password');
      const exists = await this.withClient((client) => client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [req.username]));
      if (exists.rowCount === 0) throw new Error(`role "${req.username}" does not exist`);
      const statements = expandStatements(req.password.statements.commands);
      await this.inTransaction(statements.length > 0 ? statements : expandStatements([DEFAULT_CHANGE_PASSWORD]), {
        name: ident,
        username: ident,
        password: { value: this.passwordValue(req.password.newPassword), kind: 'literal' },
      });
      const config = this.requireConfig();
      if (req.username === config.username) await this.switchLogin({ ...config, password: req.password.newPassword });
    }
    if (req.expiration) {
      // Custom renew statements run first; VALID UNTIL always follows the lease.
      const statements = expandStatements(req.expiration.statements.commands);
      await this.inTransaction([...statements, ...expandStatements([DEFAULT_RENEW])], {
        name: ident,
        username: ident,
        expiration: { value: formatExpiration(req.expiration.newExpiration), kind: 'literal' },
      });
    }
    return {};
  }

  /** After the vault's own password changed (root rotation), new connections must use the new one. */
  private async switchLogin(config: PostgresConfig): Promise<void> {
    const old = this.pool;
    this.pool = this.createPool(config);
    this.config = config;
    await old?.end().catch(() => undefined);
  }

  async deleteUser(req: DeleteUserRequest): Promise<DeleteUserResponse> {
    if (!req.username) throw new Error('missing username');
    const statements = expandStatements(req.statements.commands);
    const role = quoteIdentifier(req.username);
    const exists = await this.withClient(async (client) => {
      const found = await client.query<{ oid: number }>('SELECT oid FROM pg_roles WHERE rolname = $1', [req.username]);
      const oid = found.rows[0]?.oid;
      // Already gone: nothing to revoke (revocation is retried, so this must succeed).
      if (oid === undefined) return false;
      // No new sessions from here on, then end the ones that are open (Vault leaves them running).
      await retryTransient(() => client.query(`ALTER ROLE ${role} NOLOGIN`));
      await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usesysid = $1 AND pid <> pg_backend_pid()', [oid]);
      if (statements.length === 0) await this.revokeEverything(client, req.username);
      return true;
    });
    if (exists && statements.length > 0) {
      const ident = { value: req.username, kind: 'identifier' as const };
      await this.inTransaction(statements, { name: ident, username: ident });
    }
    return {};
  }

  /**
   * The default revocation, on one connection: revoke privileges in every user schema (each schema name
   * quoted: the dynamic user may have named one `x"; DROP ROLE admin; --`) and on the database, hand owned
   * objects to the vault's login, drop what is left, then drop the role. Keeps going after a failed REVOKE
   * to remove as much access as possible; only a failed DROP ROLE fails the revocation.
   */
  private async revokeEverything(client: PoolClient, username: string): Promise<void> {
    const role = quoteIdentifier(username);
    const problems: string[] = [];
    // Each statement is retried when it loses a race with a concurrent revocation (same ACLs, same catalog rows).
    const attempt = async (sql: string) => {
      try {
        await retryTransient(() => client.query(sql));
      } catch (error) {
        problems.push(errorMessage(error));
      }
    };
    const schemas = await client.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' ORDER BY nspname");
    for (const { nspname } of schemas.rows) {
      const schema = quoteIdentifier(nspname);
      await attempt(`REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA ${schema} FROM ${role}`);
      await attempt(`REVOKE ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA ${schema} FROM ${role}`);
      await attempt(`REVOKE ALL PRIVILEGES ON ALL FUNCTIONS IN SCHEMA ${schema} FROM ${role}`);
      await attempt(`REVOKE ALL PRIVILEGES ON SCHEMA ${schema} FROM ${role}`);
    }
    const database = await client.query<{ db: string }>('SELECT current_database() AS db');
    await attempt(`REVOKE ALL PRIVILEGES ON DATABASE ${quoteIdentifier(database.rows[0]?.db ?? '')} FROM ${role}`);
    await attempt(`REASSIGN OWNED BY ${role} TO CURRENT_USER`);
    await attempt(`DROP OWNED BY ${role}`);
    try {
      await retryTransient(() => client.query(`DROP ROLE IF EXISTS ${role}`));
    } catch (error) {
      const earlier = problems.length > 0 ? `; earlier revocation errors: ${problems.slice(0, 3).join('; ')}` : '';
      throw new Error(`could not drop the role: ${errorMessage(error)}${earlier}`);
    }
  }

  async listManagedUsers(): Promise<ListManagedUsersResponse> {
    const template = this.template;
    if (!template) throw new Error('the plugin is not initialized');
    const prefix = templatePrefix(template);
    // Without a recognisable fixed prefix every role would look generated: list nothing rather than guess.
    if (prefix.length < 2) return { prefix: '', usernames: [] };
    const rows = await this.withClient((client) =>
      client.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE NOT rolsuper AND left(rolname, $2) = $1 AND rolname <> current_user ORDER BY rolname', [prefix, prefix.length]),
    );
    return { prefix, usernames: rows.rows.map((r) => r.rolname) };
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }
}

/** A fresh, uninitialised PostgreSQL plugin. */
export function newPostgresPlugin(): DatabasePlugin {
  return new PostgresPlugin() satisfies DatabasePlugin;
}
