// The database engine's configurable statements and knobs against a real PostgreSQL server:
// root_rotation_statements, rollback_statements, renew_statements, password_length, a static role rotated by
// the real scheduler, and log lines that never carry a password or connection URL.
import { Writable } from 'node:stream';
import pino from 'pino';
import request from 'supertest';
import { Vault } from '../../../src/core/vault';
import type { StoredConnection } from '../../../src/engines/database/connections';
import { PostgresPlugin } from '../../../src/engines/database/plugins/postgres';
import type { NewUserRequest, UpdateUserRequest } from '../../../src/engines/database/plugins/types';
import { builtinRegistry } from '../../../src/engines/registry';
import { createApp } from '../../../src/http/app';
import { openDatabase } from '../../../src/storage/database';
import { systemClock } from '../../../src/util/clock';
import { type Scratch, createScratch, tryLogin, uniqueSuffix } from '../../pg/cluster';
import { CREATE_ROLE_SQL, databaseVault } from './setup';

type Setup = Awaited<ReturnType<typeof databaseVault>>;

async function issue(s: Setup, role: string) {
  const res = await request(s.app).get(`/v1/database/creds/${role}`).set(s.root);
  if (res.status !== 200) throw new Error(`creds failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { leaseId: res.body.lease_id as string, username: res.body.data.username as string, password: res.body.data.password as string };
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The comment on a cluster-wide role (pg_shdescription), or null. */
function roleComment(scratch: Scratch, name: string): Promise<string | null> {
  return scratch.sql(async (c) => ((await c.query("SELECT shobj_description(oid, 'pg_authid') AS d FROM pg_roles WHERE rolname = $1", [name])).rows[0]?.d as string | null) ?? null);
}

/** Parses the `YYYY-MM-DD HH:MM:SS+0000` form the plugin gives PostgreSQL. */
function parseExpiration(text: string): number {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\+0000$/.exec(text);
  if (!m) throw new Error(`not an expiration: ${text}`);
  return Date.parse(`${m[1]}T${m[2]}Z`);
}

describe('database engine: statements and knobs on PostgreSQL', () => {
  let s: Setup;
  afterEach(async () => {
    jest.restoreAllMocks();
    await s?.vault.expiration.revokePrefix('database/', { sync: true }).catch(() => undefined);
    await s?.close();
  });

  const stored = () => s.vault.mounts.get('database/')?.storage.getJSON<StoredConnection>('config/pg');

  describe('root_rotation_statements', () => {
    const custom = [`ALTER USER "{{name}}" WITH PASSWORD '{{password}}'`, `COMMENT ON ROLE "{{name}}" IS 'rotated'`];

    it('rotate-root runs the configured statements instead of the default', async () => {
      s = await databaseVault({ config: { root_rotation_statements: custom } });
      await s.role('app');
      const read = await request(s.app).get('/v1/database/config/pg').set(s.root);
      expect(read.body.data.root_credentials_rotate_statements).toEqual(custom);
      expect(await roleComment(s.scratch, s.scratch.vaultUser)).toBeNull();

      expect((await request(s.app).post('/v1/database/rotate-root/pg').set(s.root)).status).toBe(204);
      // The marker statement ran on the vault's own login, {{name}} filled in.
      expect(await roleComment(s.scratch, s.scratch.vaultUser)).toBe('rotated');
      // And the ALTER USER took: only the new, stored password logs in.
      const rotated = stored()?.connection_details.password as string;
      expect(rotated).not.toBe(s.scratch.vaultPassword);
      expect(stored()?.pending_root_password).toBeUndefined();
      expect((await tryLogin(s.scratch.login(s.scratch.vaultUser, s.scratch.vaultPassword))).ok).toBe(false);
      expect((await tryLogin(s.scratch.login(s.scratch.vaultUser, rotated))).ok).toBe(true);
      // The vault goes on working with it, also from the stored configuration alone.
      expect((await request(s.app).get('/v1/database/creds/app').set(s.root)).status).toBe(200);
      expect((await request(s.app).post('/v1/database/reset/pg').set(s.root)).status).toBe(204);
      expect((await request(s.app).get('/v1/database/creds/app').set(s.root)).status).toBe(200);
    });

    it('a failing statement rolls the whole rotation back: the old password still works and the vault recovers', async () => {
      s = await databaseVault({ config: { root_rotation_statements: [custom[0], 'SELECT 1/0'] } });
      await s.role('app');
      const res = await request(s.app).post('/v1/database/rotate-root/pg').set(s.root);
      expect(res.status).toBe(500);
      expect(res.body.errors[0]).toMatch(/^failed to update user: division by zero/);
      expect((await tryLogin(s.scratch.login(s.scratch.vaultUser, s.scratch.vaultPassword))).ok).toBe(true);
      // The next use finds out which password works and confirms it.
      expect((await request(s.app).get('/v1/database/creds/app').set(s.root)).status).toBe(200);
      expect(stored()?.pending_root_password).toBeUndefined();
      expect(stored()?.connection_details.password).toBe(s.scratch.vaultPassword);
    });
  });

  describe('rollback_statements', () => {
    it('run when creation fails half way; the creds call fails without the password and leaves no role behind', async () => {
      s = await databaseVault();
      await s.scratch.sql((c) => c.query('CREATE TABLE rollback_log (name text, at timestamptz DEFAULT now())'));
      const generated: string[] = [];
      const newUser = PostgresPlugin.prototype.newUser;
      jest.spyOn(PostgresPlugin.prototype, 'newUser').mockImplementation(function (this: PostgresPlugin, req: NewUserRequest) {
        generated.push(req.password);
        return newUser.call(this, req);
      });
      await s.role('half', {
        creation_statements: [CREATE_ROLE_SQL, `GRANT SELECT ON no_such_table TO "{{name}}"`],
        rollback_statements: [`DROP ROLE IF EXISTS "{{name}}"`, `INSERT INTO rollback_log (name) VALUES ('{{name}}')`],
      });
      const res = await request(s.app).get('/v1/database/creds/half').set(s.root);
      expect(res.status).toBe(500);
      expect(res.body.errors[0]).toMatch(/^failed to create the database credential: failed to create the user: relation "no_such_table" does not exist/);
      expect(generated).toHaveLength(1);
      expect(res.text).not.toContain(generated[0]);
      expect(res.body).not.toHaveProperty('lease_id');

      // The rollback statements ran, with {{name}} filled in with the generated username.
      const logged = await s.scratch.sql((c) => c.query<{ name: string }>('SELECT name FROM rollback_log'));
      expect(logged.rows).toHaveLength(1);
      const username = logged.rows[0]?.name as string;
      expect(username).toMatch(/^v-root-half-[A-Za-z0-9]{20}-\d{10}$/);
      expect(await s.scratch.roleExists(username)).toBe(false);
      expect((await tryLogin(s.scratch.login(username, generated[0] as string))).ok).toBe(false);
      // Nothing was leased: the lease reserved before creation was abandoned, and the next sweep revokes it
      // (deleting a user that does not exist succeeds).
      expect((await request(s.app).get('/v1/sys/leases/count?type=all').set(s.root)).body.data.lease_count).toBe(0);
      await s.vault.expiration.sweep();
      expect(s.vault.expiration.activeLeaseData(s.vault.mounts.get('database/')?.entry.uuid ?? '')).toHaveLength(0);
      expect(s.vault.expiration.pendingCount()).toBe(0);
    });

    it('a failing rollback does not hide the creation error, and a later good role still works', async () => {
      s = await databaseVault();
      await s.role('half', {
        creation_statements: [CREATE_ROLE_SQL, 'SELECT 1/0'],
        rollback_statements: ['SELECT * FROM no_such_table'],
      });
      const res = await request(s.app).get('/v1/database/creds/half').set(s.root);
      expect(res.status).toBe(500);
      expect(res.body.errors[0]).toMatch(/failed to create the user: division by zero/);
      const left = await s.scratch.sql((c) => c.query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'v-root-half-%'"));
      expect(left.rowCount).toBe(0);
      await s.role('good');
      const cred = await issue(s, 'good');
      expect((await tryLogin(s.scratch.login(cred.username, cred.password))).ok).toBe(true);
    });
  });

  describe('renew_statements', () => {
    it('run on lease renewal, with {{name}} and {{expiration}}, and VALID UNTIL moves to the new expiry', async () => {
      s = await databaseVault();
      await s.role('renewing', {
        default_ttl: '60s',
        max_ttl: '1h',
        renew_statements: [`COMMENT ON ROLE "{{name}}" IS 'renewed until {{expiration}}'`],
      });
      const read = await request(s.app).get('/v1/database/roles/renewing').set(s.root);
      expect(read.body.data.renew_statements).toEqual([`COMMENT ON ROLE "{{name}}" IS 'renewed until {{expiration}}'`]);
      const cred = await issue(s, 'renewing');
      // Not at creation.
      expect(await roleComment(s.scratch, cred.username)).toBeNull();
      const before = (await s.scratch.validUntil(cred.username)) as Date;
      expect(Math.abs(before.getTime() - (Date.now() + 60_000))).toBeLessThan(5_000);

      const renewed = await request(s.app).put('/v1/sys/leases/renew').set(s.root).send({ lease_id: cred.leaseId, increment: 1800 });
      expect(renewed.status).toBe(200);
      expect(renewed.body.lease_duration).toBe(1800);
      const comment = (await roleComment(s.scratch, cred.username)) as string;
      expect(comment).toMatch(/^renewed until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+0000$/);
      const after = (await s.scratch.validUntil(cred.username)) as Date;
      expect(Math.abs(after.getTime() - (Date.now() + 1_800_000))).toBeLessThan(5_000);
      // The statement saw the same expiry VALID UNTIL got.
      expect(parseExpiration(comment.slice('renewed until '.length))).toBe(Math.floor(after.getTime() / 1000) * 1000);
      expect((await tryLogin(s.scratch.login(cred.username, cred.password))).ok).toBe(true);
    });

    it('a failing renew statement fails the renewal and leaves VALID UNTIL where it was', async () => {
      s = await databaseVault();
      await s.role('badrenew', { default_ttl: '60s', max_ttl: '1h', renew_statements: [`COMMENT ON ROLE "{{name}}" IS 'x'`, 'SELECT 1/0'] });
      const cred = await issue(s, 'badrenew');
      const before = await s.scratch.validUntil(cred.username);
      const renewed = await request(s.app).put('/v1/sys/leases/renew').set(s.root).send({ lease_id: cred.leaseId, increment: 1800 });
      expect(renewed.status).toBe(500);
      expect(renewed.body.errors).toEqual(['failed to renew the database credential: division by zero (SQLSTATE 22012)']);
      expect(renewed.text).not.toContain(cred.password);
      expect(s.vault.expiration.state(cred.leaseId)?.state).toBe('active');
      expect(await s.scratch.validUntil(cred.username)).toEqual(before);
      expect(await roleComment(s.scratch, cred.username)).toBeNull();
    });
    it('renewing after the connection was deleted is a 400 naming it, not an internal error', async () => {
      s = await databaseVault();
      await s.role('orphaned', { default_ttl: '60s', max_ttl: '1h' });
      const cred = await issue(s, 'orphaned');
      expect((await request(s.app).delete('/v1/database/config/pg').set(s.root)).status).toBe(204);
      const renewed = await request(s.app).put('/v1/sys/leases/renew').set(s.root).send({ lease_id: cred.leaseId, increment: 1800 });
      expect(renewed.status).toBe(400);
      expect(renewed.body.errors).toEqual(['unknown database connection "pg"']);
      // Put the connection back so the afterEach can revoke the user.
      await request(s.app)
        .post('/v1/database/config/pg')
        .set(s.root)
        .send({ plugin_name: 'postgresql-database-plugin', connection_url: s.scratch.connectionUrl, username: s.scratch.vaultUser, password: s.scratch.vaultPassword, allowed_roles: '*' })
        .expect(204);
    });
  });

  describe('password_length', () => {
    it('sets the length of dynamic, static and root passwords, and each logs in', async () => {
      s = await databaseVault({ config: { password_length: 64 } });
      expect((await request(s.app).get('/v1/database/config/pg').set(s.root)).body.data.password_length).toBe(64);
      await s.role('long');
      const cred = await issue(s, 'long');
      expect(cred.password).toMatch(/^[A-Za-z0-9-]{64}$/);
      expect((await tryLogin(s.scratch.login(cred.username, cred.password))).ok).toBe(true);

      const username = `svc_${uniqueSuffix()}`;
      await s.scratch.sql((c) => c.query(`CREATE ROLE "${username}" LOGIN PASSWORD 'initial-password'`));
      await request(s.app).post('/v1/database/static-roles/svc').set(s.root).send({ db_name: 'pg', username, rotation_period: '1h' }).expect(204);
      const staticPassword = (await request(s.app).get('/v1/database/static-creds/svc').set(s.root)).body.data.password as string;
      expect(staticPassword).toMatch(/^[A-Za-z0-9-]{64}$/);
      expect((await tryLogin(s.scratch.login(username, staticPassword))).ok).toBe(true);

      expect((await request(s.app).post('/v1/database/rotate-root/pg').set(s.root)).status).toBe(204);
      const root = stored()?.connection_details.password as string;
      expect(root).toMatch(/^[A-Za-z0-9-]{64}$/);
      expect((await tryLogin(s.scratch.login(s.scratch.vaultUser, root))).ok).toBe(true);
    });

    it('defaults to 20 and refuses lengths outside 20-128', async () => {
      s = await databaseVault();
      expect((await request(s.app).get('/v1/database/config/pg').set(s.root)).body.data.password_length).toBe(20);
      await s.role('short');
      expect((await issue(s, 'short')).password).toHaveLength(20);
      for (const password_length of [19, 129, 0]) {
        const res = await request(s.app).post('/v1/database/config/pg').set(s.root).send({ password_length });
        expect(res.status).toBe(400);
        expect(res.body.errors[0]).toMatch(/password_length/);
      }
      const max = await request(s.app).post('/v1/database/config/pg').set(s.root).send({ password_length: 128 });
      expect(max.status).toBe(204);
      const cred = await issue(s, 'short');
      expect(cred.password).toHaveLength(128);
      expect((await tryLogin(s.scratch.login(cred.username, cred.password))).ok).toBe(true);
    });
  });

  it('the real scheduler rotates a static role on its 5-second period without any API call', async () => {
    s = await databaseVault({ scheduler: true });
    try {
      const username = `svc_${uniqueSuffix()}`;
      await s.scratch.sql((c) => c.query(`CREATE ROLE "${username}" LOGIN PASSWORD 'initial-password'`));
      // 5 seconds is the engine's minimum.
      const tooShort = await request(s.app).post('/v1/database/static-roles/svc').set(s.root).send({ db_name: 'pg', username, rotation_period: 4 });
      expect(tooShort.body.errors).toEqual(['rotation_period must be 5 seconds or more']);
      const createdAt = Date.now();
      await request(s.app).post('/v1/database/static-roles/svc').set(s.root).send({ db_name: 'pg', username, rotation_period: '5s' }).expect(204);
      const first = (await request(s.app).get('/v1/database/static-creds/svc').set(s.root)).body.data as { password: string; last_vault_rotation: string };
      expect((await tryLogin(s.scratch.login(username, first.password))).ok).toBe(true);

      // Watched from the database side only: the password the vault set at creation stops working.
      await waitFor('the scheduler to rotate the password', async () => !(await tryLogin(s.scratch.login(username, first.password))).ok, 12_000);
      expect(Date.now() - createdAt).toBeLessThan(13_000);

      // Stop further rotations (the role lock orders this after any rotation in flight), then compare.
      await request(s.app).post('/v1/database/static-roles/svc').set(s.root).send({ rotation_period: '1h' }).expect(204);
      const second = (await request(s.app).get('/v1/database/static-creds/svc').set(s.root)).body.data as { password: string; last_vault_rotation: string };
      expect(second.password).not.toBe(first.password);
      expect(Date.parse(second.last_vault_rotation) - Date.parse(first.last_vault_rotation)).toBeGreaterThanOrEqual(5_000);
      expect((await tryLogin(s.scratch.login(username, second.password))).ok).toBe(true);
    } finally {
      // Sealing stops the scheduler.
      await s.vault.seal.seal();
    }
  }, 30_000);
});

describe('database engine: no secret in log lines', () => {
  /** A vault like test/helpers/vault.ts builds, but logging every level (no redaction) into memory. */
  async function loggingVault() {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino({ level: 'trace' }, sink);
    const vault = new Vault({ db: openDatabase(':memory:'), clock: systemClock, logger, registry: builtinRegistry(), scheduler: false });
    const app = createApp({ vault, logger });
    const { keys, rootToken } = await vault.initialize(1, 1);
    await vault.seal.submitShare(Buffer.from(keys[0] as Uint8Array).toString('hex'));
    const root = { 'X-Vault-Token': rootToken };
    expect((await request(app).post('/v1/sys/mounts/database').set(root).send({ type: 'database' })).status).toBe(204);
    return { vault, app, root, lines, output: () => lines.join('') };
  }

  it('a failing config, failing creds and a failing rotation log nothing secret', async () => {
    const scratch = await createScratch();
    const v = await loggingVault();
    const seen: string[] = [];
    const newUser = PostgresPlugin.prototype.newUser;
    jest.spyOn(PostgresPlugin.prototype, 'newUser').mockImplementation(function (this: PostgresPlugin, req: NewUserRequest) {
      seen.push(req.password);
      return newUser.call(this, req);
    });
    const updateUser = PostgresPlugin.prototype.updateUser;
    jest.spyOn(PostgresPlugin.prototype, 'updateUser').mockImplementation(function (this: PostgresPlugin, req: UpdateUserRequest) {
      if (req.password?.newPassword) seen.push(req.password.newPassword);
      return updateUser.call(this, req);
    });
    const wrongPassword = `wrong-${uniqueSuffix()}-password`;
    const literalUrl = `postgresql://${scratch.vaultUser}:${encodeURIComponent(wrongPassword)}@${scratch.cluster.host}:${scratch.cluster.port}/${scratch.database}`;
    try {
      const config = (body: Record<string, unknown>) => request(v.app).post('/v1/database/config/pg').set(v.root).send({ plugin_name: 'postgresql-database-plugin', allowed_roles: '*', ...body });

      // A wrong password, templated and literal: refused with a 400 that does not echo it.
      const templated = await config({ connection_url: scratch.connectionUrl, username: scratch.vaultUser, password: wrongPassword });
      expect(templated.status).toBe(400);
      expect(templated.body.errors[0]).toMatch(/password authentication failed/);
      const literal = await config({ connection_url: literalUrl });
      expect(literal.status).toBe(400);
      for (const res of [templated, literal]) {
        expect(res.text).not.toContain(wrongPassword);
        expect(res.text).not.toContain(literalUrl);
      }

      // Saved unverified, the creds call fails on the login: a 500, which is logged.
      expect((await config({ connection_url: scratch.connectionUrl, username: scratch.vaultUser, password: wrongPassword, verify_connection: false })).status).toBe(204);
      await request(v.app).post('/v1/database/roles/app').set(v.root).send({ db_name: 'pg', creation_statements: [CREATE_ROLE_SQL] }).expect(204);
      const noLogin = await request(v.app).get('/v1/database/creds/app').set(v.root);
      expect(noLogin.status).toBe(500);
      expect(noLogin.body.errors[0]).toMatch(/password authentication failed/);

      // With the right password, a creation statement that makes PostgreSQL echo the generated password.
      expect((await config({ connection_url: scratch.connectionUrl, username: scratch.vaultUser, password: scratch.vaultPassword })).status).toBe(204);
      await request(v.app)
        .post('/v1/database/roles/echo')
        .set(v.root)
        .send({ db_name: 'pg', creation_statements: [CREATE_ROLE_SQL, `SELECT '{{password}}'::int`] })
        .expect(204);
      const echoed = await request(v.app).get('/v1/database/creds/echo').set(v.root);
      expect(echoed.status).toBe(500);
      expect(echoed.body.errors[0]).toMatch(/invalid input syntax for type integer/);
      expect(echoed.body.errors[0]).toContain('[redacted]');

      // A static role whose rotation statement echoes the new password: rotate-role and the periodic retry fail.
      const username = `svc_${uniqueSuffix()}`;
      await scratch.sql((c) => c.query(`CREATE ROLE "${username}" LOGIN PASSWORD 'initial-password'`));
      await request(v.app).post('/v1/database/static-roles/svc').set(v.root).send({ db_name: 'pg', username, rotation_period: '5s' }).expect(204);
      await request(v.app).post('/v1/database/static-roles/svc').set(v.root).send({ rotation_statements: [`SELECT '{{password}}'::int`] }).expect(204);
      expect((await request(v.app).post('/v1/database/rotate-role/svc').set(v.root)).status).toBe(500);
      await v.vault.runPeriodic();

      // rotate-root with a statement that echoes the new root password.
      await config({ root_rotation_statements: [`SELECT '{{password}}'::int`] }).expect(204);
      expect((await request(v.app).post('/v1/database/rotate-root/pg').set(v.root)).status).toBe(500);

      // The failures were logged...
      const out = v.output();
      expect(out).toMatch(/request failed/);
      expect(out).toMatch(/static role rotation failed/);
      expect(out).toMatch(/password authentication failed/);
      expect(out).toMatch(/invalid input syntax for type integer/);
      // ...with no password and no connection URL in any form.
      expect(seen.length).toBeGreaterThanOrEqual(4);
      const secrets = [
        wrongPassword,
        encodeURIComponent(wrongPassword),
        scratch.vaultPassword,
        encodeURIComponent(scratch.vaultPassword),
        literalUrl,
        scratch.connectionUrl,
        `${scratch.cluster.host}:${scratch.cluster.port}/${scratch.database}`,
        ...seen,
      ];
      for (const secret of secrets) expect(out).not.toContain(secret);
    } finally {
      await v.vault.mounts.get('database/')?.backend.cleanup?.();
      await v.vault.seal.seal();
    }
  });
});
