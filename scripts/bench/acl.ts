// Scenario `acl`: the KV read of the `kv` scenario with a 9k-rule policy in `default` (every token carries
// it) against the same read with the stock `default`, in alternating rounds on one server (issue 15 item 12).
import { Acl, parsePolicy } from '../../src/core/policy/acl';
import { measureInRounds, medianRatio, medianServerLoad, runServerLoad, type ServerLoadResult } from './load';
import { startLeasehold, withServer } from './processes';
import { type Scenario, kvReadLoad } from './scenario';
import { formatMs, formatRatio, loadRow, median } from './table';
import { call, ok, setUpKvReader } from './vault-api';

const ROOT_TOKEN = 'bench-root-token';
const BIG_RULES = 9_000;

/**
 * The stock `default` plus 9k wildcard rules none of which matches the bench read: half trailing globs
 * under per-team prefixes, half `+` segment rules, as a large organisation's policy might hold.
 * Compact HCL: the policy text limit is 512 KiB.
 */
function bigPolicy(stock: string): string {
  const lines = [stock];
  for (let i = 0; i < BIG_RULES; i++) {
    lines.push(i % 2 === 0 ? `path "secret/data/team-${i}/*"{capabilities=["read"]}` : `path "secret/+/team-${i}/cfg"{capabilities=["read"]}`);
  }
  return lines.join('\n');
}

/** The ACL decision alone, in this process: microseconds per allowOperation for the bench read (median of 5 runs). */
function aclCheckMicros(text: string): number {
  const acl = new Acl([parsePolicy('default', text), parsePolicy('bench-reader', 'path "secret/data/bench/*" { capabilities = ["read"] }')]);
  const runs: number[] = [];
  const calls = 100_000;
  for (let run = 0; run < 6; run++) {
    const startedAt = performance.now();
    for (let i = 0; i < calls; i++) if (!acl.allowOperation('secret/data/bench/app', 'read', {}, false)) throw new Error('the bench read is not allowed');
    if (run > 0) runs.push(((performance.now() - startedAt) * 1000) / calls);
  }
  return median(runs);
}

export const aclScenario: Scenario = {
  name: 'acl',
  summary: `KV v2 read with a ${BIG_RULES / 1000}k-rule policy in \`default\` vs the stock \`default\`, alternating rounds on one server`,
  run: (context) =>
    withServer(startLeasehold(['--dev', '--dev-root-token-id', ROOT_TOKEN]), async (server) => {
      const { settings } = context;
      const token = await setUpKvReader(server.url, ROOT_TOKEN);
      const stock = (await ok(server.url, 'GET', 'sys/policies/acl/default', { token: ROOT_TOKEN })).data.policy as string;
      const big = bigPolicy(stock);
      const variants = [
        { label: 'KV read, stock `default` policy', text: stock },
        { label: `KV read, ${BIG_RULES.toLocaleString('en-US')}-rule \`default\` policy`, text: big },
      ];
      const warmedUp = new Set<string>();
      const samples = await measureInRounds(variants, settings.rounds, async (variant) => {
        await ok(server.url, 'PUT', 'sys/policies/acl/default', { token: ROOT_TOKEN, body: { policy: variant.text } });
        // The read must still be allowed, and by the bench rule, not by one of the 9k.
        const read = await call(server.url, 'GET', 'secret/data/bench/app', { token });
        if (read.status !== 200) throw new Error(`the bench read answered ${read.status} with ${variant.label}`);
        const warmUpSeconds = warmedUp.has(variant.label) ? 0.5 : undefined;
        warmedUp.add(variant.label);
        return runServerLoad(server, kvReadLoad(server.url, token, settings), { warmUpSeconds });
      });
      await ok(server.url, 'PUT', 'sys/policies/acl/default', { token: ROOT_TOKEN, body: { policy: stock } });
      const checkSmall = aclCheckMicros(stock);
      const checkLarge = aclCheckMicros(big);
      const [small, large] = samples as [ServerLoadResult[], ServerLoadResult[]];
      const p99 = medianRatio(large, small, (s) => s.p99Ms, (s) => s.p99Ms);
      const rate = medianRatio(large, small, (s) => s.requestsPerSecond, (s) => s.requestsPerSecond);
      const cpu = medianRatio(large, small, (s) => s.cpuMsPerRequest, (s) => s.cpuMsPerRequest);
      return [
        loadRow('acl', variants[0]?.label as string, medianServerLoad(small), { note: `median of ${settings.rounds} rounds; reference for the row below` }),
        loadRow('acl', variants[1]?.label as string, medianServerLoad(large), {
          note: `req/s ${formatRatio(rate, 1)}, CPU per read ${formatRatio(cpu, 1)}, p99 ${formatRatio(p99, 1)} of the stock policy (target ~1x)`,
        }),
        {
          scenario: 'acl',
          measurement: 'ACL decision alone (in-process), stock vs 9k-rule',
          note: `${formatMs(checkSmall)} us vs ${formatMs(checkLarge)} us per allowOperation (${formatRatio(checkLarge, checkSmall)})`,
        },
      ];
    }),
};
