// Scenario `reference`: the same KV read against two minimal servers (bare node:http, one Express 5 route), and Leasehold's rate as a share of each.
import { randomBytes } from 'node:crypto';
import { runServerLoad } from './load';
import { freePort, startNodeServer, withServer } from './processes';
import { type Scenario, kvReadLoad } from './scenario';
import { formatRatio, loadRow, type ResultRow } from './table';

const KINDS = [
  { kind: 'http', label: 'reference: bare node:http' },
  { kind: 'express', label: 'reference: one Express 5 route' },
] as const;

export const referenceScenario: Scenario = {
  name: 'reference',
  summary: 'the same read on minimal node:http and Express servers (HMAC token lookup, SQLite, AEAD, JSON)',
  async run(context) {
    const rows: ResultRow[] = [];
    for (const { kind, label } of KINDS) {
      const token = `hvs.${randomBytes(18).toString('base64url')}`;
      const port = await freePort();
      const server = startNodeServer('scripts/bench/reference-server.ts', [kind, String(port)], port, { BENCH_REF_TOKEN: token });
      rows.push(
        await withServer(server, async (running) => {
          const load = await runServerLoad(running, kvReadLoad(running.url, token, context.settings));
          const leasehold = context.kvReadRequestsPerSecond;
          const leaseholdCpu = context.kvReadCpuMsPerRequest;
          const cpuNote = leaseholdCpu !== undefined && load.cpuMsPerRequest !== undefined ? `; CPU per read ${formatRatio(leaseholdCpu, load.cpuMsPerRequest)} of this` : '';
          const note = leasehold === undefined ? 'run with `kv` for the ratio' : `leasehold kv = ${formatRatio(leasehold, load.requestsPerSecond)} of this${cpuNote}`;
          return loadRow('reference', label, load, { note });
        }),
      );
    }
    return rows;
  },
};
