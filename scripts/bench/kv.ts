// Scenario `kv`: KV v2 reads through the real server (child process, dev mode) with a policy-checked token and a
// file audit device, side by side with the same read on two minimal reference servers, in alternating rounds.
// A second Leasehold with metrics off (telemetry prometheus_retention_time = 0) runs in the same rounds, so the
// cost of counting shows as the KV read ratio with metrics on against the ratio with them off.
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

/** What the metrics-on server says about the run at sys/metrics: the request count and median it timed. */
async function metricsStatus(url: string): Promise<string> {
  const res = await fetch(`${url}/v1/sys/metrics?format=prometheus`, { headers: { 'X-Vault-Token': ROOT_TOKEN } });
  if (!res.ok) return `sys/metrics answered ${res.status}`;
  const text = await res.text();
  const sample = (series: string) => Number(text.split('\n').find((line) => line.startsWith(`${series} `))?.slice(series.length + 1));
  return `sys/metrics: vault_core_handle_request count ${sample('vault_core_handle_request_count')}, p50 ${sample('vault_core_handle_request{quantile="0.5"}').toFixed(3)} ms`;
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
  summary: 'KV v2 read (non-root policy-checked token, file audit device on; metrics on, and a second server with them off) vs the same read on minimal Express and node:http servers, in alternating rounds',
  run: (context) =>
    withTempDir('kv', (dir) =>
      withServer(startLeasehold(['--dev', '--dev-root-token-id', ROOT_TOKEN]), async (leasehold) => {
        const metricsOffConfig = path.join(dir, 'metrics-off.hcl');
        fs.writeFileSync(metricsOffConfig, 'telemetry { prometheus_retention_time = "0s" }\n');
        return withServer(startLeasehold(['--dev', '--dev-root-token-id', ROOT_TOKEN, `-config=${metricsOffConfig}`]), async (leaseholdMetricsOff) => {
          const { settings } = context;
          const auditFile = path.join(dir, 'audit.log');
          const targets: Target[] = [
            { label: 'leasehold KV v2 read', server: leasehold, token: await setUpKvReader(leasehold.url, ROOT_TOKEN, { auditFile }) },
            { label: 'leasehold KV v2 read, metrics off', server: leaseholdMetricsOff, token: await setUpKvReader(leaseholdMetricsOff.url, ROOT_TOKEN, { auditFile: path.join(dir, 'audit-metrics-off.log') }) },
          ];
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
            const [ours, oursMetricsOff, ...references] = samples as [ServerLoadResult[], ServerLoadResult[], ...ServerLoadResult[][]];
            const auditMiB = fs.statSync(auditFile).size / 2 ** 20;
            // The governance ledger is on: every read above was buffered as a secret.released event.
            const ledger = await ledgerStatus(leasehold.url);
            const rows: ResultRow[] = [
              loadRow('kv', targets[0]?.label as string, medianServerLoad(ours), {
                note: `median of ${settings.rounds} rounds; ${settings.connections} conns; audit log grew ${auditMiB.toFixed(0)} MiB; ledger on: ${ledger}; metrics on: ${await metricsStatus(leasehold.url)}`,
              }),
            ];
            const rateOf = (s: ServerLoadResult) => s.requestsPerSecond;
            const cpuOf = (s: ServerLoadResult) => s.cpuMsPerRequest;
            // Within each round, so drift between rounds cancels out.
            const onVsOff = medianRatio(ours, oursMetricsOff, rateOf, rateOf);
            rows.push(
              loadRow('kv', targets[1]?.label as string, medianServerLoad(oursMetricsOff), {
                note: `metrics on = ${formatRatio(onVsOff, 1)} of this (${((onVsOff - 1) * 100).toFixed(1)}%; budget -3%); CPU per read ${formatRatio(medianRatio(ours, oursMetricsOff, cpuOf, cpuOf), 1)} of this`,
              }),
            );
            references.forEach((reference, i) => {
              const ratio = (which: ServerLoadResult[], pick: (s: ServerLoadResult) => number | undefined) => medianRatio(which, reference, pick, pick);
              rows.push(
                loadRow('kv', targets[i + 2]?.label as string, medianServerLoad(reference), {
                  note: `leasehold = ${formatRatio(ratio(ours, rateOf), 1)} of this with metrics on, ${formatRatio(ratio(oursMetricsOff, rateOf), 1)} off; CPU per read ${formatRatio(ratio(ours, cpuOf), 1)} of this (on)`,
                }),
              );
            });
            return rows;
          } finally {
            for (const target of targets.slice(2)) await stopChild(target.server.child);
          }
        });
      }),
    ),
};
