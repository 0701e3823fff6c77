// Static roles (static-roles/:name): an existing database user whose password the vault rotates at
// creation, on a period or cron schedule (from the backend's periodic function) and on demand
// (rotate-role/:name); static-creds/:name returns the current password. A rotation stores its new password
// as pending, applies it, and only then makes it current: a failed attempt keeps the old password valid,
// is retried with backoff, and its password is never used again.
import type { z } from 'zod';
import type { BackendRequest, BackendResponse, PathDefinition } from '../../core/framework';
import { BadRequestError, InternalError, NotFoundError } from '../../errors';
import { roleAllowed } from './connections';
import { type DatabaseEngine, listResponse } from './engine';
import { roleNameFields, staticRoleFields } from './fields';
import { generatePassword } from './passwords';
import { parseCronSchedule } from './schedule';

type StaticRoleFields = z.infer<typeof staticRoleFields>;

/** A static role as stored at `static-role/<name>`, with its password state. */
export interface StaticRole {
  db_name: string;
  username: string;
  rotation_statements: string[];
  /** Seconds between rotations; 0 when a schedule is used. */
  rotation_period: number;
  rotation_schedule: string;
  rotation_window: number;
  /** The password the database accepts now. */
  password: string;
  last_vault_rotation_ms: number;
  /** When the next rotation is due (the scheduled time). */
  next_rotation_ms: number;
  /** After a failure: not before this time (backoff). */
  retry_at_ms?: number;
  failed_attempts: number;
  last_error?: string;
  /** A password being applied right now; it becomes `password` only once the database took it. */
  pending?: { password: string; started_at_ms: number };
}

const STATIC_PREFIX = 'static-role/';
const MIN_ROTATION_PERIOD_SECONDS = 5;
const MIN_ROTATION_WINDOW_SECONDS = 3600;
const RETRY_BASE_MS = 5_000;
const RETRY_MAX_MS = 5 * 60_000;

function readStatic(engine: DatabaseEngine, name: string): StaticRole | undefined {
  return engine.ctx.storage.getJSON<StaticRole>(`${STATIC_PREFIX}${name}`);
}

function writeStatic(engine: DatabaseEngine, name: string, role: StaticRole): void {
  engine.ctx.storage.putJSON(`${STATIC_PREFIX}${name}`, role);
}

function staticNames(engine: DatabaseEngine): string[] {
  return engine.ctx.storage.list(STATIC_PREFIX).filter((k) => !k.endsWith('/'));
}

/** When a role is next due after a rotation at `fromMs`. */
function nextRotation(role: Pick<StaticRole, 'rotation_period' | 'rotation_schedule'>, fromMs: number): number {
  if (role.rotation_schedule) return parseCronSchedule(role.rotation_schedule).next(fromMs);
  return fromMs + role.rotation_period * 1000;
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/** The usernames static roles manage on one connection (the drift check leaves them alone). */
export function staticUsernames(engine: DatabaseEngine, connection: string): Set<string> {
  const out = new Set<string>();
  for (const name of staticNames(engine)) {
    const role = readStatic(engine, name);
    if (role?.db_name === connection) out.add(role.username);
  }
  return out;
}

/**
 * One rotation attempt of a role (the caller holds the role's lock). Returns the role as it should be
 * stored; throws when the database refused. With `persist`, the pending password, the outcome and any
 * failure are written as they happen.
 */
async function rotate(engine: DatabaseEngine, name: string, role: StaticRole, options: { persist: boolean }): Promise<StaticRole> {
  const connection = engine.connections.require(role.db_name);
  const nowMs = engine.ctx.clock.nowMs();
  // A new password for every attempt: one that failed (and may be half applied) is never reused.
  const newPassword = generatePassword(connection.password_length);
  if (options.persist) writeStatic(engine, name, { ...role, pending: { password: newPassword, started_at_ms: nowMs } });
  try {
    const plugin = await engine.connections.plugin(role.db_name);
    await plugin.updateUser({ username: role.username, password: { newPassword, statements: { commands: role.rotation_statements } } });
  } catch (error) {
    const message = error instanceof Error ? error.message : 'database plugin error';
    const failedAttempts = role.failed_attempts + 1;
    const failed: StaticRole = {
      ...role,
      pending: undefined,
      failed_attempts: failedAttempts,
      last_error: message,
      retry_at_ms: nowMs + Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (failedAttempts - 1)),
    };
    if (options.persist) writeStatic(engine, name, failed);
    engine.ctx.logger.warn({ staticRole: name, attempts: failedAttempts, err: message }, 'static role rotation failed; the current password stays valid and the rotation will be retried');
    throw new InternalError(`failed to rotate the password of static role "${name}": ${message}`);
  }
  const rotated: StaticRole = {
    ...role,
    password: newPassword,
    last_vault_rotation_ms: nowMs,
    next_rotation_ms: nextRotation(role, nowMs),
    failed_attempts: 0,
    pending: undefined,
    retry_at_ms: undefined,
    last_error: undefined,
  };
  if (options.persist) writeStatic(engine, name, rotated);
  return rotated;
}

function validateSchedule(role: Pick<StaticRole, 'rotation_period' | 'rotation_schedule' | 'rotation_window'>, nowMs: number): void {
  if (role.rotation_period > 0 && role.rotation_schedule) throw new BadRequestError('mutually exclusive fields rotation_period and rotation_schedule were both specified; only one of them can be provided');
  if (role.rotation_period === 0 && !role.rotation_schedule) throw new BadRequestError('one of rotation_schedule or rotation_period must be provided to create a static account');
  if (role.rotation_period > 0 && role.rotation_period < MIN_ROTATION_PERIOD_SECONDS) throw new BadRequestError(`rotation_period must be ${MIN_ROTATION_PERIOD_SECONDS} seconds or more`);
  if (role.rotation_window > 0) {
    if (!role.rotation_schedule) throw new BadRequestError('rotation_window is invalid with use of rotation_period');
    if (role.rotation_window < MIN_ROTATION_WINDOW_SECONDS) throw new BadRequestError(`rotation_window must be ${MIN_ROTATION_WINDOW_SECONDS} seconds or more`);
  }
  if (role.rotation_schedule) {
    try {
      parseCronSchedule(role.rotation_schedule).next(nowMs);
    } catch (error) {
      throw new BadRequestError(error instanceof Error ? error.message : 'invalid rotation_schedule');
    }
  }
}

async function writeStaticRole(engine: DatabaseEngine, req: BackendRequest<StaticRoleFields>): Promise<undefined> {
  const f = req.fields;
  await engine.staticRoleLock.run(f.name, async () => {
    const existing = readStatic(engine, f.name);
    const nowMs = engine.ctx.clock.nowMs();
    if (existing) {
      if (f.username !== undefined && f.username !== existing.username) throw new BadRequestError('cannot update static account username');
      if (f.db_name !== undefined && f.db_name !== existing.db_name) throw new BadRequestError('cannot update static role db_name');
      const periodGiven = f.rotation_period !== undefined && f.rotation_period > 0;
      const scheduleGiven = f.rotation_schedule !== undefined && f.rotation_schedule !== '';
      const updated: StaticRole = {
        ...existing,
        rotation_statements: f.rotation_statements ?? existing.rotation_statements,
        // Switching between a period and a schedule drops the other one, as Vault does.
        rotation_period: periodGiven ? (f.rotation_period as number) : scheduleGiven ? 0 : existing.rotation_period,
        rotation_schedule: scheduleGiven ? (f.rotation_schedule as string) : periodGiven ? '' : existing.rotation_schedule,
        rotation_window: f.rotation_window ?? (periodGiven ? 0 : existing.rotation_window),
      };
      validateSchedule(updated, nowMs);
      updated.next_rotation_ms = nextRotation(updated, existing.last_vault_rotation_ms);
      writeStatic(engine, f.name, updated);
      return;
    }
    if (!f.db_name) throw new BadRequestError('database name is required');
    if (!f.username) throw new BadRequestError('username is a required field to create a static account');
    const connection = engine.connections.require(f.db_name);
    if (!roleAllowed(connection.allowed_roles, f.name)) throw new BadRequestError(`"${f.name}" is not an allowed role`);
    for (const other of staticNames(engine)) {
      const role = readStatic(engine, other);
      if (role && role.db_name === f.db_name && role.username === f.username) throw new BadRequestError(`username "${f.username}" is already managed by static role "${other}"`);
    }
    const role: StaticRole = {
      db_name: f.db_name,
      username: f.username,
      rotation_statements: f.rotation_statements ?? [],
      rotation_period: f.rotation_period ?? 0,
      rotation_schedule: f.rotation_schedule ?? '',
      rotation_window: f.rotation_window ?? 0,
      password: '',
      last_vault_rotation_ms: 0,
      next_rotation_ms: 0,
      failed_attempts: 0,
    };
    validateSchedule(role, nowMs);
    // Rotated at creation: from now on only the vault knows the password. Nothing is stored if that fails.
    const rotated = await rotate(engine, f.name, role, { persist: false });
    writeStatic(engine, f.name, rotated);
  });
  return undefined;
}

function scheduleView(role: StaticRole): Record<string, unknown> {
  return role.rotation_schedule ? { rotation_schedule: role.rotation_schedule, rotation_window: role.rotation_window } : { rotation_period: role.rotation_period };
}

function staticRoleView(role: StaticRole): Record<string, unknown> {
  return {
    db_name: role.db_name,
    username: role.username,
    rotation_statements: role.rotation_statements,
    ...scheduleView(role),
    last_vault_rotation: rfc3339(role.last_vault_rotation_ms),
    credential_type: 'password',
  };
}

function staticCreds(engine: DatabaseEngine, name: string): BackendResponse {
  const role = readStatic(engine, name);
  if (!role) throw new BadRequestError(`unknown role: ${name}`);
  const nowMs = engine.ctx.clock.nowMs();
  return {
    data: {
      username: role.username,
      password: role.password,
      last_vault_rotation: rfc3339(role.last_vault_rotation_ms),
      ...scheduleView(role),
      ttl: Math.max(0, Math.floor((role.next_rotation_ms - nowMs) / 1000)),
    },
  };
}

async function rotateNow(engine: DatabaseEngine, name: string): Promise<undefined> {
  await engine.staticRoleLock.run(name, async () => {
    const role = readStatic(engine, name);
    if (!role) throw new BadRequestError(`unknown role: ${name}`);
    await rotate(engine, name, role, { persist: true });
  });
  return undefined;
}

/**
 * Rotates every static role that is due. A scheduled role whose rotation window passed without a successful
 * rotation waits for its next scheduled time. Failures are recorded and retried on a later run.
 */
export async function rotateDueStaticRoles(engine: DatabaseEngine): Promise<void> {
  for (const name of staticNames(engine)) {
    await engine.staticRoleLock.run(name, async () => {
      const role = readStatic(engine, name);
      if (!role) return;
      const nowMs = engine.ctx.clock.nowMs();
      if (nowMs < Math.max(role.next_rotation_ms, role.retry_at_ms ?? 0)) return;
      if (role.rotation_schedule && role.rotation_window > 0 && nowMs > role.next_rotation_ms + role.rotation_window * 1000) {
        engine.ctx.logger.warn({ staticRole: name }, 'static role missed its rotation window; waiting for the next scheduled time');
        writeStatic(engine, name, { ...role, next_rotation_ms: nextRotation(role, nowMs), retry_at_ms: undefined, failed_attempts: 0 });
        return;
      }
      try {
        await rotate(engine, name, role, { persist: true });
      } catch {
        // Recorded on the role and logged by rotate(); the next periodic run retries after the backoff.
      }
    });
  }
}

/** The static-role paths of the database engine. */
export function staticRolePaths(engine: DatabaseEngine): PathDefinition[] {
  return [
    {
      pattern: 'static-roles/?',
      description: 'List static roles.',
      operations: { list: () => listResponse(staticNames(engine)) },
    },
    {
      pattern: 'static-roles/(?<name>[^/]+)',
      description: 'Manage a static role: an existing database user whose password the vault rotates on a period or schedule.',
      fields: staticRoleFields,
      existenceCheck: (req) => readStatic(engine, String(req.fields.name)) !== undefined,
      operations: {
        create: (req) => writeStaticRole(engine, req),
        update: (req) => writeStaticRole(engine, req),
        read: (req) => {
          const role = readStatic(engine, String(req.fields.name));
          if (!role) throw new NotFoundError();
          return { data: staticRoleView(role) };
        },
        delete: async (req) => {
          const name = String(req.fields.name);
          await engine.staticRoleLock.run(name, async () => engine.ctx.storage.delete(`${STATIC_PREFIX}${name}`));
          return undefined;
        },
      },
    },
    {
      pattern: 'static-creds/(?<name>[^/]+)',
      description: 'Read the current password of a static role.',
      fields: roleNameFields,
      operations: { read: (req) => staticCreds(engine, String(req.fields.name)) },
    },
    {
      pattern: 'rotate-role/(?<name>[^/]+)',
      description: 'Rotate a static role\'s password now.',
      fields: roleNameFields,
      operations: { update: (req) => rotateNow(engine, String(req.fields.name)) },
    },
  ];
}
