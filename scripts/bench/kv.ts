// Scenario `kv`: KV v2 reads through the real server (child process, dev mode) with a policy-checked token and a
// file audit device, side by side with the same read on two minimal reference servers, in alternating rounds.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { withTempDir } from './cleanup';
import { measureInRounds, medianRatio, medianServerLoad, runServerLoad, type ServerLoadResult } from './load';
import { type ChildServer, compileBenchScript, freePort, startLeasehold, startNodeServer, stopChild, withServer } from './processes';
import { type Scenario, kvReadLoad } from './scenario';
import { formatRatio, loadRow, type ResultRow } from './table';
import { setUpKvReader } from './vault-api';

const ROOT_TOKEN = 'bench-root-token';

/** One server under comparison and the token its reads carry. */
interface Target {
  label: string;
  server: ChildServer;
  token: string;
}

/** The ledger after the run, via its verify endpoint: how many events it holds and whether the chain verifies. */
async function ledgerStatus(url: string): Promise<string> {
  const res = await fetch(`${url}/v1/sys/governance/ledger/verify`, { headers: { 'X-Vault-Token': ROOT_TOKEN } });
  if (!res.ok) return `verify answered ${res.status}`;
  const { data } = (await res.json()) as { data: { verified: boolean; events: number } };
  return `${data.events} events, ${data.verified ? 'verified' : 'NOT verified'}`;
}

/** The reference servers (scripts/bench/reference-server.ts, compiled): one token lookup, one SQLite read, one AEAD decrypt. */
const REFERENCES = [
  { kind: 'express', label: 'reference: one Express 5 route' },
  { kind: 'http', label: 'reference: bare node:http' },
  { kind: 'express-default', label: 'reference: Express route, default hosting' },
] as const;

function startReference(kind: (typeof REFERENCES)[number]['kind'], token: string): Promise<ChildServer> {
  return freePort().then((port) => startNodeServer(compileBenchScript('scripts/bench/reference-server.ts'), [kind, String(port)], port, { BENCH_REF_TOKEN: token }));
}

export const kvScenario: Scenario = {
  name: 'kv',
  summary: 'KV v2 read (non-root policy-checked token, file audit device on) vs the same read on minimal Express and node:http servers, in alternating rounds',
  run: (context) =>
    withTempDir('kv', (dir) =>
      withServer(startLeasehold(['--dev', '--dev-root-token-id', ROOT_TOKEN]), async (leasehold) => {
        const { settings } = context;
        const auditFile = path.join(dir, 'audit.log');
        const targets: Target[] = [{ label: 'leasehold KV v2 read', server: leasehold, token: await setUpKvReader(leasehold.url, ROOT_TOKEN, { auditFile }) }];
        try {
          for (const { kind, label } of REFERENCES) {
            const token = `hvs.${randomBytes(18).toString('base64url')}`;
            targets.push({ label, server: await startReference(kind, token), token });
          }
          // Each server is warmed up before its first measured run only.
          const warmedUp = new Set<Target>();
          const samples = await measureInRounds(targets, settings.rounds, (target) => {
            const warmUpSeconds = warmedUp.has(target) ? 0 : undefined;
            warmedUp.add(target);
            return runServerLoad(target.server, kvReadLoad(target.server.url, target.token, settings), { warmUpSeconds });
          });
          const [ours, ...references] = samples as [ServerLoadResult[], ...ServerLoadResult[][]];
          const auditMiB = fs.statSync(auditFile).size / 2 ** 20;
          // The governance ledger is on: every read above was buffered as a secret.released event.
          const ledger = await ledgerStatus(leasehold.url);
          const rows: ResultRow[] = [
            loadRow('kv', targets[0]?.label as string, medianServerLoad(ours), {
              note: `median of ${settings.rounds} rounds; ${settings.connections} conns; audit log grew ${auditMiB.toFixed(0)} MiB; ledger on: ${ledger}`,
            }),
          ];
          references.forEach((reference, i) => {
            const perRound = (pick: (s: ServerLoadResult) => number | undefined) => medianRatio(ours, reference, pick, pick);
            const rate = perRound((s) => s.requestsPerSecond);
            const cpu = perRound((s) => s.cpuMsPerRequest);
            rows.push(loadRow('kv', targets[i + 1]?.label as string, medianServerLoad(reference), { note: `leasehold = ${formatRatio(rate, 1)} of this; CPU per read ${formatRatio(cpu, 1)} of this` }));
          });
          return rows;
        } finally {
          for (const target of targets.slice(1)) await stopChild(target.server.child);
        }
      }),
    ),
};
