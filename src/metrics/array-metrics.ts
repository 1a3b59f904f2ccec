import type { Registry } from 'prom-client';

/** One sample as prom-client's registry formats it (the shape its own metrics' get() return). */
interface Sample {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName?: string;
}

/** A metric whose samples are computed at scrape time from counters kept elsewhere (typed arrays). */
interface ComputedMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: 'sum' }>;
}

/**
 * Registers a counter family whose series are read at scrape time: `series` yields label sets and
 * values. prom-client formats it exactly like its own Counter; nothing is counted through it.
 */
export function registerComputedCounter(
  registry: Registry,
  name: string,
  help: string,
  series: () => Promise<Iterable<[Record<string, string>, number]>>,
): void {
  const metric: ComputedMetric = {
    name,
    help,
    type: 'counter',
    aggregator: 'sum',
    async get() {
      const values: Sample[] = [];
      for (const [labels, value] of await series()) values.push({ labels, value });
      return { name, help, type: 'counter', values, aggregator: 'sum' };
    },
  };
  registry.registerMetric(metric as never);
}

/** One labelled histogram series: counts per bucket (not cumulative, the last above every bound) and the sum. */
export interface HistogramSeries {
  labels: Record<string, string>;
  counts: ArrayLike<number>;
  sum: number;
}

/**
 * Registers a histogram family read at scrape time, formatted as prom-client's Histogram formats it
 * (`_bucket` with `le` first and cumulative counts, `_sum`, `_count`).
 */
export function registerComputedHistogram(
  registry: Registry,
  name: string,
  help: string,
  bounds: readonly number[],
  series: () => Promise<Iterable<HistogramSeries>>,
): void {
  const metric: ComputedMetric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const values: Sample[] = [];
      for (const s of await series()) {
        let acc = 0;
        for (let b = 0; b < bounds.length; b++) {
          acc += s.counts[b];
          values.push({ labels: { le: bounds[b] }, sharedLabels: s.labels, value: acc, metricName: `${name}_bucket` });
        }
        acc += s.counts[bounds.length];
        values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: acc, metricName: `${name}_bucket` });
        values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${name}_sum` });
        values.push({ labels: { ...s.labels }, value: acc, metricName: `${name}_count` });
      }
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    },
  };
  registry.registerMetric(metric as never);
}
