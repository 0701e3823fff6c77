// Database connections through the HTTP API against a real server: reads never return the password,
// a wrong connection URL fails without leaking it, rotate-root locks everyone else out, list/reset/delete.
import request from 'supertest';
import { tryLogin, uniqueSuffix } from '../../pg/cluster';
import { unsealedVault } from '../../helpers/vault';
import { databaseVault } from './setup';

type Setup = Awaited<ReturnType<typeof databaseVault>>;

describe('database engine: connections', () => {
  let s: Setup;
  afterEach(async () => {
    await s?.close();
  });

  it('reads a connection in Vault\'s shape and never returns the password', async () => {
    s = await databaseVault();
    const read = await request(s.app).get('/v1/database/config/pg').set(s.root);
    expect(read.status).toBe(200);
    expect(read.body.data).toMatchObject({
      plugin_name: 'postgresql-database-plugin',
      allowed_roles: ['*'],
      root_credentials_rotate_statements: [],
      password_policy: '',
      verify_connection: true,
      connection_details: { connection_url: s.scratch.connectionUrl, username: s.scratch.vaultUser, max_open_connections: 4 },
    });
    expect(read.body.data.connection_details).not.toHaveProperty('password');
    expect(JSON.stringify(read.body)).not.toContain(s.scratch.vaultPassword);
    expect((await request(s.app).get('/v1/database/config?list=true').set(s.root)).body.data.keys).toEqual(['pg']);
    expect((await request(s.app).get('/v1/database/config/nope').set(s.root)).status).toBe(404);
  });

  it('masks a literal password in connection_url and warns about it', async () => {
    s = await databaseVault();
    const literal = `postgresql://${s.scratch.vaultUser}:${s.scratch.vaultPassword}@${s.scratch.cluster.host}:${s.scratch.cluster.port}/${s.scratch.database}`;
    const write = await request(s.app).post('/v1/database/config/literal').set(s.root).send({ plugin_name: 'postgresql-database-plugin', connection_url: literal, allowed_roles: '*' });
    expect(write.status).toBe(200);
    expect(write.body.warnings[0]).toMatch(/Password found in connection_url/);
    const read = await request(s.app).get('/v1/database/config/literal').set(s.root);
    expect(read.body.data.connection_details.connection_url).toContain(':*****@');
    expect(JSON.stringify(read.body)).not.toContain(s.scratch.vaultPassword);
  });

  it('masks a password anywhere in connection_url: a second unencoded @, query parameters, encoded names', async () => {
    s = await databaseVault();
    const { host, port } = s.scratch.cluster;
    const db = s.scratch.database;
    // A login whose password holds an unencoded "@": pg (WHATWG URL) splits the userinfo at the LAST "@".
    const user = `lh_at_${uniqueSuffix()}`;
    const atPassword = `Head${uniqueSuffix()}@Tail${uniqueSuffix()}`;
    await s.scratch.sql((c) => c.query(`CREATE ROLE "${user}" LOGIN PASSWORD '${atPassword}'`));
    const queryPassword = `Qp-${uniqueSuffix()}`;
    const cases: { url: string; secrets: string[]; verify?: boolean }[] = [
      { url: `postgresql://${user}:${atPassword}@${host}:${port}/${db}`, secrets: [atPassword, atPassword.split('@')[0] ?? '', atPassword.split('@')[1] ?? ''] },
      { url: `postgres://${user}@${host}:${port}/${db}?password=${encodeURIComponent(atPassword)}`, secrets: [atPassword, encodeURIComponent(atPassword)] },
      { url: `postgres://${host}:${port}/${db}?user=${user}&pass%77ord=${encodeURIComponent(atPassword)}`, secrets: [atPassword, encodeURIComponent(atPassword)] },
      {
        url: `postgres://${user}@${host}:${port}/${db}?sslpassword=Kp-${queryPassword}&sslmode=disable`,
        secrets: [queryPassword],
        verify: false,
      },
    ];
    for (const { url, secrets, verify } of cases) {
      const write = await request(s.app)
        .post('/v1/database/config/literal')
        .set(s.root)
        .send({ plugin_name: 'postgresql-database-plugin', connection_url: url, allowed_roles: '*', verify_connection: verify ?? true });
      expect(write.status).toBe(200);
      expect(write.body.warnings[0]).toMatch(/Password found in connection_url/);
      const read = await request(s.app).get('/v1/database/config/literal').set(s.root);
      expect(read.status).toBe(200);
      expect(read.body.data.connection_details.connection_url).toContain('*****');
      const text = JSON.stringify(read.body);
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
    // A templated password, in the userinfo or as a query parameter, is shown as written and draws no warning.
    const templated = `postgres://{{username}}@${host}:${port}/${db}?password={{password}}&application_name=lh`;
    const write = await request(s.app)
      .post('/v1/database/config/templated')
      .set(s.root)
      .send({ plugin_name: 'postgresql-database-plugin', connection_url: templated, username: s.scratch.vaultUser, password: s.scratch.vaultPassword });
    expect(write.status).toBe(204);
    const read = await request(s.app).get('/v1/database/config/templated').set(s.root);
    expect(read.body.data.connection_details.connection_url).toBe(templated);
    expect(JSON.stringify(read.body)).not.toContain(s.scratch.vaultPassword);
  });

  it('a config error never shows a password given in the query or after a second @', async () => {
    s = await databaseVault();
    const { host, port } = s.scratch.cluster;
    const db = s.scratch.database;
    const secret = `Wr0ng-${uniqueSuffix()}`;
    const cases = [
      // Right server, wrong password in the query.
      `postgres://${s.scratch.vaultUser}@${host}:${port}/${db}?password=${secret}`,
      // Wrong password with an unencoded "@".
      `postgresql://${s.scratch.vaultUser}:head@${secret}@${host}:${port}/${db}`,
      // Does not parse: nothing of it comes back.
      `postgresql://${s.scratch.vaultUser}:${secret}@${host}:notaport/${db}?password=${secret}`,
    ];
    for (const connection_url of cases) {
      const res = await request(s.app).post('/v1/database/config/broken').set(s.root).send({ plugin_name: 'postgresql-database-plugin', connection_url });
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toMatch(/^error creating database object: /);
      expect(JSON.stringify(res.body)).not.toContain(secret);
    }
    // Stored unverified, the same URLs fail on use without the password, and reads mask it.
    for (const connection_url of cases.slice(0, 2)) {
      const stored = await request(s.app).post('/v1/database/config/broken').set(s.root).send({ plugin_name: 'postgresql-database-plugin', connection_url, verify_connection: false, allowed_roles: '*' });
      expect(stored.status).toBe(200);
      expect(JSON.stringify(stored.body)).not.toContain(secret);
      expect(JSON.stringify((await request(s.app).get('/v1/database/config/broken').set(s.root)).body)).not.toContain(secret);
      await request(s.app).post('/v1/database/roles/r').set(s.root).send({ db_name: 'broken', creation_statements: 'CREATE ROLE "{{name}}"' });
      const creds = await request(s.app).get('/v1/database/creds/r').set(s.root);
      expect(creds.status).toBe(500);
      expect(JSON.stringify(creds.body)).not.toContain(secret);
    }
  });

  it('a wrong connection URL fails the write with an error that contains no password', async () => {
    s = await databaseVault();
    const password = 'Sup3r-Secret-Pa55word';
    const cases = [
      // Wrong port: nothing listens there.
      { connection_url: 'postgresql://{{username}}:{{password}}@127.0.0.1:1/postgres', username: 'someone', password },
      // Right server, wrong password.
      { connection_url: s.scratch.connectionUrl, username: s.scratch.vaultUser, password },
      // A literal password in a URL that does not parse.
      { connection_url: `postgresql://someone:${password}@127.0.0.1:notaport/db`, username: 'someone' },
    ];
    for (const body of cases) {
      const res = await request(s.app).post('/v1/database/config/broken').set(s.root).send({ plugin_name: 'postgresql-database-plugin', ...body });
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toMatch(/^error creating database object: /);
      const text = JSON.stringify(res.body);
      expect(text).not.toContain(password);
      expect(text).not.toContain(encodeURIComponent(password));
      expect(text).not.toContain('127.0.0.1:notaport');
    }
    expect((await request(s.app).get('/v1/database/config/broken').set(s.root)).status).toBe(404);
    // verify_connection=false stores it anyway; using it then fails, still without the password.
    const unverified = await request(s.app)
      .post('/v1/database/config/broken')
      .set(s.root)
      .send({ plugin_name: 'postgresql-database-plugin', verify_connection: false, allowed_roles: '*', ...cases[1] });
    expect(unverified.status).toBe(204);
    await request(s.app).post('/v1/database/roles/r').set(s.root).send({ db_name: 'broken', creation_statements: 'CREATE ROLE "{{name}}"' });
    const creds = await request(s.app).get('/v1/database/creds/r').set(s.root);
    expect(creds.status).toBe(500);
    expect(creds.body.errors[0]).toMatch(/password authentication failed/);
    expect(JSON.stringify(creds.body)).not.toContain(password);
  });

  it('rotate-root: afterwards the old root password no longer logs in and the engine keeps working', async () => {
    s = await databaseVault();
    await s.role('app');
    const oldLogin = s.scratch.login(s.scratch.vaultUser, s.scratch.vaultPassword);
    expect((await tryLogin(oldLogin)).ok).toBe(true);
    expect((await request(s.app).post('/v1/database/rotate-root/pg').set(s.root)).status).toBe(204);
    const after = await tryLogin(oldLogin);
    expect(after.ok).toBe(false);
    expect(after.code).toBe('28P01');
    // The vault still connects with the password only it knows.
    const cred = await request(s.app).get('/v1/database/creds/app').set(s.root);
    expect(cred.status).toBe(200);
    expect((await request(s.app).post('/v1/database/reset/pg').set(s.root)).status).toBe(204);
    expect((await request(s.app).put('/v1/sys/leases/revoke').set(s.root).send({ lease_id: cred.body.lease_id })).status).toBe(204);
    expect(await s.scratch.roleExists(cred.body.data.username)).toBe(false);
    // Twice in a row works too: the stored password followed the first rotation.
    expect((await request(s.app).post('/v1/database/rotate-root/pg').set(s.root)).status).toBe(204);
    expect((await request(s.app).get('/v1/database/creds/app').set(s.root)).status).toBe(200);
    await s.vault.expiration.revokePrefix('database/', { sync: true });
  });

  it('updates merge with the stored connection, and delete removes it', async () => {
    s = await databaseVault();
    const update = await request(s.app).post('/v1/database/config/pg').set(s.root).send({ allowed_roles: 'a,b', max_open_connections: 2 });
    expect(update.status).toBe(204);
    const read = await request(s.app).get('/v1/database/config/pg').set(s.root);
    expect(read.body.data.allowed_roles).toEqual(['a', 'b']);
    expect(read.body.data.connection_details).toMatchObject({ max_open_connections: 2, username: s.scratch.vaultUser });
    expect((await request(s.app).delete('/v1/database/config/pg').set(s.root)).status).toBe(204);
    expect((await request(s.app).get('/v1/database/config/pg').set(s.root)).status).toBe(404);
    expect((await request(s.app).post('/v1/database/reset/pg').set(s.root)).status).toBe(400);
  });

  it('refuses unknown plugins, password policies and unknown template functions clearly', async () => {
    s = await databaseVault();
    const post = (body: Record<string, unknown>) => request(s.app).post('/v1/database/config/x').set(s.root).send(body);
    expect((await post({ plugin_name: 'mysql-database-plugin', connection_url: 'x' })).body.errors[0]).toBe('unknown plugin_name "mysql-database-plugin"');
    expect((await post({ plugin_name: 'postgresql-database-plugin', connection_url: s.scratch.connectionUrl, password_policy: 'p' })).status).toBe(400);
    const template = await post({ plugin_name: 'postgresql-database-plugin', connection_url: s.scratch.connectionUrl, username_template: '{{ .DisplayName | sprig_thing }}', verify_connection: false });
    expect(template.status).toBe(400);
    expect(template.body.errors[0]).toMatch(/unknown function "sprig_thing"/);
  });

  it('a mount without configuration answers like Vault', async () => {
    const v = await unsealedVault();
    const root = { 'X-Vault-Token': v.rootToken };
    await request(v.app).post('/v1/sys/mounts/database').set(root).send({ type: 'database' });
    expect((await request(v.app).get('/v1/database/config?list=true').set(root)).status).toBe(404);
    expect((await request(v.app).get('/v1/database/roles?list=true').set(root)).status).toBe(404);
    expect((await request(v.app).get('/v1/database/static-roles?list=true').set(root)).status).toBe(404);
    const role = await request(v.app).post('/v1/database/roles/r').set(root).send({ db_name: 'pg' });
    expect(role.body.errors[0]).toBe('empty creation statements');
  });
});

describe('file-reading connection parameters', () => {
  let t: Awaited<ReturnType<typeof databaseVault>> | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('refuses sslkey, sslcert, sslrootcert and friends (pg would read them as files on the vault host), without echoing them', async () => {
    t = await databaseVault();
    const { host, port } = t.scratch.cluster;
    for (const param of ['sslkey', 'sslcert', 'sslrootcert', 'sslcrl', 'passfile', 'SSLKEY', 'ssl%6Bey']) {
      const url = `postgres://${t.scratch.vaultUser}@${host}:${port}/${t.scratch.database}?${param}=/etc/secret-${param}.pem&password={{password}}`;
      const res = await request(t.app).post('/v1/database/config/files').set(t.root).send({ plugin_name: 'postgresql-database-plugin', connection_url: url, verify_connection: false });
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toMatch(/is not allowed/);
      expect(JSON.stringify(res.body)).not.toContain('/etc/secret');
    }
    expect((await request(t.app).get('/v1/database/config/files').set(t.root)).status).toBe(404);
  });
});
