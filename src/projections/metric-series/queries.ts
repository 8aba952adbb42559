import type { Labels } from '../../domain/metrics/kinds.js';
import { type AnalyticsStore, queryRows } from '../../stores/clickhouse/client.js';

/** Which series: by id, or by metric name and exact label matches. */
export type SeriesSelector =
  | { readonly seriesId: string }
  | { readonly name: string; readonly labels?: Labels };

export interface TimeRange {
  readonly from: Date;
  readonly to: Date;
}

export interface SeriesInfo {
  readonly seriesId: string;
  readonly name: string;
  readonly family: string;
  readonly kind: string;
  readonly role: string;
  readonly unit: string;
  readonly labels: Labels;
}

export interface Point {
  readonly ts: number;
  readonly value: number;
}

export interface Bucket {
  readonly ts: number;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  readonly avg: number;
}

export type AggregateFunction = 'avg' | 'min' | 'max' | 'sum' | 'count' | 'p50' | 'p90' | 'p99' | 'rate';

interface Sql {
  readonly where: string;
  readonly params: Record<string, unknown>;
}

const LABEL_KEY = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** SQL for the ids a selector names, as a subquery over the catalogue. */
function selectIds(store: AnalyticsStore, selector: SeriesSelector): Sql {
  if ('seriesId' in selector)
    return { where: 'series_id = {seriesId:UInt64}', params: { seriesId: selector.seriesId } };
  const params: Record<string, unknown> = { name: selector.name };
  const conditions = ['name = {name:String}'];
  Object.entries(selector.labels ?? {}).forEach(([key, value], i) => {
    if (!LABEL_KEY.test(key)) throw new Error(`invalid label name '${key}'`);
    conditions.push(`labels[{k${i}:String}] = {v${i}:String}`);
    params[`k${i}`] = key;
    params[`v${i}`] = value;
  });
  return {
    where: `series_id IN (SELECT series_id FROM ${store.table('series')} WHERE ${conditions.join(' AND ')})`,
    params,
  };
}

const range = (r: TimeRange) => ({ from: r.from.getTime(), to: r.to.getTime() });
const TS_RANGE =
  "ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({to:Int64}, 'UTC')";

export async function findSeries(
  store: AnalyticsStore,
  filter: { name?: string; labels?: Labels; limit?: number },
): Promise<SeriesInfo[]> {
  const selector =
    filter.name === undefined ? null : selectIds(store, { name: filter.name, labels: filter.labels ?? {} });
  return queryRows<SeriesInfo>(
    store,
    `SELECT toString(series_id) AS seriesId, name, family, kind, role, unit, labels
       FROM ${store.table('series')} FINAL
      ${selector ? `WHERE ${selector.where}` : ''}
      ORDER BY name, seriesId
      LIMIT {limit:UInt32}`,
    { ...(selector?.params ?? {}), limit: Math.min(filter.limit ?? 1000, 100_000) },
  );
}

/** Raw samples of the selected series in [from, to), oldest first. */
export async function rawRange(
  store: AnalyticsStore,
  selector: SeriesSelector,
  r: TimeRange,
  limit = 100_000,
): Promise<(Point & { seriesId: string })[]> {
  const ids = selectIds(store, selector);
  // Output aliases never reuse a column name: ClickHouse resolves aliases in WHERE too.
  const rows = await queryRows<{ seriesId: string; tsMs: string; value: number }>(
    store,
    `SELECT toString(series_id) AS seriesId, toUnixTimestamp64Milli(ts) AS tsMs, value
       FROM ${store.table('samples')}
      WHERE ${ids.where} AND ${TS_RANGE}
      ORDER BY series_id, ts
      LIMIT {limit:UInt32}`,
    { ...ids.params, ...range(r), limit },
  );
  return rows.map((row) => ({ seriesId: row.seriesId, ts: Number(row.tsMs), value: row.value }));
}

/**
 * The selected series (all of them together) in buckets of `stepMs`, from the coarsest store that
 * serves the step: raw samples below a minute, the 1-minute rollup below an hour, else the 1-hour one.
 */
export async function downsample(
  store: AnalyticsStore,
  selector: SeriesSelector,
  r: TimeRange,
  stepMs: number,
): Promise<Bucket[]> {
  if (!Number.isInteger(stepMs) || stepMs < 1) throw new Error('stepMs must be a positive whole number');
  const ids = selectIds(store, selector);
  const params = { ...ids.params, ...range(r), step: stepMs };
  const bucketOf = (column: string) =>
    `toUnixTimestamp64Milli(toDateTime64(${column}, 3, 'UTC')) - toUnixTimestamp64Milli(toDateTime64(${column}, 3, 'UTC')) % {step:Int64}`;
  let query: string;
  if (stepMs < 60_000 || stepMs % 60_000 !== 0) {
    query = `SELECT ${bucketOf('ts')} AS bucketMs, count() AS n, sum(value) AS total, min(value) AS low, max(value) AS high
               FROM ${store.table('samples')} WHERE ${ids.where} AND ${TS_RANGE}
              GROUP BY bucketMs ORDER BY bucketMs`;
  } else {
    const table = stepMs < 3_600_000 || stepMs % 3_600_000 !== 0 ? 'samples_1m' : 'samples_1h';
    query = `SELECT ${bucketOf('bucket')} AS bucketMs, sum(count) AS n, sum(sum) AS total, min(min) AS low, max(max) AS high
               FROM ${store.table(table)}
              WHERE ${ids.where}
                AND bucket >= toDateTime(intDiv({from:Int64}, 1000), 'UTC') AND bucket < toDateTime(intDiv({to:Int64}, 1000), 'UTC')
              GROUP BY bucketMs ORDER BY bucketMs`;
  }
  const rows = await queryRows<{ bucketMs: string; n: string; total: number; low: number; high: number }>(
    store,
    query,
    params,
  );
  return rows.map((row) => ({
    ts: Number(row.bucketMs),
    count: Number(row.n),
    sum: row.total,
    min: row.low,
    max: row.high,
    avg: Number(row.n) ? row.total / Number(row.n) : Number.NaN,
  }));
}

/**
 * One aggregate over the range per group of series, grouped by the given labels (none: one group).
 * `rate` is the per-second increase of each counter series, with resets handled, summed per group.
 */
export async function aggregate(
  store: AnalyticsStore,
  query: { name: string; labels?: Labels; groupBy?: readonly string[]; fn: AggregateFunction } & TimeRange,
): Promise<{ labels: Labels; value: number }[]> {
  const ids = selectIds(store, { name: query.name, labels: query.labels ?? {} });
  const groupBy = query.groupBy ?? [];
  for (const key of groupBy) if (!LABEL_KEY.test(key)) throw new Error(`invalid label name '${key}'`);
  const params: Record<string, unknown> = { ...ids.params, ...range(query) };
  const groupColumns = groupBy.map((key, i) => {
    params[`g${i}`] = key;
    return `s.labels[{g${i}:String}]`;
  });
  const groupTuple = groupColumns.length ? `[${groupColumns.join(', ')}]` : 'CAST([] AS Array(String))';
  const base = `SELECT x.series_id AS series_id, x.ts AS ts, x.value AS value, ${groupTuple} AS grp
                  FROM ${store.table('samples')} AS x
                  INNER JOIN (SELECT series_id, labels FROM ${store.table('series')} FINAL) AS s ON s.series_id = x.series_id
                 WHERE x.${ids.where} AND x.${TS_RANGE.replaceAll(' AND ts', ' AND x.ts')}`;
  const fn: Record<Exclude<AggregateFunction, 'rate'>, string> = {
    avg: 'avg(value)',
    min: 'min(value)',
    max: 'max(value)',
    sum: 'sum(value)',
    count: 'toFloat64(count())',
    p50: 'quantileTDigest(0.5)(value)',
    p90: 'quantileTDigest(0.9)(value)',
    p99: 'quantileTDigest(0.99)(value)',
  };
  const sql =
    query.fn === 'rate'
      ? `SELECT grp, sum(rate) AS value FROM (
           SELECT grp, series_id, arraySort((p) -> p.1, groupArray((ts, value))) AS points,
                  arrayMap((p) -> p.2, points) AS v,
                  arraySum(arrayMap((a, b) -> if(b >= a, b - a, b), arrayPopBack(v), arrayPopFront(v))) AS increase,
                  (toUnixTimestamp64Milli(points[-1].1) - toUnixTimestamp64Milli(points[1].1)) / 1000 AS seconds,
                  if(seconds > 0, increase / seconds, 0) AS rate
             FROM (${base}) GROUP BY grp, series_id)
         GROUP BY grp ORDER BY grp`
      : `SELECT grp, ${fn[query.fn]} AS value FROM (${base}) GROUP BY grp ORDER BY grp`;
  const rows = await queryRows<{ grp: string[]; value: number }>(store, sql, params);
  return rows.map((row) => ({
    labels: Object.fromEntries(groupBy.map((key, i) => [key, row.grp[i] ?? ''])),
    value: row.value,
  }));
}

/**
 * Pearson correlation of two series over the range, after averaging each into buckets of `stepMs` and
 * pairing the buckets both have. NaN with fewer than two common buckets.
 */
export async function correlation(
  store: AnalyticsStore,
  a: SeriesSelector,
  b: SeriesSelector,
  r: TimeRange & { stepMs: number },
): Promise<{ pearson: number; buckets: number }> {
  const left = selectIds(store, a);
  const right = selectIds(store, b);
  const rename = (sql: Sql, prefix: string): Sql => {
    let where = sql.where;
    const params: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(sql.params)) {
      where = where.replaceAll(`{${key}:`, `{${prefix}${key}:`);
      params[`${prefix}${key}`] = value;
    }
    return { where, params };
  };
  const l = rename(left, 'a_');
  const rr = rename(right, 'b_');
  const side = (sql: Sql) =>
    `SELECT intDiv(toUnixTimestamp64Milli(ts), {step:Int64}) AS bucket, avg(value) AS v
       FROM ${store.table('samples')} WHERE ${sql.where} AND ${TS_RANGE} GROUP BY bucket`;
  const [row] = await queryRows<{ pearson: number | null; buckets: string }>(
    store,
    `SELECT corr(l.v, r.v) AS pearson, count() AS buckets
       FROM (${side(l)}) AS l INNER JOIN (${side(rr)}) AS r ON l.bucket = r.bucket`,
    { ...l.params, ...rr.params, ...range(r), step: r.stepMs },
  );
  const buckets = Number(row?.buckets ?? 0);
  return {
    pearson:
      buckets >= 2 && row?.pearson !== null && row?.pearson !== undefined ? Number(row.pearson) : Number.NaN,
    buckets,
  };
}
