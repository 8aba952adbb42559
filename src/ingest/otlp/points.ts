/**
 * OTLP data points into the agent's columns, shared by the JSON path (convert.ts) and the protobuf
 * decoder (wire.ts): metric contexts, series by their attributes, and points given as objects.
 */
import type { SeriesInput } from '../../collection/agent.js';
import { cumulate } from '../../domain/metrics/histogram.js';
import type { Labels } from '../../domain/metrics/kinds.js';
import type { ColumnarRequest } from './columns.js';

type Obj = Record<string, unknown>;

/** Resource attributes kept as labels; the rest describe the process, not the series. */
export const RESOURCE_LABELS = ['service.name', 'service.namespace', 'service.instance.id'] as const;

/** The kinds of a metric's data, in the order one is chosen when a metric (wrongly) carries several. */
export const METRIC_DATA = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const;
export type MetricData = (typeof METRIC_DATA)[number];

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** A data point refused: `field` is the path within the point (e.g. `.timeUnixNano`, or '' for the point). */
export class PointError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** A double from protobuf (number) or OTLP JSON (number, or "NaN" / "Infinity" / "-Infinity"). */
function double(v: unknown, field: string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  throw new PointError(field, `must be a number, got ${JSON.stringify(v)}`);
}

const DIGITS = /^-?\d+$/;
const UNSIGNED = /^\d+$/;

/** A 64-bit integer from protobuf (string with longs: String) or JSON (string or number). */
function int64(v: unknown, field: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && DIGITS.test(v)) return Number(v);
  throw new PointError(field, `must be an integer, got ${JSON.stringify(v)}`);
}

/** Nanoseconds since the epoch (a decimal string or a number) as whole milliseconds; absent or 0: now. */
function timeMs(v: unknown, now: number, field: string): number {
  if (v === undefined || v === null || v === '0' || v === 0) return now;
  // A decimal string divided by 10^6 (rounding down) is the string less its last six digits.
  if (typeof v === 'string' && UNSIGNED.test(v)) return v.length > 6 ? Number(v.slice(0, -6)) : 0;
  if (typeof v === 'number') return Number(BigInt(Math.trunc(v)) / 1_000_000n);
  throw new PointError(field, `must be nanoseconds since the epoch, got ${JSON.stringify(v)}`);
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

export function attributes(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list(v)) if (isObj(kv) && typeof kv.key === 'string') out[kv.key] = anyValue(kv.value);
  return out;
}

/** The labels a resource contributes (its RESOURCE_LABELS), from its attributes. */
export function resourceLabelsOf(resource: Record<string, string>): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const key of RESOURCE_LABELS) if (resource[key] !== undefined) labels[key] = resource[key]!;
  return labels;
}

/** What a metric's data points share. `key` determines, with a point's attributes, its series input. */
export interface MetricContext {
  readonly id: number;
  readonly name: string;
  readonly unit: string;
  readonly data: MetricData;
  readonly delta: boolean;
  readonly counter: boolean;
  readonly resourceLabels: Labels;
  /** The series of this context seen so far, by their attributes' key. */
  readonly series: ReturnType<ColumnarRequest['context']>;
}

export function metricContext(
  out: ColumnarRequest,
  path: string,
  fields: Omit<MetricContext, 'id' | 'series'>,
): MetricContext {
  const kind = fields.data === 'sum' ? (fields.counter ? 'counter' : 'gauge') : fields.data;
  return {
    ...fields,
    id: out.metric(`${path}.${fields.data}.dataPoints`),
    series: out.context(JSON.stringify([fields.resourceLabels, fields.name, fields.unit, kind])),
  };
}

/**
 * The series of a gauge or sum point, by a key that determines its attributes (each path its own
 * first letter, so keys of two paths never meet); labels are made on the first sight only.
 */
export function numberSeries(
  out: ColumnarRequest,
  metric: MetricContext,
  attributesKey: string | { buf: Buffer; start: number; end: number },
  labels: LabelSource,
): number {
  const bytes = typeof attributesKey !== 'string';
  const found = bytes
    ? out.findBytes(metric.series, attributesKey.buf, attributesKey.start, attributesKey.end)
    : out.find(metric.series, attributesKey);
  if (found >= 0) return found;
  const input: SeriesInput = {
    name: metric.name,
    labels: { ...metric.resourceLabels, ...labels.labels(labels.of) },
    unit: metric.unit,
    kind: metric.data === 'sum' && metric.counter ? 'counter' : 'gauge',
  };
  return bytes
    ? out.rememberBytes(metric.series, attributesKey.buf, attributesKey.start, attributesKey.end, input)
    : out.remember(metric.series, attributesKey, input);
}

/** Where a point's labels come from, read only when its series is new (no closure made per point). */
export interface LabelSource {
  labels(of: unknown): Labels;
  of: unknown;
}

const jsonLabels: LabelSource = { labels: attributes, of: undefined };

/**
 * A data point as an object (OTLP JSON, or a rare kind decoded from protobuf into that shape) into
 * the columns. Histograms become `_bucket{le}` (cumulative), `_sum` and `_count` series; summaries
 * `{quantile}`, `_sum` and `_count`. Exponential histograms are refused with the reason.
 */
export function objectPoint(out: ColumnarRequest, metric: MetricContext, dp: unknown, d: number, at: number) {
  const point = out.point(metric.id, d);
  try {
    if (!isObj(dp)) throw new PointError('', 'must be an object');
    if ((Number(dp.flags ?? 0) & 1) === 1) throw new PointError('.flags', 'no recorded value');
    const { name, unit, data, delta } = metric;
    if (data === 'gauge' || data === 'sum') {
      let key = 'j';
      for (const kv of list(dp.attributes))
        if (isObj(kv) && typeof kv.key === 'string') {
          const value = anyValue(kv.value);
          key += `${kv.key.length}:${kv.key}${value.length}:${value}`;
        }
      jsonLabels.of = dp.attributes;
      const series = numberSeries(out, metric, key, jsonLabels);
      const ts = timeMs(dp.timeUnixNano, at, '.timeUnixNano');
      const value =
        dp.asDouble !== undefined
          ? double(dp.asDouble, '.asDouble')
          : dp.asInt !== undefined
            ? int64(dp.asInt, '.asInt')
            : (() => {
                throw new PointError('', 'has neither asDouble nor asInt');
              })();
      // Delta sums, monotonic or not, are accumulated into their running total.
      out.emit(series, ts, value, data === 'sum' && delta);
      return;
    }
    const labels = { ...metric.resourceLabels, ...attributes(dp.attributes) };
    const ts = timeMs(dp.timeUnixNano, at, '.timeUnixNano');
    const emit = (input: SeriesInput, value: number, accumulate: boolean) =>
      out.emit(out.intern(metric.series, `o${JSON.stringify(input)}`, input), ts, value, accumulate && delta);
    if (data === 'histogram') {
      const bounds = list(dp.explicitBounds).map((b, i) => double(b, `.explicitBounds[${i}]`));
      const counts = list(dp.bucketCounts).map((c, i) => int64(c, `.bucketCounts[${i}]`));
      if (counts.length !== bounds.length + 1 && !(counts.length === 0 && bounds.length === 0)) {
        throw new PointError(
          '.bucketCounts',
          `has ${counts.length} counts for ${bounds.length} bounds (needs bounds + 1)`,
        );
      }
      const cumulative = cumulate(counts);
      const family = { family: name, unit, kind: 'histogram' as const };
      // A histogram with no buckets at all (allowed by OTLP) keeps only its count and sum.
      (counts.length ? [...bounds, Number.POSITIVE_INFINITY] : []).forEach((bound, i) => {
        const le = bound === Number.POSITIVE_INFINITY ? '+Inf' : String(bound);
        emit(
          { ...family, name: `${name}_bucket`, role: 'bucket', labels: { ...labels, le } },
          cumulative[i]!,
          true,
        );
      });
      const count = int64(dp.count ?? cumulative.at(-1) ?? 0, '.count');
      emit({ ...family, name: `${name}_count`, role: 'count', labels }, count, true);
      if (dp.sum !== undefined)
        emit({ ...family, name: `${name}_sum`, role: 'sum', labels }, double(dp.sum, '.sum'), true);
    } else if (data === 'summary') {
      const family = { family: name, unit, kind: 'summary' as const };
      list(dp.quantileValues).forEach((qv, i) => {
        if (!isObj(qv)) return;
        const quantile = double(qv.quantile ?? 0, `.quantileValues[${i}].quantile`);
        emit(
          { ...family, name, role: 'quantile', labels: { ...labels, quantile: String(quantile) } },
          double(qv.value ?? 0, `.quantileValues[${i}].value`),
          false,
        );
      });
      emit(
        { ...family, name: `${name}_count`, role: 'count', labels },
        int64(dp.count ?? 0, '.count'),
        false,
      );
      emit({ ...family, name: `${name}_sum`, role: 'sum', labels }, double(dp.sum ?? 0, '.sum'), false);
    } else {
      throw new PointError(
        '',
        'exponential histograms are not supported; configure the exporter for explicit-bucket histograms',
      );
    }
  } catch (error) {
    if (!(error instanceof PointError)) throw error;
    // Nothing of a refused point counts: its samples and the totals it moved are taken back.
    out.refuse(point, { path: out.pointPath(point) + error.field, message: error.message });
  }
}
