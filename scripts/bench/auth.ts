// Scenario `auth`: token creation as root and AppRole login, on a dev server (in-memory) and on a data dir (every write fsync'd).
import { withTempDir } from './cleanup';
import { runServerLoad } from './load';
import { type ChildServer, startLeasehold, withServer } from './processes';
import { type BenchSettings, type Scenario, jsonPostLoad } from './scenario';
import { loadRow, type ResultRow } from './table';
import { initAndUnseal, ok } from './vault-api';

const DEV_ROOT_TOKEN = 'bench-root-token';

/** Enables AppRole with a role whose secret_id has unlimited uses; returns login credentials. */
async function setUpAppRole(url: string, rootToken: string): Promise<{ role_id: string; secret_id: string }> {
  await ok(url, 'POST', 'sys/auth/approle', { token: rootToken, body: { type: 'approle' } });
  await ok(url, 'POST', 'auth/approle/role/bench', { token: rootToken, body: { token_policies: ['default'], token_ttl: '1h', secret_id_num_uses: 0 } });
  const roleId = await ok(url, 'GET', 'auth/approle/role/bench/role-id', { token: rootToken });
  const secretId = await ok(url, 'POST', 'auth/approle/role/bench/secret-id', { token: rootToken, body: {} });
  const credentials = { role_id: roleId.data.role_id as string, secret_id: secretId.data.secret_id as string };
  await ok(url, 'POST', 'auth/approle/login', { body: credentials });
  return credentials;
}

/** Both loads against one server; `storage` labels the rows. */
async function measure(server: ChildServer, rootToken: string, storage: string, settings: BenchSettings): Promise<ResultRow[]> {
  const credentials = await setUpAppRole(server.url, rootToken);
  const create = await runServerLoad(server, jsonPostLoad(server.url, 'auth/token/create', { policies: ['default'], ttl: '1h' }, settings, rootToken));
  const login = await runServerLoad(server, jsonPostLoad(server.url, 'auth/approle/login', credentials, settings));
  return [loadRow('auth', `token create (${storage})`, create), loadRow('auth', `approle login (${storage})`, login)];
}

export const authScenario: Scenario = {
  name: 'auth',
  summary: 'POST auth/token/create (root) and auth/approle/login; dev (in-memory) and data dir (fsync per write)',
  async run(context) {
    const dev = await withServer(startLeasehold(['--dev', '--dev-root-token-id', DEV_ROOT_TOKEN]), (server) =>
      measure(server, DEV_ROOT_TOKEN, 'dev, in-memory', context.settings),
    );
    const durable = await withTempDir('auth', (dir) =>
      withServer(startLeasehold(['--data', dir]), async (server) => {
        const { rootToken } = await initAndUnseal(server.url);
        return measure(server, rootToken, 'data dir, fsync', context.settings);
      }),
    );
    return [...dev, ...durable];
  },
};
