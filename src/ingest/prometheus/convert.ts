import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { SampleInput } from '../../collection/agent.js';

/** Prometheus number text: `1.5e3`, `+Inf`, `-Inf`, `NaN`. */
function number(text: string | undefined): number {
  if (text === undefined) return Number.NaN;
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/**
 * Parses a Prometheus text exposition (with the maintained `parse-prometheus-text-format` parser) into
 * samples: counters and gauges as they are (untyped as gauges), histograms as `_bucket{le}`, `_sum` and
 * `_count`, summaries as `{quantile}`, `_sum` and `_count`. `extraLabels` (e.g. the scrape target) are
 * added to every sample; a sample's own timestamp wins over `scrapedAt`.
 */
export function prometheusTextToSamples(
  text: string,
  scrapedAt: number,
  extraLabels: Record<string, string> = {},
): SampleInput[] {
  const out: SampleInput[] = [];
  for (const family of parsePrometheusTextFormat(text)) {
    for (const metric of family.metrics) {
      const labels = { ...(metric.labels ?? {}), ...extraLabels };
      const timestamp = metric.timestamp_ms !== undefined ? Number(metric.timestamp_ms) : scrapedAt;
      const name = family.name;
      switch (family.type) {
        case 'COUNTER':
          out.push({ name, labels, kind: 'counter', value: number(metric.value), timestamp });
          break;
        case 'GAUGE':
        case 'UNTYPED':
          out.push({ name, labels, kind: 'gauge', value: number(metric.value), timestamp });
          break;
        case 'HISTOGRAM': {
          const common = { kind: 'histogram' as const, family: name, timestamp };
          for (const [le, count] of Object.entries(metric.buckets ?? {})) {
            out.push({
              ...common,
              name: `${name}_bucket`,
              role: 'bucket',
              labels: { ...labels, le },
              value: number(count),
            });
          }
          out.push({ ...common, name: `${name}_count`, role: 'count', labels, value: number(metric.count) });
          out.push({ ...common, name: `${name}_sum`, role: 'sum', labels, value: number(metric.sum) });
          break;
        }
        case 'SUMMARY': {
          const common = { kind: 'summary' as const, family: name, timestamp };
          for (const [quantile, value] of Object.entries(metric.quantiles ?? {})) {
            out.push({
              ...common,
              name,
              role: 'quantile',
              labels: { ...labels, quantile },
              value: number(value),
            });
          }
          out.push({ ...common, name: `${name}_count`, role: 'count', labels, value: number(metric.count) });
          out.push({ ...common, name: `${name}_sum`, role: 'sum', labels, value: number(metric.sum) });
          break;
        }
      }
    }
  }
  return out;
}
