/**
 * Prometheus series kept by Berth and formatted by prom-client only when scraped — for metrics
 * observed on every request or store call. prom-client's own `inc` / `observe` validate and hash the
 * label object on every call (~15 µs: 2–3 % of a Lease renewal's server CPU over HTTPS, see
 * bench/README.md "sched"); here a series is found once by one string key and updated in place. The
 * exposition stays prom-client's: a family registered here is a metric object its Registry formats
 * (`metrics()`, `getMetricsAsJSON()`, `Registry.merge`), line for line as its own Counter/Histogram.
 */
import type { Registry } from 'prom-client';

/** One value of a family as prom-client's registry formats it: own labels, shared labels, value. */
export interface MetricValue {
  labels: Record<string, string | number>;
  sharedLabels?: Readonly<Record<string, string>>;
  value: number;
  metricName?: string;
}

/** Registers a family whose values come from `values()` at scrape time; `reset` runs on registry.resetMetrics(). */
export function registerFamily(registries: Registry[], name: string, help: string, type: 'counter' | 'histogram', values: () => MetricValue[], reset: () => void): void {
  const data = () => ({ name, help, type, values: values(), aggregator: 'sum' as const });
  const family = {
    name, help, type, aggregator: 'sum' as const, reset,
    getForPromString: async () => data(),
    // prom-client's get() has each value's labels in one object.
    get: async () => {
      const d = data();
      return { ...d, values: d.values.map(({ sharedLabels, ...v }) => ({ ...v, labels: { ...sharedLabels, ...v.labels } })) };
    },
  };
  for (const r of registries) r.registerMetric(family as unknown as Parameters<Registry['registerMetric']>[0]);
}

/** One label set of a histogram: counts per bucket (not cumulative; the last slot is above every bound), sum, count. */
export class HistogramSeries {
  readonly buckets: number[];
  sum = 0;
  count = 0;

  constructor(readonly labels: Readonly<Record<string, string>>, private readonly bounds: readonly number[]) {
    this.buckets = new Array(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    this.buckets[i]++;
    this.sum += value;
    this.count++;
  }
}

/** The exposition values of histogram series: cumulative `_bucket`s with `le`, `+Inf`, `_sum`, `_count`. */
export function histogramValues(name: string, bounds: readonly number[], series: Iterable<HistogramSeries>): MetricValue[] {
  const out: MetricValue[] = [];
  const bucket = `${name}_bucket`;
  for (const s of series) {
    if (s.count === 0) continue;
    let acc = 0;
    bounds.forEach((le, i) => out.push({ labels: { le }, sharedLabels: s.labels, value: (acc += s.buckets[i]), metricName: bucket }));
    out.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket });
    out.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${name}_sum` });
    out.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${name}_count` });
  }
  return out;
}

/** A histogram of series found by a caller-made key (e.g. the label values joined by a space). */
export class KeyedHistogram {
  private readonly series = new Map<string, HistogramSeries>();
  private readonly bounds: readonly number[];

  constructor(opts: { name: string; help: string; buckets: readonly number[]; registers: Registry[] }) {
    this.bounds = opts.buckets;
    registerFamily(opts.registers, opts.name, opts.help, 'histogram', () => histogramValues(opts.name, this.bounds, this.series.values()), () => this.series.clear());
  }

  /** The series of `key`; `labels()` names it the first time. */
  get(key: string, labels: () => Record<string, string>): HistogramSeries {
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = new HistogramSeries(labels(), this.bounds)));
    return s;
  }
}
