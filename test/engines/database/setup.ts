// Shared setup for the database engine's tests: a real vault with the engine mounted at database/ and a
// connection `pg` to a scratch database of a real PostgreSQL cluster.
import request from 'supertest';
import type { ClusterInfo } from '../../pg/control';
import { type Scratch, createScratch } from '../../pg/cluster';
import { type VaultOptions, unsealedVault } from '../../helpers/vault';

/** Vault's classic PostgreSQL creation statement, as in its documentation. */
export const CREATE_ROLE_SQL = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`;

/** A vault with the database engine mounted and a connection named `pg`. */
export async function databaseVault(options: VaultOptions & { cluster?: ClusterInfo; config?: Record<string, unknown> } = {}) {
  const scratch: Scratch = await createScratch(options.cluster);
  const v = await unsealedVault(options);
  const root = { 'X-Vault-Token': v.rootToken };
  const mounted = await request(v.app).post('/v1/sys/mounts/database').set(root).send({ type: 'database' });
  if (mounted.status !== 204) throw new Error(`mounting the database engine failed: ${mounted.status} ${JSON.stringify(mounted.body)}`);
  const configured = await request(v.app)
    .post('/v1/database/config/pg')
    .set(root)
    .send({
      plugin_name: 'postgresql-database-plugin',
      connection_url: scratch.connectionUrl,
      username: scratch.vaultUser,
      password: scratch.vaultPassword,
      allowed_roles: '*',
      ...options.config,
    });
  if (configured.status !== 204) throw new Error(`configuring the connection failed: ${configured.status} ${JSON.stringify(configured.body)}`);
  const backend = () => v.vault.mounts.get('database/')?.backend;
  const closeBackend = backend();
  return {
    ...v,
    root,
    scratch,
    /** Writes a dynamic role on connection `pg`. */
    async role(name: string, body: Record<string, unknown> = {}) {
      const res = await request(v.app)
        .post(`/v1/database/roles/${name}`)
        .set(root)
        .send({ db_name: 'pg', creation_statements: [CREATE_ROLE_SQL], default_ttl: '1h', max_ttl: '24h', ...body });
      if (res.status !== 204) throw new Error(`writing role ${name} failed: ${res.status} ${JSON.stringify(res.body)}`);
    },
    /** Closes the engine's connection pools (for tests that end without sealing, which closes them too). */
    async close() {
      await closeBackend?.cleanup?.();
    },
  };
}
