// Pure parts of the database engine and its plugins: username templates, the error sanitiser, password
// generation, cron schedules and SCRAM verifiers (checked against a real server's login).
import request from 'supertest';
import { maskedConnectionUrl } from '../../../src/engines/database/config-paths';
import { generatePassword } from '../../../src/engines/database/passwords';
import { UNPARSEABLE_URL_MASK } from '../../../src/engines/database/plugins/connection-url';
import { DEFAULT_POSTGRES_USERNAME_TEMPLATE, formatExpiration } from '../../../src/engines/database/plugins/postgres';
import { scramSha256Verifier } from '../../../src/engines/database/plugins/postgres/scram';
import { REDACTED, redact, sanitisedPlugin } from '../../../src/engines/database/plugins/sanitise';
import type { DatabasePlugin } from '../../../src/engines/database/plugins/types';
import { parseUsernameTemplate, templatePrefix } from '../../../src/engines/database/plugins/username-template';
import { parseCronSchedule } from '../../../src/engines/database/schedule';
import { tryLogin } from '../../pg/cluster';
import { databaseVault } from './setup';

describe('username templates', () => {
  it('renders Vault\'s default PostgreSQL template, truncated to 63 characters', () => {
    const t = parseUsernameTemplate(DEFAULT_POSTGRES_USERNAME_TEMPLATE);
    expect(t.render({ displayName: 'token', roleName: 'readonly' }, 1_700_000_000_000)).toMatch(/^v-token-readonly-[A-Za-z0-9]{20}-1700000000$/);
    const long = t.render({ displayName: 'a-very-long-display-name', roleName: 'a-very-long-role-name' }, 1_700_000_000_000);
    expect(long).toMatch(/^v-a-very-l-a-very-l-[A-Za-z0-9]{20}-1700000000$/);
    expect(templatePrefix(t)).toBe('v-');
  });

  it('supports the common functions and shorthands, and refuses unknown ones clearly', () => {
    const render = (src: string) => parseUsernameTemplate(src).render({ displayName: 'Dev.Team', roleName: 'RO' }, 1_700_000_000_123);
    expect(render('{{.RoleName | lowercase}}_{{ .DisplayName | replace "." "-" | uppercase }}')).toBe('ro_DEV-TEAM');
    expect(render('x-{{display_name}}-{{role_name}}-{{unix_time_millis}}')).toBe('x-Dev.Team-RO-1700000000123');
    expect(render('{{ truncate_sha256 12 "abcdefghijklmnop" }}')).toMatch(/^abcd[0-9a-f]{8}$/);
    expect(render('{{uuid}}')).toMatch(/^[0-9a-f-]{36}$/);
    expect(() => parseUsernameTemplate('{{ .DisplayName | snakecase }}')).toThrow(/unknown function "snakecase"/);
    expect(() => parseUsernameTemplate('{{ .Secret }}')).toThrow(/unknown field \.Secret/);
    expect(() => parseUsernameTemplate('{{ random "x" }}')).toThrow(/random expects a length/);
    expect(() => parseUsernameTemplate('{{ .RoleName ')).toThrow(/unclosed/);
    expect(templatePrefix(parseUsernameTemplate('{{random 8}}-x'))).toBe('');
  });
});

describe('the sanitising wrapper', () => {
  it('redacts passwords, connection URLs, their password parts and encoded forms from every error', async () => {
    const password = 'p@ss:w/rd"1';
    const url = `postgres://admin:${encodeURIComponent(password)}@db.internal:5432/app`;
    const failing = (message: string): DatabasePlugin => {
      const boom = async () => {
        const error = new Error(message) as Error & { code: string; detail: string };
        error.code = '28P01';
        error.detail = password;
        throw error;
      };
      return { initialize: boom, newUser: boom, updateUser: boom, deleteUser: boom, close: boom, type: () => 'test' };
    };
    const plugin = sanitisedPlugin(failing(`could not connect to ${url} as admin with ${password} (${encodeURIComponent(password)})`), () => [password, url]);
    const error = await plugin.deleteUser({ username: 'u', statements: { commands: [] } }).then(() => new Error('expected a failure'), (e: Error) => e);
    expect(error.message).toBe(`could not connect to ${REDACTED} as admin with ${REDACTED} (${REDACTED}) (SQLSTATE 28P01)`);
    expect(error).not.toHaveProperty('detail');
    expect(error.stack).not.toContain(password);
    // Passwords carried by the request are redacted too.
    const echo: DatabasePlugin = { ...failing(''), newUser: async (req) => Promise.reject(new Error(`syntax error at or near "${req.password}"`)) };
    const newUser = await sanitisedPlugin(echo, () => [])
      .newUser({ usernameConfig: { displayName: 'd', roleName: 'r' }, statements: { commands: [] }, password: 'Gener4ted-Pa55word', expiration: new Date() })
      .then(() => new Error('expected a failure'), (e: Error) => e);
    expect(newUser.message).toBe(`syntax error at or near "${REDACTED}"`);
    expect(redact('postgres://{{username}}:{{password}}@h/db failed', ['postgres://{{username}}:{{password}}@h/db'])).toBe(`${REDACTED} failed`);
  });
});

describe('connection URL masking', () => {
  const secret = 'S3cr3t-Tail';
  it.each([
    ['userinfo', `postgres://admin:${secret}@db:5432/app`, 'postgres://admin:*****@db:5432/app'],
    ['a second unencoded @', `postgresql://admin:head@${secret}@db:5432/app`, 'postgresql://admin:*****@db:5432/app'],
    ['?password=', `postgres://db/app?sslmode=disable&password=${secret}`, 'postgres://db/app?sslmode=disable&password=*****'],
    ['an encoded parameter name', `postgres://db/app?pass%77ord=${secret}`, 'postgres://db/app?pass%77ord=*****'],
    ['sslpassword and sslkey', `postgres://u@db/app?sslpassword=${secret}&sslkey=/k/${secret}.pem`, 'postgres://u@db/app?sslpassword=*****&sslkey=*****'],
    ['both places', `postgres://u:${secret}@db/app?password=${secret}`, 'postgres://u:*****@db/app?password=*****'],
    ['a partial template', `postgres://{{username}}:{{password}}${secret}@db/app`, 'postgres://{{username}}:*****@db/app'],
    ['a URL that does not parse', `postgres://u:${secret}@db:port/app`, UNPARSEABLE_URL_MASK],
    ['the secret repeated elsewhere', `postgres://u:${secret}@db/app#${secret}`, UNPARSEABLE_URL_MASK],
  ])('masks a password in %s', (_, url, masked) => {
    expect(maskedConnectionUrl(url)).toBe(masked);
    expect(maskedConnectionUrl(url)).not.toContain(secret);
  });

  it('leaves templates and password-free URLs as written', () => {
    for (const url of [
      'postgresql://{{username}}:{{password}}@db:5432/app',
      'postgres://{{username}}@db/app?password={{password}}&application_name=x y',
      'postgres://db/app?sslmode=require&user=u',
      'postgres://u@[::1]:5432/app',
    ]) {
      expect(maskedConnectionUrl(url)).toBe(url);
    }
  });

  it('the sanitiser redacts passwords given as query parameters or after a second @, in every form', () => {
    const queryUrl = `postgres://db/app?user=u&password=${encodeURIComponent('p@ss w0rd')}`;
    expect(redact('auth failed for "p@ss w0rd" (p%40ss%20w0rd)', [queryUrl])).toBe(`auth failed for "${REDACTED}" (${REDACTED})`);
    const atUrl = `postgres://u:head@${secret}@db/app`;
    expect(redact(`bad password head@${secret} (head%40${secret}) in ${atUrl}`, [atUrl])).toBe(`bad password ${REDACTED} (${REDACTED}) in ${REDACTED}`);
    const keyUrl = `postgres://db/app?sslkey=/k/${secret}.pem`;
    expect(redact(`ENOENT: open '/k/${secret}.pem'`, [keyUrl])).toBe(`ENOENT: open '${REDACTED}'`);
    // A URL that does not parse still has its likely password redacted.
    expect(redact(`could not use ${secret}`, [`postgres://u:${secret}@db:port/app?password=${secret}`])).toBe(`could not use ${REDACTED}`);
  });

  it('the sanitising wrapper redacts a query-parameter password carried by an initialize request', async () => {
    const password = 'Qu3ry-Pa55word';
    const url = `postgres://db/app?password=${password}`;
    const echo: DatabasePlugin = {
      initialize: async () => Promise.reject(new Error(`could not connect with password ${password}`)),
      newUser: async () => ({ username: '' }),
      updateUser: async () => ({}),
      deleteUser: async () => ({}),
      close: async () => undefined,
      type: () => 'test',
    };
    const error = await sanitisedPlugin(echo, () => [])
      .initialize({ config: { connection_url: url }, verifyConnection: true })
      .then(() => new Error('expected a failure'), (e: Error) => e);
    expect(error.message).toBe(`could not connect with password ${REDACTED}`);
  });
});

describe('generated passwords and expirations', () => {
  it('uses [A-Za-z0-9-] with every class present and never repeats', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = generatePassword(20);
      expect(p).toMatch(/^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)(?=.*-)[A-Za-z0-9-]{20}$/);
      seen.add(p);
    }
    expect(seen.size).toBe(200);
    expect(generatePassword(64)).toHaveLength(64);
  });

  it('formats expirations as Vault does for PostgreSQL', () => {
    expect(formatExpiration(new Date(Date.UTC(2026, 10, 24, 9, 5, 7)))).toBe('2026-11-24 09:05:07+0000');
  });
});

describe('cron schedules', () => {
  const at = (iso: string) => Date.parse(iso);
  it('finds the next run in UTC', () => {
    expect(new Date(parseCronSchedule('0 * * * *').next(at('2026-01-01T10:15:00Z'))).toISOString()).toBe('2026-01-01T11:00:00.000Z');
    expect(new Date(parseCronSchedule('30 2 * * SAT').next(at('2026-01-01T00:00:00Z'))).toISOString()).toBe('2026-01-03T02:30:00.000Z');
    expect(new Date(parseCronSchedule('*/15 9-17 * * 1-5').next(at('2026-01-02T17:50:00Z'))).toISOString()).toBe('2026-01-05T09:00:00.000Z');
    expect(new Date(parseCronSchedule('0 0 29 2 *').next(at('2026-03-01T00:00:00Z'))).toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(new Date(parseCronSchedule('@daily').next(at('2026-01-01T00:00:00Z'))).toISOString()).toBe('2026-01-02T00:00:00.000Z');
    // Both day fields restricted: either matches (the 1st, or any Sunday).
    expect(new Date(parseCronSchedule('0 0 1 * 0').next(at('2026-01-02T00:00:00Z'))).toISOString()).toBe('2026-01-04T00:00:00.000Z');
  });
  it('refuses malformed schedules', () => {
    for (const bad of ['* * * *', '60 * * * *', '* * * * MON-FOO', '*/0 * * * *', '5-1 * * * *', '@every 5m']) expect(() => parseCronSchedule(bad)).toThrow(/invalid rotation_schedule/);
    expect(() => parseCronSchedule('0 0 31 2 *').next(Date.now())).toThrow(/never matches/);
  });
});

describe('SCRAM verifiers', () => {
  it('password_authentication=scram-sha-256 sends only a verifier the server accepts', async () => {
    expect(scramSha256Verifier('pencil', Buffer.from('0123456789abcdef'))).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    const s = await databaseVault({ config: { password_authentication: 'scram-sha-256' } });
    try {
      await s.role('hashed');
      const cred = await request(s.app).get('/v1/database/creds/hashed').set(s.root);
      expect(cred.status).toBe(200);
      const stored = await s.scratch.sql((c) => c.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [cred.body.data.username]));
      expect(stored.rows[0].rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
      expect((await tryLogin(s.scratch.login(cred.body.data.username, cred.body.data.password))).ok).toBe(true);
      await s.vault.expiration.revokePrefix('database/', { sync: true });
    } finally {
      await s.close();
    }
  });
});
