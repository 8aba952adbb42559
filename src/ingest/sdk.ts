import type { CollectionAgent, SeriesHandle } from '../collection/agent.js';
import { BucketHistogram } from '../domain/metrics/histogram.js';
import { seriesKey } from '../domain/metrics/identity.js';
import type { Labels } from '../domain/metrics/kinds.js';
import { StreamingSummary } from '../domain/metrics/summary.js';

export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
export const DEFAULT_QUANTILES = [0.5, 0.9, 0.99];

export interface Counter {
  /** Adds to the running total (default 1) and records the total. */
  inc(by?: number): void;
}
export interface Gauge {
  set(value: number, timestamp?: number): void;
}
export interface Observer {
  observe(value: number): void;
}

/**
 * The in-process SDK, for services that embed the library: counters, gauges, histograms and
 * summaries recorded straight into a collection agent. Counters and gauges record on every call
 * (event-driven); histograms and summaries keep their state here and record their component series
 * (`_bucket`/quantiles, `_sum`, `_count`) each time `collect()` runs — the agent's periodic mode calls it.
 */
export function createMetricsSdk(agent: CollectionAgent) {
  const handles = new Map<string, SeriesHandle>();
  const histograms = new Map<string, { name: string; labels: Labels; histogram: BucketHistogram }>();
  const summaries = new Map<
    string,
    { name: string; labels: Labels; summary: StreamingSummary; quantiles: number[] }
  >();
  const totals = new Map<string, number>();

  const handle = (key: string, make: () => SeriesHandle) => {
    let h = handles.get(key);
    if (!h) {
      h = make();
      handles.set(key, h);
    }
    return h;
  };

  const sdk = {
    counter(name: string, labels: Labels = {}): Counter {
      const key = seriesKey(name, labels);
      const h = handle(key, () => agent.series({ name, labels, kind: 'counter' }));
      return {
        inc(by = 1) {
          if (!(by >= 0)) throw new Error(`counter ${name} can only go up (got ${by})`);
          const total = (totals.get(key) ?? 0) + by;
          totals.set(key, total);
          agent.record(h, total);
        },
      };
    },
    gauge(name: string, labels: Labels = {}): Gauge {
      const h = handle(seriesKey(name, labels), () => agent.series({ name, labels, kind: 'gauge' }));
      return { set: (value, timestamp) => void agent.record(h, value, timestamp) };
    },
    histogram(name: string, labels: Labels = {}, buckets: readonly number[] = DEFAULT_BUCKETS): Observer {
      const key = seriesKey(name, labels);
      let entry = histograms.get(key);
      if (!entry) {
        entry = { name, labels, histogram: new BucketHistogram(buckets) };
        histograms.set(key, entry);
      }
      const { histogram } = entry;
      return { observe: (value) => histogram.observe(value) };
    },
    summary(name: string, labels: Labels = {}, quantiles: readonly number[] = DEFAULT_QUANTILES): Observer {
      const key = seriesKey(name, labels);
      let entry = summaries.get(key);
      if (!entry) {
        entry = { name, labels, summary: new StreamingSummary(), quantiles: [...quantiles] };
        summaries.set(key, entry);
      }
      const { summary } = entry;
      return { observe: (value) => summary.observe(value) };
    },
    recordCounter(name: string, labels: Labels, increment = 1): void {
      sdk.counter(name, labels).inc(increment);
    },
    recordGauge(name: string, labels: Labels, value: number, timestamp?: number): void {
      sdk.gauge(name, labels).set(value, timestamp);
    },
    recordHistogram(name: string, labels: Labels, value: number, buckets?: readonly number[]): void {
      sdk.histogram(name, labels, buckets).observe(value);
    },
    recordSummary(name: string, labels: Labels, value: number): void {
      sdk.summary(name, labels).observe(value);
    },
    /** Records every histogram's and summary's component series now. */
    collect(timestamp = Date.now()): void {
      for (const { name, labels, histogram } of histograms.values()) {
        const cumulative = histogram.cumulativeCounts();
        const common = { kind: 'histogram' as const, family: name };
        [...histogram.bounds, Number.POSITIVE_INFINITY].forEach((bound, i) => {
          const le = bound === Number.POSITIVE_INFINITY ? '+Inf' : String(bound);
          const h = handle(seriesKey(`${name}_bucket`, { ...labels, le }), () =>
            agent.series({ ...common, name: `${name}_bucket`, role: 'bucket', labels: { ...labels, le } }),
          );
          agent.record(h, cumulative[i]!, timestamp);
        });
        const count = handle(seriesKey(`${name}_count`, labels), () =>
          agent.series({ ...common, name: `${name}_count`, role: 'count', labels }),
        );
        const sum = handle(seriesKey(`${name}_sum`, labels), () =>
          agent.series({ ...common, name: `${name}_sum`, role: 'sum', labels }),
        );
        agent.record(count, histogram.count, timestamp);
        agent.record(sum, histogram.sum, timestamp);
      }
      for (const { name, labels, summary, quantiles } of summaries.values()) {
        if (summary.count === 0) continue;
        const common = { kind: 'summary' as const, family: name };
        for (const q of quantiles) {
          const qLabels = { ...labels, quantile: String(q) };
          const h = handle(seriesKey(name, qLabels), () =>
            agent.series({ ...common, name, role: 'quantile', labels: qLabels }),
          );
          agent.record(h, summary.quantile(q), timestamp);
        }
        const count = handle(seriesKey(`${name}_count`, labels), () =>
          agent.series({ ...common, name: `${name}_count`, role: 'count', labels }),
        );
        const sum = handle(seriesKey(`${name}_sum`, labels), () =>
          agent.series({ ...common, name: `${name}_sum`, role: 'sum', labels }),
        );
        agent.record(count, summary.count, timestamp);
        agent.record(sum, summary.sum, timestamp);
      }
    },

    /**
     * The point of durability: collects histograms and summaries, then resolves once everything
     * recorded before the call is in the log (or fsynced to the agent's spool). Until then, a crash
     * of the process loses it: the agent cuts its buffer every `batchMaxDelayMs` (1 s by default).
     */
    async flush(): Promise<void> {
      sdk.collect();
      await agent.flush();
    },
  };
  return sdk;
}

export type MetricsSdk = ReturnType<typeof createMetricsSdk>;
