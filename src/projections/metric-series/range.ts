import { ValidationError } from '../../domain/errors.js';
import { type AnalyticsStore, queryRows } from '../../stores/clickhouse/client.js';
import { bucketRates, rateKey } from './rate.js';
import { checkSelector, resolveKnown, resolveSeries, type SeriesSelector, seriesFilter } from './selector.js';
import { bucketStats, overLimit, type StatsRow } from './stats.js';
import {
  type Bucket,
  isQuantile,
  type Point,
  type QuantileFunction,
  type SeriesBucket,
  type SeriesFunction,
  type SeriesInfo,
  type TimeRange,
} from './types.js';

/** Points (raw samples or buckets) one range query may answer: default and most. */
export const DEFAULT_POINT_LIMIT = 10_000;
export const MAX_POINT_LIMIT = 100_000;

export interface RangeQuery {
  readonly selector: SeriesSelector;
  readonly from: number;
  readonly to: number;
  /** Bucket width in ms (a positive integer); absent or null: the raw samples. */
  readonly stepMs?: number | null;
  /** With a step: what each bucket answers (count, sum, min, max and avg always come). */
  readonly functions?: readonly SeriesFunction[];
  /** At most this many points in all; more is an error naming `limit`. */
  readonly limit?: number;
}

export interface SeriesRange {
  readonly series: SeriesInfo;
  /** Raw samples, oldest first (without a step). */
  readonly points: readonly Point[] | null;
  /** Buckets holding samples, oldest first (with a step). */
  readonly buckets: readonly SeriesBucket[] | null;
}

function invalid(path: string, message: string): never {
  throw new ValidationError(`${path}: ${message}`, [{ path, message }]);
}

/** Checks a range and step as every series query takes them. */
export function checkRange(from: number, to: number, stepMs?: number | null): void {
  if (!Number.isFinite(from) || !Number.isFinite(to) || !(from < to)) invalid('to', 'must be after from');
  if (stepMs !== undefined && stepMs !== null && (!Number.isInteger(stepMs) || stepMs < 1))
    invalid('stepMs', `must be a positive whole number of milliseconds, got ${stepMs}`);
}

const TS_RANGE =
  "ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({to:Int64}, 'UTC')";

/** Raw samples of the given series in `[from, to)`, by series then time; more than `limit` is an error. */
async function rawPoints(
  store: AnalyticsStore,
  ids: readonly string[],
  from: number,
  to: number,
  limit: number,
): Promise<Map<string, Point[]>> {
  const out = new Map<string, Point[]>();
  if (!ids.length) return out;
  // Output aliases never reuse a column name: ClickHouse resolves aliases in WHERE too.
  const rows = await queryRows<{ seriesId: string; tsMs: string; value: number }>(
    store,
    `SELECT toString(series_id) AS seriesId, toUnixTimestamp64Milli(ts) AS tsMs, value
       FROM ${store.table('samples')}
      WHERE series_id IN {ids:Array(UInt64)} AND ${TS_RANGE}
      ORDER BY series_id, ts
      LIMIT {limit:UInt32}`,
    { ids: ids.map((id) => BigInt(id)), from, to, limit: limit + 1 },
  );
  if (rows.length > limit) overLimit(limit, 'samples');
  for (const row of rows) {
    const list = out.get(row.seriesId) ?? [];
    out.set(row.seriesId, list);
    list.push({ ts: Number(row.tsMs), value: row.value });
  }
  return out;
}

/**
 * One or many series over `[from, to)`: their raw samples, or with a step their buckets `[t, t + step)`
 * (t a multiple of the step since the epoch), each holding only samples inside the range. Series with
 * no sample in the range are left out. See `plan.ts` for which store serves which bucket.
 */
export async function seriesRange(store: AnalyticsStore, q: RangeQuery): Promise<SeriesRange[]> {
  checkRange(q.from, q.to, q.stepMs);
  const limit = q.limit ?? DEFAULT_POINT_LIMIT;
  const stepMs = q.stepMs ?? null;
  if (stepMs === null && q.functions?.length) invalid('functions', 'apply to buckets: give stepMs too');
  const functions = new Set(q.functions ?? []);
  if (stepMs !== null && !functions.has('rate')) {
    // The buckets by a condition on the series (given ids, or the catalogue as a subquery), so that
    // they need not wait for the catalogue's answer (a server runs both at once; chDB one after the
    // other), and series named by ids already read are not asked of the catalogue at all.
    await checkSelector(store, q.selector, 'selector');
    const quantiles = [...functions].filter(isQuantile);
    const [series, stats] = await Promise.allSettled([
      resolveKnown(store, q.selector, 'selector'),
      bucketStats(store, {
        ids: [],
        filter: seriesFilter(store, q.selector),
        from: q.from,
        to: q.to,
        stepMs,
        quantiles,
        limit,
      }),
    ]);
    // The selector's error first (too many series), as when the catalogue is asked first.
    if (series.status === 'rejected') throw series.reason;
    if (stats.status === 'rejected') throw stats.reason;
    return bucketsOf(series.value, stats.value, quantiles, null);
  }
  const series = await resolveSeries(store, q.selector, 'selector');
  const ids = series.map((s) => s.seriesId);
  if (stepMs === null) {
    const points = await rawPoints(store, ids, q.from, q.to, limit);
    return series.flatMap((s) => {
      const mine = points.get(s.seriesId);
      return mine ? [{ series: s, points: mine, buckets: null }] : [];
    });
  }
  const quantiles = [...functions].filter(isQuantile);
  const stats = await bucketStats(store, { ids, from: q.from, to: q.to, stepMs, quantiles, limit });
  const rates = await bucketRates(store, { ids, from: q.from, to: q.to, stepMs });
  return bucketsOf(series, stats, quantiles, rates);
}

/** The buckets of each series that has some (in the catalogue's order), from the statistics rows. */
function bucketsOf(
  series: readonly SeriesInfo[],
  stats: readonly StatsRow[],
  quantiles: readonly QuantileFunction[],
  rates: Map<string, number> | null,
): SeriesRange[] {
  const buckets = new Map<string, SeriesBucket[]>();
  for (const row of stats) {
    const list = buckets.get(row.key) ?? [];
    buckets.set(row.key, list);
    const bucket: SeriesBucket = {
      ts: row.ts,
      count: row.count,
      sum: row.sum,
      min: row.min,
      max: row.max,
      avg: row.sum / row.count,
      fromRollups: row.fromRollups,
      ...Object.fromEntries(quantiles.map((fn, i) => [fn, row.quantiles[i]])),
      ...(rates ? { rate: rates.get(rateKey(row.key, row.ts)) ?? 0 } : {}),
    };
    list.push(bucket);
  }
  return series.flatMap((s) => {
    const mine = buckets.get(s.seriesId);
    return mine ? [{ series: s, points: null, buckets: mine }] : [];
  });
}

/** The ids a selector names: given ones as they are, others through the catalogue. */
export async function idsOf(store: AnalyticsStore, selector: SeriesSelector): Promise<string[]> {
  const keys = Object.entries(selector)
    .filter(([, v]) => v !== undefined)
    .map(([k]) => k);
  if (keys.every((k) => k === 'seriesId' || k === 'seriesIds')) {
    await checkSelector(store, selector, 'selector');
    return [...(selector.seriesId === undefined ? [] : [selector.seriesId]), ...(selector.seriesIds ?? [])];
  }
  return (await resolveSeries(store, selector, 'selector')).map((s) => s.seriesId);
}

/** Raw samples of the selected series in `[from, to)`, by series then time; at most `limit`. */
export async function rawRange(
  store: AnalyticsStore,
  selector: SeriesSelector,
  r: TimeRange,
  limit = 100_000,
): Promise<(Point & { seriesId: string })[]> {
  const ids = await idsOf(store, selector);
  if (!ids.length) return [];
  const rows = await queryRows<{ seriesId: string; tsMs: string; value: number }>(
    store,
    `SELECT toString(series_id) AS seriesId, toUnixTimestamp64Milli(ts) AS tsMs, value
       FROM ${store.table('samples')}
      WHERE series_id IN {ids:Array(UInt64)} AND ${TS_RANGE}
      ORDER BY series_id, ts
      LIMIT {limit:UInt32}`,
    { ids: ids.map((id) => BigInt(id)), from: r.from.getTime(), to: r.to.getTime(), limit },
  );
  return rows.map((row) => ({ seriesId: row.seriesId, ts: Number(row.tsMs), value: row.value }));
}

/** The selected series, all of them together, in buckets of `stepMs` (served as `plan.ts` says). */
export async function downsample(
  store: AnalyticsStore,
  selector: SeriesSelector,
  r: TimeRange,
  stepMs: number,
): Promise<Bucket[]> {
  checkRange(r.from.getTime(), r.to.getTime(), stepMs);
  const ids = await idsOf(store, selector);
  const rows = await bucketStats(store, {
    ids,
    groups: ids.map(() => 0),
    from: r.from.getTime(),
    to: r.to.getTime(),
    stepMs,
    quantiles: [],
  });
  return rows.map(({ ts, count, sum, min, max }) => ({ ts, count, sum, min, max, avg: sum / count }));
}
