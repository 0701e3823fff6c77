// `npm run bench [-- scenario...]`: runs the performance scenarios against the real server and prints one table each plus a summary.
import { aclScenario } from './bench/acl';
import { authScenario } from './bench/auth';
import { blastRadiusScenario } from './bench/blast-radius';
import { installCleanupHandlers } from './bench/cleanup';
import { consoleScenario } from './bench/console';
import { databaseScenario } from './bench/database';
import { kvScenario } from './bench/kv';
import { type BenchContext, type Scenario, settingsFromEnv } from './bench/scenario';
import { snapshotScenario } from './bench/snapshot';
import { startupScenario } from './bench/startup';
import { sweepScenario } from './bench/sweep';
import { wrappingScenario } from './bench/wrapping';
import { printTable, type ResultRow } from './bench/table';

/** Every scenario, in the order a full run takes them. */
const SCENARIOS: Scenario[] = [kvScenario, aclScenario, authScenario, databaseScenario, startupScenario, sweepScenario, wrappingScenario, blastRadiusScenario, snapshotScenario, consoleScenario];

function usage(): string {
  return [
    'usage: npm run bench [-- <scenario>...]   (default: all)',
    '',
    ...SCENARIOS.map((s) => `  ${s.name.padEnd(10)} ${s.summary}`),
    '',
    'env: BENCH_SECONDS (per load run, default 5), BENCH_CONNECTIONS (32), BENCH_STARTUP_LEASES (0,100000,1000000),',
    '     BENCH_STARTUP_RUNS (3), BENCH_SWEEP_LEASES (100000), BENCH_ROUNDS (3, the KV and credentials comparisons),',
    '     BENCH_SNAPSHOT_MB (64, the data the snapshot scenario copies)',
  ].join('\n');
}

/** The scenarios named on the command line, in the canonical order; all of them if none is named. */
function selectScenarios(args: string[]): Scenario[] {
  const unknown = args.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')}\n\n${usage()}`);
  return args.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => args.includes(s.name));
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage());
    return 0;
  }
  installCleanupHandlers();
  const scenarios = selectScenarios(args);
  const context: BenchContext = { settings: settingsFromEnv() };
  const { seconds, connections } = context.settings;
  console.log(`leasehold bench: ${scenarios.map((s) => s.name).join(', ')} (${seconds} s per load run, ${connections} connections, node ${process.version})`);

  const startedAt = performance.now();
  const summary: ResultRow[] = [];
  let failed = false;
  for (const scenario of scenarios) {
    const scenarioStartedAt = performance.now();
    console.log(`\n== ${scenario.name}: ${scenario.summary}`);
    let rows: ResultRow[];
    try {
      rows = await scenario.run(context);
    } catch (error) {
      failed = true;
      console.error(error);
      rows = [{ scenario: scenario.name, measurement: 'FAILED', note: (error as Error).message.split('\n')[0] }];
    }
    printTable(`${scenario.name} (${((performance.now() - scenarioStartedAt) / 1000).toFixed(1)} s)`, rows);
    summary.push(...rows);
  }
  printTable(`Summary (whole bench ${((performance.now() - startedAt) / 1000).toFixed(0)} s)`, summary);
  return failed ? 1 : 0;
}

// process.exit rather than waiting for the loop to drain: a stray keep-alive socket must not hang the bench.
// The 'exit' handler still kills children and removes temp dirs.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
