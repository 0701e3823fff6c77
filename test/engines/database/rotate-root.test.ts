// rotate-root when the outcome is ambiguous: updateUser fails although PostgreSQL may have committed the
// ALTER ROLE (a query timeout, a dropped connection). The pending password must survive the failure so the
// vault can still log in, whichever password the database ended up with.
import request from 'supertest';
import type { StoredConnection } from '../../../src/engines/database/connections';
import { PostgresPlugin } from '../../../src/engines/database/plugins/postgres';
import type { UpdateUserRequest } from '../../../src/engines/database/plugins/types';
import { tryLogin } from '../../pg/cluster';
import { databaseVault } from './setup';

type Setup = Awaited<ReturnType<typeof databaseVault>>;

describe('database engine: rotate-root with an ambiguous outcome', () => {
  let s: Setup;
  afterEach(async () => {
    jest.restoreAllMocks();
    await s?.vault.expiration.revokePrefix('database/', { sync: true }).catch(() => undefined);
    await s?.close();
  });

  const stored = () => s.vault.mounts.get('database/')?.storage.getJSON<StoredConnection>('config/pg');

  /**
   * Makes the plugin's next updateUser behave like a commit whose answer got lost: the ALTER ROLE is applied
   * (as the cluster's superuser, with exactly the password rotate-root sent), then the call fails.
   * Resolves to that password once the call was made.
   */
  function failAfterCommit(): { applied: () => string } {
    let applied = '';
    jest.spyOn(PostgresPlugin.prototype, 'updateUser').mockImplementationOnce(async (req: UpdateUserRequest) => {
      const newPassword = req.password?.newPassword ?? '';
      await s.scratch.sql((c) => c.query(`ALTER ROLE "${req.username}" WITH PASSWORD '${newPassword.replace(/'/g, "''")}'`));
      applied = newPassword;
      throw new Error('Query read timeout');
    });
    return { applied: () => applied };
  }

  async function rotateFails() {
    const res = await request(s.app).post('/v1/database/rotate-root/pg').set(s.root);
    expect(res.status).toBe(500);
    expect(res.body.errors[0]).toMatch(/^failed to update user: Query read timeout/);
    return res;
  }

  it('keeps the pending password after a failure that came after the commit, and the vault still connects', async () => {
    s = await databaseVault();
    await s.role('app');
    const ambiguous = failAfterCommit();
    const res = await rotateFails();
    const applied = ambiguous.applied();
    expect(applied).not.toBe('');
    expect(JSON.stringify(res.body)).not.toContain(applied);
    // The database has the new password; the vault still remembers it as pending, next to the old one.
    expect((await tryLogin(s.scratch.login(s.scratch.vaultUser, s.scratch.vaultPassword))).ok).toBe(false);
    expect((await tryLogin(s.scratch.login(s.scratch.vaultUser, applied))).ok).toBe(true);
    expect(stored()?.pending_root_password).toBe(applied);
    expect(stored()?.connection_details.password).toBe(s.scratch.vaultPassword);
    // The next use logs in with whichever password works and confirms it.
    const cred = await request(s.app).get('/v1/database/creds/app').set(s.root);
    expect(cred.status).toBe(200);
    expect(stored()?.pending_root_password).toBeUndefined();
    expect(stored()?.connection_details.password).toBe(applied);
    // And it keeps working from the stored configuration alone.
    expect((await request(s.app).post('/v1/database/reset/pg').set(s.root)).status).toBe(204);
    expect((await request(s.app).put('/v1/sys/leases/revoke').set(s.root).send({ lease_id: cred.body.lease_id })).status).toBe(204);
    expect(await s.scratch.roleExists(cred.body.data.username)).toBe(false);
  });

  it('a retry of rotate-root resolves the possibly applied password first, then rotates to a new one', async () => {
    s = await databaseVault();
    await s.role('app');
    const ambiguous = failAfterCommit();
    await rotateFails();
    const applied = ambiguous.applied();
    expect(stored()?.pending_root_password).toBe(applied);
    const update = jest.spyOn(PostgresPlugin.prototype, 'updateUser');
    update.mockClear();
    expect((await request(s.app).post('/v1/database/rotate-root/pg').set(s.root)).status).toBe(204);
    const retried = update.mock.calls[0]?.[0].password?.newPassword;
    expect(retried).toBeDefined();
    expect(retried).not.toBe(applied);
    expect(stored()?.pending_root_password).toBeUndefined();
    expect(stored()?.connection_details.password).toBe(retried);
    expect((await tryLogin(s.scratch.login(s.scratch.vaultUser, applied))).ok).toBe(false);
    expect((await tryLogin(s.scratch.login(s.scratch.vaultUser, s.scratch.vaultPassword))).ok).toBe(false);
    expect((await tryLogin(s.scratch.login(s.scratch.vaultUser, retried ?? ''))).ok).toBe(true);
    expect((await request(s.app).get('/v1/database/creds/app').set(s.root)).status).toBe(200);
  });

  it('a failure before anything was applied keeps the old password working and clears the pending one on the next use', async () => {
    s = await databaseVault();
    await s.role('app');
    jest.spyOn(PostgresPlugin.prototype, 'updateUser').mockRejectedValueOnce(new Error('Connection terminated unexpectedly'));
    const res = await request(s.app).post('/v1/database/rotate-root/pg').set(s.root);
    expect(res.status).toBe(500);
    const pending = stored()?.pending_root_password;
    expect(pending).toBeDefined();
    expect((await tryLogin(s.scratch.login(s.scratch.vaultUser, s.scratch.vaultPassword))).ok).toBe(true);
    expect((await request(s.app).get('/v1/database/creds/app').set(s.root)).status).toBe(200);
    expect(stored()?.pending_root_password).toBeUndefined();
    expect(stored()?.connection_details.password).toBe(s.scratch.vaultPassword);
    // A later rotation works as usual.
    expect((await request(s.app).post('/v1/database/rotate-root/pg').set(s.root)).status).toBe(204);
    expect((await tryLogin(s.scratch.login(s.scratch.vaultUser, s.scratch.vaultPassword))).ok).toBe(false);
    expect((await request(s.app).get('/v1/database/creds/app').set(s.root)).status).toBe(200);
  });

  it('a configuration update while the outcome is unknown keeps the pending password until a login confirms one', async () => {
    s = await databaseVault();
    await s.role('app');
    const ambiguous = failAfterCommit();
    await rotateFails();
    const applied = ambiguous.applied();
    // Unverified: nothing can be confirmed, so both passwords stay known.
    const unverified = await request(s.app).post('/v1/database/config/pg').set(s.root).send({ allowed_roles: 'app', verify_connection: false });
    expect(unverified.status).toBe(204);
    expect(stored()?.pending_root_password).toBe(applied);
    // Verified: the login with the applied password confirms it.
    const verified = await request(s.app).post('/v1/database/config/pg').set(s.root).send({ allowed_roles: 'app,other' });
    expect(verified.status).toBe(204);
    expect(stored()?.pending_root_password).toBeUndefined();
    expect(stored()?.connection_details.password).toBe(applied);
    expect(stored()?.allowed_roles).toEqual(['app', 'other']);
    expect((await request(s.app).get('/v1/database/creds/app').set(s.root)).status).toBe(200);
  });

  it('when neither password logs in, both stay remembered', async () => {
    s = await databaseVault();
    await s.role('app');
    const ambiguous = failAfterCommit();
    await rotateFails();
    const applied = ambiguous.applied();
    // Someone else changes the password meanwhile: nothing the vault knows works now.
    await s.scratch.sql((c) => c.query(`ALTER ROLE "${s.scratch.vaultUser}" WITH PASSWORD 'someone-elses-password'`));
    const cred = await request(s.app).get('/v1/database/creds/app').set(s.root);
    expect(cred.status).toBe(500);
    expect(JSON.stringify(cred.body)).not.toContain(applied);
    expect(stored()?.pending_root_password).toBe(applied);
    expect(stored()?.connection_details.password).toBe(s.scratch.vaultPassword);
    const retry = await request(s.app).post('/v1/database/rotate-root/pg').set(s.root);
    expect(retry.status).toBe(500);
    expect(retry.body.errors[0]).toMatch(/^failed to connect for root rotation: /);
    expect(stored()?.pending_root_password).toBe(applied);
    // The pending password is put back: the vault recovers.
    await s.scratch.sql((c) => c.query(`ALTER ROLE "${s.scratch.vaultUser}" WITH PASSWORD '${applied.replace(/'/g, "''")}'`));
    expect((await request(s.app).get('/v1/database/creds/app').set(s.root)).status).toBe(200);
    expect(stored()?.connection_details.password).toBe(applied);
  });

  it('refuses to rotate a login whose connection_url does not use {{password}}', async () => {
    s = await databaseVault();
    const literal = `postgresql://${s.scratch.vaultUser}:${encodeURIComponent(s.scratch.vaultPassword)}@${s.scratch.cluster.host}:${s.scratch.cluster.port}/${s.scratch.database}`;
    for (const connection_url of [literal, `postgresql://{{username}}@${s.scratch.cluster.host}:${s.scratch.cluster.port}/${s.scratch.database}?password=${encodeURIComponent(s.scratch.vaultPassword)}`]) {
      const write = await request(s.app).post('/v1/database/config/pg').set(s.root).send({ connection_url });
      expect(write.status).toBe(200);
      const res = await request(s.app).post('/v1/database/rotate-root/pg').set(s.root);
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toMatch(/connection_url must use \{\{password\}\}/);
      expect((await tryLogin(s.scratch.login(s.scratch.vaultUser, s.scratch.vaultPassword))).ok).toBe(true);
    }
  });
});
