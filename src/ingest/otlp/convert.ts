import type { SampleInput } from '../../collection/agent.js';
import { cumulate } from '../../domain/metrics/histogram.js';
import { seriesKey } from '../../domain/metrics/identity.js';
import type { Labels } from '../../domain/metrics/kinds.js';
import type { Issue } from '../../domain/metrics/validation.js';
import type { TimeSlicer } from '../../runtime/yield.js';

type Obj = Record<string, unknown>;

/** Resource attributes kept as labels; the rest describe the process, not the series. */
export const RESOURCE_LABELS = ['service.name', 'service.namespace', 'service.instance.id'] as const;

export interface ConvertedRequest {
  readonly samples: SampleInput[];
  /** For each sample, the data point it came from (index into `points`). */
  readonly pointOfSample: number[];
  /** Path of every data point seen, e.g. `resourceMetrics[0].scopeMetrics[1].metrics[2].sum.dataPoints[0]`. */
  readonly points: string[];
  /** Data points refused during conversion (index into `points`), with the reason. */
  readonly rejected: Map<number, Issue>;
  /**
   * Running totals of delta series, by sample index: they become the converter's state only for
   * samples that were accepted (`commit`), so a refused or retried request never counts twice.
   */
  readonly deltas: Map<number, { key: string; total: number }>;
  commit(acceptedSamples: Iterable<number>): void;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

class PointError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** A double from protobuf (number) or OTLP JSON (number, or "NaN" / "Infinity" / "-Infinity"). */
function double(v: unknown, path: string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  throw new PointError(path, `must be a number, got ${JSON.stringify(v)}`);
}

/** A 64-bit integer from protobuf (string with longs: String) or JSON (string or number). */
function int64(v: unknown, path: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  throw new PointError(path, `must be an integer, got ${JSON.stringify(v)}`);
}

function timeMs(v: unknown, now: number, path: string): number {
  if (v === undefined || v === null || v === '0' || v === 0) return now;
  const ns =
    typeof v === 'string' && /^\d+$/.test(v)
      ? BigInt(v)
      : typeof v === 'number'
        ? BigInt(Math.trunc(v))
        : null;
  if (ns === null)
    throw new PointError(path, `must be nanoseconds since the epoch, got ${JSON.stringify(v)}`);
  return Number(ns / 1_000_000n);
}

function anyValue(v: unknown): string {
  if (!isObj(v)) return '';
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (typeof v.boolValue === 'boolean') return String(v.boolValue);
  if (v.intValue !== undefined) return String(v.intValue);
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  if (v.arrayValue !== undefined) return JSON.stringify(list((v.arrayValue as Obj).values).map(anyValue));
  if (v.bytesValue !== undefined) return String(v.bytesValue);
  return '';
}

function attributes(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list(v)) if (isObj(kv) && typeof kv.key === 'string') out[kv.key] = anyValue(kv.value);
  return out;
}

/**
 * Converts an OTLP metrics request (decoded from protobuf or parsed from JSON) into samples.
 * Sums that are monotonic become counters and the rest gauges; histograms become `_bucket{le}`
 * (cumulative), `_sum` and `_count` series; summaries `{quantile}`, `_sum` and `_count`. Delta
 * temporality is accumulated into cumulative values per series, so counters stay counters.
 * Exponential histograms are refused, per data point, with the reason.
 */
export function createOtlpConverter(now: () => number = Date.now) {
  const deltaTotals = new Map<string, number>();

  return async function convert(request: unknown, slicer?: TimeSlicer): Promise<ConvertedRequest> {
    const deltas = new Map<number, { key: string; total: number }>();
    const overlay = new Map<string, number>();
    const out: ConvertedRequest = {
      samples: [],
      pointOfSample: [],
      points: [],
      rejected: new Map(),
      deltas,
      commit(accepted) {
        for (const index of accepted) {
          const delta = deltas.get(index);
          if (delta) deltaTotals.set(delta.key, delta.total);
        }
      },
    };
    const at = now();
    /** For delta temporality: the running total so far, kept aside until the sample is accepted. */
    let pendingDeltas: { key: string; total: number }[] = [];
    /** The running totals the current data point moved, and what they were before (to undo a refused point). */
    let moved: [string, number | undefined][] = [];
    const accumulate = (name: string, labels: Labels, value: number, delta: boolean): number => {
      if (!delta) return value;
      const key = seriesKey(name, labels);
      const total = (overlay.get(key) ?? deltaTotals.get(key) ?? 0) + value;
      moved.push([key, overlay.get(key)]);
      overlay.set(key, total);
      pendingDeltas.push({ key, total });
      return total;
    };
    for (const [r, rm] of list(isObj(request) ? request.resourceMetrics : undefined).entries()) {
      if (!isObj(rm)) continue;
      const resource = attributes(isObj(rm.resource) ? rm.resource.attributes : undefined);
      const resourceLabels: Record<string, string> = {};
      for (const key of RESOURCE_LABELS)
        if (resource[key] !== undefined) resourceLabels[key] = resource[key]!;
      for (const [s, sm] of list(rm.scopeMetrics).entries()) {
        if (!isObj(sm)) continue;
        for (const [m, metric] of list(sm.metrics).entries()) {
          if (!isObj(metric)) continue;
          const base = `resourceMetrics[${r}].scopeMetrics[${s}].metrics[${m}]`;
          const name = typeof metric.name === 'string' ? metric.name : '';
          const unit = typeof metric.unit === 'string' ? metric.unit : '';
          const kindKey = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'].find((k) =>
            isObj(metric[k]),
          );
          if (!kindKey) continue;
          const data = metric[kindKey] as Obj;
          const delta = Number(data.aggregationTemporality ?? 0) === 1;
          for (const [d, dp] of list(data.dataPoints).entries()) {
            // A large request gives the event loop a turn now and then (health probes, other requests).
            if (slicer?.due()) await slicer.yield();
            const path = `${base}.${kindKey}.dataPoints[${d}]`;
            const point = out.points.length;
            out.points.push(path);
            const emitted: SampleInput[] = [];
            const emittedDeltas: ({ key: string; total: number } | null)[] = [];
            pendingDeltas = [];
            moved = [];
            const emit = (sample: SampleInput) => {
              emitted.push(sample);
              emittedDeltas.push(pendingDeltas.pop() ?? null);
              pendingDeltas = [];
            };
            try {
              if (!isObj(dp)) throw new PointError(path, 'must be an object');
              if ((Number(dp.flags ?? 0) & 1) === 1)
                throw new PointError(`${path}.flags`, 'no recorded value');
              const labels = { ...resourceLabels, ...attributes(dp.attributes) };
              const ts = timeMs(dp.timeUnixNano, at, `${path}.timeUnixNano`);
              if (kindKey === 'gauge' || kindKey === 'sum') {
                const value =
                  dp.asDouble !== undefined
                    ? double(dp.asDouble, `${path}.asDouble`)
                    : dp.asInt !== undefined
                      ? int64(dp.asInt, `${path}.asInt`)
                      : (() => {
                          throw new PointError(`${path}`, 'has neither asDouble nor asInt');
                        })();
                const counter = kindKey === 'sum' && data.isMonotonic === true;
                emit({
                  name,
                  labels,
                  unit,
                  kind: counter ? 'counter' : 'gauge',
                  // Delta sums, monotonic or not, are accumulated into their running total.
                  value: kindKey === 'sum' ? accumulate(name, labels, value, delta) : value,
                  timestamp: ts,
                });
              } else if (kindKey === 'histogram') {
                const bounds = list(dp.explicitBounds).map((b, i) =>
                  double(b, `${path}.explicitBounds[${i}]`),
                );
                const counts = list(dp.bucketCounts).map((c, i) => int64(c, `${path}.bucketCounts[${i}]`));
                if (counts.length !== bounds.length + 1 && !(counts.length === 0 && bounds.length === 0)) {
                  throw new PointError(
                    `${path}.bucketCounts`,
                    `has ${counts.length} counts for ${bounds.length} bounds (needs bounds + 1)`,
                  );
                }
                const cumulative = cumulate(counts);
                const family = { family: name, unit, kind: 'histogram' as const };
                // A histogram with no buckets at all (allowed by OTLP) keeps only its count and sum.
                (counts.length ? [...bounds, Number.POSITIVE_INFINITY] : []).forEach((bound, i) => {
                  const le = bound === Number.POSITIVE_INFINITY ? '+Inf' : String(bound);
                  const bucketLabels = { ...labels, le };
                  emit({
                    ...family,
                    name: `${name}_bucket`,
                    role: 'bucket',
                    labels: bucketLabels,
                    value: accumulate(`${name}_bucket`, bucketLabels, cumulative[i]!, delta),
                    timestamp: ts,
                  });
                });
                const count = int64(dp.count ?? cumulative.at(-1) ?? 0, `${path}.count`);
                emit({
                  ...family,
                  name: `${name}_count`,
                  role: 'count',
                  labels,
                  value: accumulate(`${name}_count`, labels, count, delta),
                  timestamp: ts,
                });
                if (dp.sum !== undefined) {
                  emit({
                    ...family,
                    name: `${name}_sum`,
                    role: 'sum',
                    labels,
                    value: accumulate(`${name}_sum`, labels, double(dp.sum, `${path}.sum`), delta),
                    timestamp: ts,
                  });
                }
              } else if (kindKey === 'summary') {
                const family = { family: name, unit, kind: 'summary' as const };
                list(dp.quantileValues).forEach((qv, i) => {
                  if (!isObj(qv)) return;
                  const quantile = double(qv.quantile ?? 0, `${path}.quantileValues[${i}].quantile`);
                  emit({
                    ...family,
                    name,
                    role: 'quantile',
                    labels: { ...labels, quantile: String(quantile) },
                    value: double(qv.value ?? 0, `${path}.quantileValues[${i}].value`),
                    timestamp: ts,
                  });
                });
                emit({
                  ...family,
                  name: `${name}_count`,
                  role: 'count',
                  labels,
                  value: int64(dp.count ?? 0, `${path}.count`),
                  timestamp: ts,
                });
                emit({
                  ...family,
                  name: `${name}_sum`,
                  role: 'sum',
                  labels,
                  value: double(dp.sum ?? 0, `${path}.sum`),
                  timestamp: ts,
                });
              } else {
                throw new PointError(
                  path,
                  'exponential histograms are not supported; configure the exporter for explicit-bucket histograms',
                );
              }
            } catch (error) {
              if (!(error instanceof PointError)) throw error;
              out.rejected.set(point, { path: error.path, message: error.message });
              // Nothing of a refused point counts: put back the totals it moved.
              for (const [key, total] of moved.reverse()) {
                if (total === undefined) overlay.delete(key);
                else overlay.set(key, total);
              }
              continue;
            }
            emitted.forEach((sample, i) => {
              const delta = emittedDeltas[i];
              if (delta) deltas.set(out.samples.length, delta);
              out.samples.push(sample);
              out.pointOfSample.push(point);
            });
          }
        }
      }
    }
    return out;
  };
}
