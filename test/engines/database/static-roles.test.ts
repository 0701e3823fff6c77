// Static roles against a real server: the password is rotated at creation, on its period or cron schedule
// (driven through vault.runPeriodic() with a manual clock) and by rotate-role; the new password logs in and
// the old one does not; a failed rotation keeps the old password valid and retries with a fresh password.
import { createHash } from 'node:crypto';
import request from 'supertest';
import { tryLogin, uniqueSuffix } from '../../pg/cluster';
import { ManualClock } from '../../../src/util/clock';
import { databaseVault } from './setup';

type Setup = Awaited<ReturnType<typeof databaseVault>>;

describe('database engine: static roles', () => {
  let s: Setup;
  let clock: ManualClock;
  let username: string;
  const initialPassword = 'initial-Password-1';

  beforeEach(async () => {
    clock = new ManualClock(Date.now());
    s = await databaseVault({ clock });
    username = `svc_${uniqueSuffix()}`;
    await s.scratch.sql((c) => c.query(`CREATE ROLE "${username}" LOGIN PASSWORD '${initialPassword}'`));
  });
  afterEach(async () => {
    await s?.close();
  });

  const creds = async (name = 'svc') => {
    const res = await request(s.app).get(`/v1/database/static-creds/${name}`).set(s.root);
    expect(res.status).toBe(200);
    return res.body.data as { username: string; password: string; last_vault_rotation: string; rotation_period?: number; ttl: number };
  };
  const canLogin = async (password: string) => (await tryLogin(s.scratch.login(username, password))).ok;

  it('rotates at creation, on its period and by rotate-role; only the newest password logs in', async () => {
    const created = await request(s.app).post('/v1/database/static-roles/svc').set(s.root).send({ db_name: 'pg', username, rotation_period: 3600 });
    expect(created.status).toBe(204);
    const first = await creds();
    expect(first).toMatchObject({ username, rotation_period: 3600, ttl: 3600, last_vault_rotation: new Date(clock.nowMs()).toISOString() });
    expect(first.password).toMatch(/^[A-Za-z0-9-]{20,}$/);
    expect(await canLogin(initialPassword)).toBe(false);
    expect(await canLogin(first.password)).toBe(true);

    const read = await request(s.app).get('/v1/database/static-roles/svc').set(s.root);
    expect(read.body.data).toMatchObject({ db_name: 'pg', username, rotation_period: 3600, credential_type: 'password', rotation_statements: [] });
    expect(read.body.data).not.toHaveProperty('password');
    expect((await request(s.app).get('/v1/database/static-roles?list=true').set(s.root)).body.data.keys).toEqual(['svc']);

    // Not yet due: nothing changes.
    clock.advanceSeconds(3599);
    await s.vault.runPeriodic();
    expect((await creds()).password).toBe(first.password);
    expect((await creds()).ttl).toBe(1);

    // Due: the periodic function rotates it.
    clock.advanceSeconds(2);
    await s.vault.runPeriodic();
    const second = await creds();
    expect(second.password).not.toBe(first.password);
    expect(second.ttl).toBe(3600);
    expect(await canLogin(first.password)).toBe(false);
    expect(await canLogin(second.password)).toBe(true);

    // On demand.
    expect((await request(s.app).post('/v1/database/rotate-role/svc').set(s.root)).status).toBe(204);
    const third = await creds();
    expect(third.password).not.toBe(second.password);
    expect(await canLogin(second.password)).toBe(false);
    expect(await canLogin(third.password)).toBe(true);

    // Deleting the role stops rotation but leaves the database user alone.
    expect((await request(s.app).delete('/v1/database/static-roles/svc').set(s.root)).status).toBe(204);
    expect((await request(s.app).get('/v1/database/static-creds/svc').set(s.root)).status).toBe(400);
    expect(await canLogin(third.password)).toBe(true);
  });

  it('a failed rotation keeps the old password valid and is retried with a fresh password each time', async () => {
    await s.scratch.sql((c) => c.query('CREATE SEQUENCE attempts'));
    await request(s.app).post('/v1/database/static-roles/svc').set(s.root).send({ db_name: 'pg', username, rotation_period: '1h' }).expect(204);
    const good = await creds();
    // Records a fingerprint of each attempted password (setval survives the rollback), then fails.
    const failing = [
      `ALTER ROLE "{{name}}" WITH PASSWORD '{{password}}'`,
      `SELECT setval('attempts', ('x' || substr(md5('{{password}}'), 1, 7))::bit(28)::int)`,
      'SELECT 1/0',
    ];
    await request(s.app).post('/v1/database/static-roles/svc').set(s.root).send({ rotation_statements: failing }).expect(204);
    const fingerprint = async () => Number((await s.scratch.sql((c) => c.query("SELECT last_value FROM attempts"))).rows[0].last_value);
    const fingerprintOf = (password: string) => parseInt(createHash('md5').update(password).digest('hex').slice(0, 7), 16);

    const failed = await request(s.app).post('/v1/database/rotate-role/svc').set(s.root);
    expect(failed.status).toBe(500);
    expect(failed.body.errors[0]).toMatch(/division by zero/);
    const attempt1 = await fingerprint();
    expect((await creds()).password).toBe(good.password);
    expect(await canLogin(good.password)).toBe(true);

    // The periodic retry (after the backoff) tries again, with another password.
    clock.advanceSeconds(3600);
    await s.vault.runPeriodic();
    const attempt2 = await fingerprint();
    expect(attempt2).not.toBe(attempt1);
    expect((await creds()).password).toBe(good.password);
    await s.vault.runPeriodic();
    expect(await fingerprint()).toBe(attempt2);

    // Once the database accepts it, the retry succeeds with yet another password.
    await request(s.app).post('/v1/database/static-roles/svc').set(s.root).send({ rotation_statements: [] }).expect(204);
    clock.advanceSeconds(10);
    await s.vault.runPeriodic();
    const rotated = await creds();
    expect(rotated.password).not.toBe(good.password);
    expect([attempt1, attempt2]).not.toContain(fingerprintOf(rotated.password));
    expect(await canLogin(rotated.password)).toBe(true);
    expect(await canLogin(good.password)).toBe(false);
  });

  it('rotates on a cron schedule within its window', async () => {
    const created = await request(s.app).post('/v1/database/static-roles/svc').set(s.root).send({ db_name: 'pg', username, rotation_schedule: '0 * * * *', rotation_window: '1h' });
    expect(created.status).toBe(204);
    const first = await creds();
    expect(first).toMatchObject({ rotation_schedule: '0 * * * *', rotation_window: 3600 });
    expect(first).not.toHaveProperty('rotation_period');
    const nextHour = Math.floor(clock.nowMs() / 3_600_000) * 3_600_000 + 3_600_000;
    expect(first.ttl).toBe(Math.floor((nextHour - clock.nowMs()) / 1000));
    clock.advanceSeconds(Math.ceil((nextHour - clock.nowMs()) / 1000) + 30);
    await s.vault.runPeriodic();
    const second = await creds();
    expect(second.password).not.toBe(first.password);
    expect(await canLogin(second.password)).toBe(true);
  });

  it('validates static roles as Vault does', async () => {
    const post = (body: Record<string, unknown>, name = 'bad') => request(s.app).post(`/v1/database/static-roles/${name}`).set(s.root).send(body);
    expect((await post({ db_name: 'pg', username })).body.errors[0]).toBe('one of rotation_schedule or rotation_period must be provided to create a static account');
    expect((await post({ db_name: 'pg', username, rotation_period: 60, rotation_schedule: '* * * * *' })).status).toBe(400);
    expect((await post({ db_name: 'pg', username, rotation_period: 2 })).body.errors[0]).toBe('rotation_period must be 5 seconds or more');
    expect((await post({ db_name: 'pg', username, rotation_schedule: '61 * * * *' })).body.errors[0]).toMatch(/invalid rotation_schedule/);
    expect((await post({ db_name: 'pg', username, rotation_period: 60, rotation_window: 3600 })).body.errors[0]).toBe('rotation_window is invalid with use of rotation_period');
    expect((await post({ db_name: 'nope', username, rotation_period: 60 })).body.errors[0]).toBe('unknown database connection "nope"');
    const missingUser = await post({ db_name: 'pg', username: 'no_such_user', rotation_period: 60 });
    expect(missingUser.status).toBe(500);
    expect(missingUser.body.errors[0]).toMatch(/role "no_such_user" does not exist/);
    expect((await request(s.app).get('/v1/database/static-roles/bad').set(s.root)).status).toBe(404);
    await post({ db_name: 'pg', username, rotation_period: 60 }, 'svc').expect(204);
    expect((await post({ username: 'other' }, 'svc')).body.errors[0]).toBe('cannot update static account username');
    expect((await post({ db_name: 'pg', username, rotation_period: 60 }, 'svc2')).body.errors[0]).toBe(`username "${username}" is already managed by static role "svc"`);
  });

  it('handles a hostile username safely', async () => {
    const hostile = `we"ird'; DROP ROLE admin; --${uniqueSuffix()}`;
    await s.scratch.ensureRole('admin');
    await s.scratch.sql((c) => c.query(`CREATE ROLE "${hostile.replace(/"/g, '""')}" LOGIN PASSWORD 'x-initial-password'`));
    await request(s.app).post('/v1/database/static-roles/weird').set(s.root).send({ db_name: 'pg', username: hostile, rotation_period: 60 }).expect(204);
    const { password } = await creds('weird');
    expect((await tryLogin(s.scratch.login(hostile, password))).ok).toBe(true);
    expect(await s.scratch.roleExists('admin')).toBe(true);
  });
});
