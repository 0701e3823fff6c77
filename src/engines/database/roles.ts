// Dynamic roles (roles/:name) and their credentials (creds/:name): each read creates a database user that
// expires with its lease, returned with a secret descriptor so the core leases it; renew moves the user's
// expiry, revoke deletes the user. The `creds` secret type is only ever called by the expiration manager.
import type { z } from 'zod';
import type { BackendRequest, BackendResponse, PathDefinition, SecretType } from '../../core/framework';
import { BadRequestError, NotFoundError, VaultError } from '../../errors';
import { roleAllowed } from './connections';
import { type DatabaseEngine, SYSTEM_DEFAULT_TTL_SECONDS, listResponse, pluginFailure, userKey } from './engine';
import { roleFields, roleNameFields } from './fields';
import { generatePassword } from './passwords';

type RoleFields = z.infer<typeof roleFields>;

/** Vault's secret type name for database credentials. */
export const CREDS_SECRET_TYPE = 'creds';

/** A dynamic role as stored at `role/<name>`. */
export interface DynamicRole {
  db_name: string;
  creation_statements: string[];
  revocation_statements: string[];
  rollback_statements: string[];
  renew_statements: string[];
  default_ttl: number;
  max_ttl: number;
}

/** What a `creds` lease keeps (encrypted by the core) to renew and revoke its user later, even if the role is gone. */
export interface CredsInternalData {
  db_name: string;
  username: string;
  role: string;
  revocation_statements: string[];
  renew_statements: string[];
}

const ROLE_PREFIX = 'role/';

function readRole(engine: DatabaseEngine, name: string): DynamicRole | undefined {
  return engine.ctx.storage.getJSON<DynamicRole>(`${ROLE_PREFIX}${name}`);
}

function writeRole(req: BackendRequest<RoleFields>, engine: DatabaseEngine): undefined {
  const f = req.fields;
  const existing = readRole(engine, f.name);
  const role: DynamicRole = {
    db_name: f.db_name ?? existing?.db_name ?? '',
    creation_statements: f.creation_statements ?? existing?.creation_statements ?? [],
    revocation_statements: f.revocation_statements ?? existing?.revocation_statements ?? [],
    rollback_statements: f.rollback_statements ?? existing?.rollback_statements ?? [],
    renew_statements: f.renew_statements ?? existing?.renew_statements ?? [],
    default_ttl: f.default_ttl ?? existing?.default_ttl ?? 0,
    max_ttl: f.max_ttl ?? existing?.max_ttl ?? 0,
  };
  if (role.db_name === '') throw new BadRequestError('empty database name attribute');
  if (role.creation_statements.length === 0) throw new BadRequestError('empty creation statements');
  if (role.max_ttl > 0 && role.default_ttl > role.max_ttl) throw new BadRequestError('ttl cannot be greater than max_ttl');
  engine.ctx.storage.putJSON(`${ROLE_PREFIX}${f.name}`, role);
  return undefined;
}

function roleView(role: DynamicRole): Record<string, unknown> {
  return {
    db_name: role.db_name,
    creation_statements: role.creation_statements,
    revocation_statements: role.revocation_statements,
    rollback_statements: role.rollback_statements,
    renew_statements: role.renew_statements,
    default_ttl: role.default_ttl,
    max_ttl: role.max_ttl,
    credential_type: 'password',
  };
}

/** creds/:name: creates a user through the plugin and hands the core a renewable secret to lease. */
async function issueCredentials(engine: DatabaseEngine, req: BackendRequest): Promise<BackendResponse> {
  const roleName = String(req.fields.name);
  const role = readRole(engine, roleName);
  if (!role) throw new BadRequestError(`unknown role: ${roleName}`);
  const connection = engine.connections.read(role.db_name);
  if (!connection) throw new BadRequestError(`unknown database connection "${role.db_name}" for role "${roleName}"`);
  if (!roleAllowed(connection.allowed_roles, roleName)) throw new BadRequestError(`"${roleName}" is not an allowed role`);
  // The user's own expiry (VALID UNTIL) matches the lease: the database enforces it even if the vault is down.
  // Computed exactly as the expiration manager will: role TTLs, else the mount's, capped by the mount max.
  const mountTtl = req.mountLeaseTtl ?? { defaultSeconds: SYSTEM_DEFAULT_TTL_SECONDS, maxSeconds: SYSTEM_DEFAULT_TTL_SECONDS };
  const maxTtlSeconds = Math.min(role.max_ttl > 0 ? role.max_ttl : mountTtl.maxSeconds, mountTtl.maxSeconds);
  const ttlSeconds = Math.min(role.default_ttl > 0 ? role.default_ttl : mountTtl.defaultSeconds, maxTtlSeconds);
  const nowMs = engine.ctx.clock.nowMs();
  const password = generatePassword(connection.password_length);
  const leaseData = (username: string): CredsInternalData => ({
    db_name: role.db_name,
    username,
    role: roleName,
    revocation_statements: role.revocation_statements,
    renew_statements: role.renew_statements,
  });
  // The pending lease, recorded (durably, encrypted) once the username is known and before the user
  // exists: if the vault dies before the lease is stored, the sweep revokes the user after restart.
  const leases = engine.ctx.leases;
  let pendingLeaseId: string | undefined;
  let reserveError: unknown;
  const reserve = leases?.reserve;
  const beforeCreate = reserve
    ? (name: string) => {
        try {
          pendingLeaseId = reserve({ requestPath: req.path.replace(/\/$/, ''), secretType: CREDS_SECRET_TYPE, internalData: { ...leaseData(name) } });
        } catch (error) {
          reserveError = error;
          throw error;
        }
      }
    : undefined;
  let username: string;
  try {
    const plugin = await engine.connections.plugin(role.db_name);
    ({ username } = await plugin.newUser({
      usernameConfig: { displayName: req.identity?.displayName ?? '', roleName },
      statements: { commands: role.creation_statements },
      rollbackStatements: { commands: role.rollback_statements },
      password,
      expiration: new Date(nowMs + ttlSeconds * 1000),
      beforeCreate,
    }));
  } catch (error) {
    // Nothing was created: the vault's own error (a full storage, say) as it is, not as a plugin failure.
    if (reserveError !== undefined) throw reserveError;
    // The user may exist anyway (a timeout after the commit): have the reserved lease revoke it now.
    if (pendingLeaseId !== undefined) leases?.abandon?.(pendingLeaseId);
    throw pluginFailure('failed to create the database credential', error);
  }
  // Until the core has stored the lease, the drift check must not take this user for an orphan.
  engine.recentlyIssued.set(userKey(role.db_name, username), nowMs);
  return {
    data: { username, password },
    secret: { type: CREDS_SECRET_TYPE, internalData: { ...leaseData(username) }, ttlSeconds, maxTtlSeconds, renewable: true, pendingLeaseId },
  };
}

function credsData(internalData: Record<string, unknown>): CredsInternalData {
  const d = internalData as Partial<CredsInternalData>;
  if (typeof d.db_name !== 'string' || typeof d.username !== 'string') throw new Error('the lease does not name a database user');
  return {
    db_name: d.db_name,
    username: d.username,
    role: typeof d.role === 'string' ? d.role : '',
    revocation_statements: Array.isArray(d.revocation_statements) ? d.revocation_statements : [],
    renew_statements: Array.isArray(d.renew_statements) ? d.renew_statements : [],
  };
}

/** The `creds` secret type: renew moves the user's expiry; revoke deletes the user (idempotent). */
export function credsSecretType(engine: DatabaseEngine): SecretType {
  return {
    renew: async ({ internalData, expireAt }) => {
      const data = credsData(internalData);
      try {
        const plugin = await engine.connections.plugin(data.db_name);
        await plugin.updateUser({ username: data.username, expiration: { newExpiration: expireAt, statements: { commands: data.renew_statements } } });
      } catch (error) {
        // A plugin error (sanitised) becomes a 500 that says why, as creds does; a 400 (unknown connection) stays one.
        if (error instanceof VaultError) throw error;
        throw pluginFailure('failed to renew the database credential', error);
      }
    },
    revoke: async ({ internalData }) => {
      const data = credsData(internalData);
      if (!engine.connections.read(data.db_name)) throw new Error(`database connection "${data.db_name}" no longer exists; revoke-force the lease after removing the user by hand`);
      const plugin = await engine.connections.plugin(data.db_name);
      await plugin.deleteUser({ username: data.username, statements: { commands: data.revocation_statements } });
      engine.recentlyIssued.delete(userKey(data.db_name, data.username));
    },
  };
}

/** The dynamic-role paths of the database engine. */
export function rolePaths(engine: DatabaseEngine): PathDefinition[] {
  return [
    {
      pattern: 'roles/?',
      description: 'List dynamic roles.',
      operations: { list: () => listResponse(engine.ctx.storage.list(ROLE_PREFIX).filter((k) => !k.endsWith('/'))) },
    },
    {
      pattern: 'roles/(?<name>[^/]+)',
      description: 'Manage a dynamic role: the statements that create, renew and revoke its users, and their TTLs.',
      fields: roleFields,
      existenceCheck: (req) => readRole(engine, String(req.fields.name)) !== undefined,
      operations: {
        create: (req) => writeRole(req, engine),
        update: (req) => writeRole(req, engine),
        read: (req) => {
          const role = readRole(engine, String(req.fields.name));
          if (!role) throw new NotFoundError();
          return { data: roleView(role) };
        },
        delete: (req) => {
          engine.ctx.storage.delete(`${ROLE_PREFIX}${String(req.fields.name)}`);
          return undefined;
        },
      },
    },
    {
      pattern: 'creds/(?<name>[^/]+)',
      description: 'Generate a leased database credential from a role.',
      fields: roleNameFields,
      operations: { read: (req) => issueCredentials(engine, req) },
    },
  ];
}
