// A Prometheus summary that is cheap to observe: count, sum, min and max as plain numbers and the
// last WINDOW observations in a ring, from which the quantiles are computed at scrape time. It
// stands in for prom-client's Summary on the request path, whose t-digest insert costs ~0.3 µs
// (1.1 µs with an age window) per observation; this one costs a few array writes.

/** The quantiles Vault's Prometheus sink reports for every timer. */
export const SUMMARY_QUANTILES = [0.5, 0.9, 0.99] as const;

/** Observations kept for the quantiles: recent enough to follow load changes, enough for a p99. */
const WINDOW = 2048;

/** A metric as prom-client's Registry reads it from any registered object: `get()` and these fields. */
export interface ScrapedMetric {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'summary';
  aggregator: 'sum';
  values: Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>;
}

/** What the JSON form of sys/metrics reports for a sample (go-metrics' AggregateSample). */
export interface SampleAggregate {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Sum of squares, for Stddev. */
  sumSquares: number;
}

/** One summary series; registered in a prom-client Registry, which formats it like its own. */
export class WindowedSummary {
  readonly type = 'summary';
  readonly aggregator = 'sum';
  private count = 0;
  private sum = 0;
  private sumSquares = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private readonly ring = new Float64Array(WINDOW);
  private next = 0;

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  /** Records one value (milliseconds for Vault's timers). */
  observe(value: number): void {
    this.count += 1;
    this.sum += value;
    this.sumSquares += value * value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.ring[this.next] = value;
    this.next = (this.next + 1) % WINDOW;
  }

  /** Totals since start, for the JSON form. */
  aggregate(): SampleAggregate {
    return { count: this.count, sum: this.sum, min: this.count > 0 ? this.min : 0, max: this.count > 0 ? this.max : 0, sumSquares: this.sumSquares };
  }

  /** The quantile values over the recent window (NaN before the first observation, as Vault prints). */
  quantiles(): number[] {
    const kept = Math.min(this.count, WINDOW);
    if (kept === 0) return SUMMARY_QUANTILES.map(() => Number.NaN);
    const sorted = this.ring.slice(0, kept).sort();
    return SUMMARY_QUANTILES.map((q) => sorted[Math.min(kept - 1, Math.floor(q * kept))] as number);
  }

  /** prom-client's metric interface: the quantile lines, then `_sum` and `_count`. */
  async get(): Promise<ScrapedMetric> {
    const values: ScrapedMetric['values'] = this.quantiles().map((value, i) => ({ labels: { quantile: SUMMARY_QUANTILES[i] as number }, value }));
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.sum });
    values.push({ metricName: `${this.name}_count`, labels: {}, value: this.count });
    return { name: this.name, help: this.help, type: 'summary', aggregator: 'sum', values };
  }
}
