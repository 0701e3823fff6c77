// The bench's result rows and how they are printed: one table per scenario and one summary table at the end.
import type { LoadResult, ServerLoadResult } from './load';

/** One line of a results table. Empty cells are left blank. */
export interface ResultRow {
  scenario: string;
  measurement: string;
  requestsPerSecond?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** Anything but a 2xx answer (must be 0 for the numbers to mean anything). */
  failures?: number;
  rssMiB?: number;
  /** The server's CPU time per request (where the server is a child process we can read). */
  cpuMsPerRequest?: number;
  /** Ratios, timings and anything else that does not fit a column. */
  note?: string;
}

/** A row from a load result. */
export function loadRow(scenario: string, measurement: string, load: LoadResult | ServerLoadResult, extra: Partial<ResultRow> = {}): ResultRow {
  const server = 'cpuMsPerRequest' in load ? { cpuMsPerRequest: load.cpuMsPerRequest, rssMiB: load.rssMiB } : {};
  return { scenario, measurement, requestsPerSecond: load.requestsPerSecond, p50Ms: load.p50Ms, p99Ms: load.p99Ms, failures: load.failures, ...server, ...extra };
}

/** The median of the finite values (NaN if there are none). */
export function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Milliseconds with sensible precision: 0.42, 3.1, 1,234. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return integer.format(ms);
}

/** "0.31x": how `value` compares with `reference`. */
export function formatRatio(value: number, reference: number): string {
  if (!(reference > 0) || !Number.isFinite(value)) return '-';
  const ratio = value / reference;
  return `${ratio < 10 ? ratio.toFixed(2) : ratio.toFixed(0)}x`;
}

const COLUMNS: { header: string; cell: (row: ResultRow) => string; right: boolean }[] = [
  { header: 'scenario', cell: (r) => r.scenario, right: false },
  { header: 'measurement', cell: (r) => r.measurement, right: false },
  { header: 'req/s', cell: (r) => (r.requestsPerSecond === undefined ? '' : integer.format(r.requestsPerSecond)), right: true },
  { header: 'p50 ms', cell: (r) => (r.p50Ms === undefined ? '' : formatMs(r.p50Ms)), right: true },
  { header: 'p99 ms', cell: (r) => (r.p99Ms === undefined ? '' : formatMs(r.p99Ms)), right: true },
  { header: 'fail', cell: (r) => (r.failures === undefined ? '' : integer.format(r.failures)), right: true },
  { header: 'CPU ms/req', cell: (r) => (r.cpuMsPerRequest === undefined ? '' : r.cpuMsPerRequest.toFixed(3)), right: true },
  { header: 'RSS MiB', cell: (r) => (r.rssMiB === undefined ? '' : integer.format(r.rssMiB)), right: true },
  { header: 'note', cell: (r) => r.note ?? '', right: false },
];

/** Prints `rows` as an aligned plain-text table under `title`. */
export function printTable(title: string, rows: ResultRow[]): void {
  const cells = rows.map((row) => COLUMNS.map((c) => c.cell(row)));
  const widths = COLUMNS.map((c, i) => Math.max(c.header.length, ...cells.map((line) => (line[i] as string).length)));
  const format = (line: string[]) =>
    line
      .map((text, i) => (COLUMNS[i]?.right ? text.padStart(widths[i] as number) : text.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  console.log(`\n${title}`);
  console.log(format(COLUMNS.map((c) => c.header)));
  console.log(format(widths.map((w) => '-'.repeat(w))));
  for (const line of cells) console.log(format(line));
}
