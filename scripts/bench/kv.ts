// Scenario `kv`: KV v2 reads through the real server (child process, dev mode) with a policy-checked token and a file audit device.
import fs from 'node:fs';
import path from 'node:path';
import { withTempDir } from './cleanup';
import { runServerLoad } from './load';
import { startLeasehold, withServer } from './processes';
import { type Scenario, kvReadLoad } from './scenario';
import { loadRow } from './table';
import { setUpKvReader } from './vault-api';

const ROOT_TOKEN = 'bench-root-token';

export const kvScenario: Scenario = {
  name: 'kv',
  summary: 'KV v2 read, non-root policy-checked token, file audit device on',
  run: (context) =>
    withTempDir('kv', (dir) =>
      withServer(startLeasehold(['--dev', '--dev-root-token-id', ROOT_TOKEN]), async (server) => {
        const auditFile = path.join(dir, 'audit.log');
        const token = await setUpKvReader(server.url, ROOT_TOKEN, { auditFile });
        const load = await runServerLoad(server, kvReadLoad(server.url, token, context.settings));
        context.kvReadRequestsPerSecond = load.requestsPerSecond;
        context.kvReadCpuMsPerRequest = load.cpuMsPerRequest;
        const auditMiB = fs.statSync(auditFile).size / 2 ** 20;
        return [loadRow('kv', 'leasehold KV v2 read', load, { note: `${context.settings.connections} conns; audit log grew ${auditMiB.toFixed(0)} MiB` })];
      }),
    ),
};
