// Issue 15 item 11: revoking many PostgreSQL users that hold the same grant at once failed transiently
// with "tuple concurrently updated" (the REVOKEs of concurrent revocations update the same catalog row),
// so a revoke-prefix left leases pending for a later retry. The plugin now retries such statements.
import request from 'supertest';
import { databaseVault } from './setup';

type Setup = Awaited<ReturnType<typeof databaseVault>>;

const USERS = 50;

describe('database engine: many revocations of users with the same grant', () => {
  let s: Setup;
  afterEach(async () => {
    await s?.close();
  });

  // Vault's documented revocation for PostgreSQL (every revocation rewrites the same ACLs), and the plugin's default.
  const DOCUMENTED_REVOCATION = [
    'REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM "{{name}}"',
    'REVOKE ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA public FROM "{{name}}"',
    'REVOKE USAGE ON SCHEMA public FROM "{{name}}"',
    'DROP ROLE IF EXISTS "{{name}}"',
  ];
  it.each([
    ['documented revocation statements', DOCUMENTED_REVOCATION],
    ['the default revocation', []],
  ])('50 users with the same grants are issued at once, and a revoke-prefix of their leases succeeds in one pass, leaving nothing pending (%s)', async (_name, revocation) => {
    // A wide pool so the revocations really run side by side (the sweep runs 32 per mount at once).
    s = await databaseVault({ config: { max_open_connections: 16 } });
    await s.scratch.sql(async (c) => {
      await c.query('CREATE TABLE shared_a (id int)');
      await c.query('CREATE TABLE shared_b (id int)');
      await c.query('CREATE SEQUENCE shared_seq');
    });
    await s.role('shared', {
      creation_statements: [
        `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
        'GRANT SELECT, INSERT ON shared_a, shared_b TO "{{name}}"',
        'GRANT USAGE ON SEQUENCE shared_seq TO "{{name}}"',
        'GRANT USAGE ON SCHEMA public TO "{{name}}"',
      ],
      revocation_statements: revocation,
    });
    // Issued all at once too: the GRANTs of concurrent creations race on the same ACLs as well.
    const issued = await Promise.all(Array.from({ length: USERS }, () => request(s.app).get('/v1/database/creds/shared').set(s.root)));
    expect(issued.map((r) => r.body.errors?.[0] ?? r.status).filter((x) => x !== 200)).toEqual([]);
    const usernames = issued.map((r) => r.body.data.username as string);

    const revoked = await request(s.app).put('/v1/sys/leases/revoke-prefix/database/creds/shared').set(s.root).send({ sync: true });
    // Shown with the failures' last errors when it fails (e.g. "tuple concurrently updated (SQLSTATE XX000)").
    const pending = s.vault.expiration.listByState('revoking', 100).map((l) => l.error);
    expect({ status: revoked.status, errors: revoked.body?.errors, pending }).toEqual({ status: 204, errors: undefined, pending: [] });
    expect(s.vault.expiration.listByState('irrevocable', 100)).toEqual([]);
    expect((await request(s.app).get('/v1/sys/leases/count?type=all').set(s.root)).body.data.lease_count).toBe(0);
    const left = await s.scratch.sql(async (c) => (await c.query('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [usernames])).rows);
    expect(left).toEqual([]);
  });
});
