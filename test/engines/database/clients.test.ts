// Unmodified Vault clients against the database engine over a real listener and a real PostgreSQL:
// node-vault (generateDatabaseCredentials, read/write/list) and the raw requests hvac's secrets.database
// sends (configure, create_role, generate_credentials, rotate_root_credentials, create_static_role,
// get_static_credentials, list and read).
import nodeVault from 'node-vault';
import { createScratch, type Scratch, tryLogin, uniqueSuffix } from '../../pg/cluster';
import { listen, unsealedVault } from '../../helpers/vault';
import { CREATE_ROLE_SQL } from './setup';

describe('Vault clients against the database engine', () => {
  let scratch: Scratch;
  let url: string;
  let close: () => Promise<void>;
  let rootToken: string;
  let built: Awaited<ReturnType<typeof unsealedVault>>;

  beforeAll(async () => {
    scratch = await createScratch();
    built = await unsealedVault();
    rootToken = built.rootToken;
    const server = await listen(built.app);
    url = server.url;
    close = server.close;
  });
  afterAll(async () => {
    await built.vault.expiration.revokePrefix('database/', { sync: true }).catch(() => undefined);
    await built.vault.mounts.get('database/')?.backend.cleanup?.();
    await close();
  });

  /** A request exactly as hvac's adapter sends it: JSON body, X-Vault-Token and X-Vault-Request headers. */
  const hvac = async (method: string, path: string, json?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { 'X-Vault-Token': rootToken, 'X-Vault-Request': 'true', ...(json === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  it('node-vault mounts, configures and generates credentials', async () => {
    const vault = nodeVault({ apiVersion: 'v1', endpoint: url, token: rootToken });
    await vault.mount({ mount_point: 'database', type: 'database' });
    await vault.write('database/config/pg', {
      plugin_name: 'postgresql-database-plugin',
      connection_url: scratch.connectionUrl,
      username: scratch.vaultUser,
      password: scratch.vaultPassword,
      allowed_roles: 'nv,hv',
    });
    await vault.write('database/roles/nv', { db_name: 'pg', creation_statements: CREATE_ROLE_SQL, default_ttl: '1h', max_ttl: '24h' });
    expect((await vault.list('database/roles')).data.keys).toEqual(['nv']);

    const creds = await vault.generateDatabaseCredentials({ databasePath: 'database', name: 'nv' });
    expect(creds).toMatchObject({ renewable: true, lease_duration: 3600 });
    expect(creds.lease_id).toMatch(/^database\/creds\/nv\//);
    expect((await tryLogin(scratch.login(creds.data.username, creds.data.password))).ok).toBe(true);
    const read = await vault.read('database/creds/nv');
    expect(read.data.username).not.toBe(creds.data.username);

    await vault.revoke({ lease_id: creds.lease_id });
    expect(await scratch.roleExists(creds.data.username)).toBe(false);
  });

  it('answers the requests hvac secrets.database sends', async () => {
    // configure(name, plugin_name, allowed_roles=..., **kwargs)
    const configured = await hvac('POST', '/v1/database/config/pg', {
      plugin_name: 'postgresql-database-plugin',
      allowed_roles: 'nv,hv,hv-static',
      connection_url: scratch.connectionUrl,
      username: scratch.vaultUser,
      password: scratch.vaultPassword,
    });
    expect(configured.status).toBe(204);
    // read_connection / list_connections (LIST method)
    const connection = await hvac('GET', '/v1/database/config/pg');
    expect(connection.body.data.connection_details).not.toHaveProperty('password');
    expect((await hvac('LIST', '/v1/database/config')).body.data.keys).toEqual(['pg']);

    // create_role(name, db_name, creation_statements, default_ttl, max_ttl, ...)
    expect((await hvac('POST', '/v1/database/roles/hv', { db_name: 'pg', creation_statements: [CREATE_ROLE_SQL], default_ttl: 600, max_ttl: 3600 })).status).toBe(204);
    const role = await hvac('GET', '/v1/database/roles/hv');
    expect(role.body.data).toMatchObject({ db_name: 'pg', creation_statements: [CREATE_ROLE_SQL], default_ttl: 600, max_ttl: 3600, revocation_statements: [] });
    expect((await hvac('LIST', '/v1/database/roles')).body.data.keys).toEqual(['hv', 'nv']);

    // generate_credentials(name)
    const creds = await hvac('GET', '/v1/database/creds/hv');
    expect(creds.status).toBe(200);
    expect(creds.body).toMatchObject({ renewable: true, lease_duration: 600 });
    expect((await tryLogin(scratch.login(creds.body.data.username, creds.body.data.password))).ok).toBe(true);

    // create_static_role(name, db_name, username, rotation_statements, rotation_period=86400) / get_static_credentials(name)
    const staticUser = `hv_static_${uniqueSuffix()}`;
    await scratch.sql((c) => c.query(`CREATE ROLE "${staticUser}" LOGIN PASSWORD 'before-vault'`));
    const staticRole = await hvac('POST', '/v1/database/static-roles/hv-static', {
      db_name: 'pg',
      username: staticUser,
      rotation_statements: [`ALTER USER "{{name}}" WITH PASSWORD '{{password}}';`],
      rotation_period: 86400,
    });
    expect(staticRole.status).toBe(204);
    const staticCreds = await hvac('GET', '/v1/database/static-creds/hv-static');
    expect(staticCreds.body.data).toMatchObject({ username: staticUser, rotation_period: 86400 });
    expect(staticCreds.body.data.ttl).toBeGreaterThan(86390);
    expect((await tryLogin(scratch.login(staticUser, staticCreds.body.data.password))).ok).toBe(true);
    expect((await hvac('LIST', '/v1/database/static-roles')).body.data.keys).toEqual(['hv-static']);

    // rotate_root_credentials(name): the configured password stops working; the engine does not.
    expect((await hvac('POST', '/v1/database/rotate-root/pg')).status).toBe(204);
    expect((await tryLogin(scratch.login(scratch.vaultUser, scratch.vaultPassword))).ok).toBe(false);
    expect((await hvac('GET', '/v1/database/creds/hv')).status).toBe(200);

    // reset_connection, delete_role, delete_static_role
    expect((await hvac('POST', '/v1/database/reset/pg')).status).toBe(204);
    expect((await hvac('DELETE', '/v1/database/static-roles/hv-static')).status).toBe(204);
    expect((await hvac('DELETE', '/v1/database/roles/hv')).status).toBe(204);
    expect((await hvac('GET', '/v1/database/roles/hv')).status).toBe(404);
  });
});
