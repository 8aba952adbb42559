import { ValidationError } from '../../domain/errors.js';
import { type AnalyticsStore, queryRows } from '../../stores/clickhouse/client.js';
import { planSegments, ROLLUP_TIERS, type Segment } from './plan.js';
import { QUANTILES, type QuantileFunction } from './types.js';

/**
 * Per key and bucket statistics of samples, by series id (resolved beforehand: the catalogue is never
 * joined onto sample rows). The key is the series id, or a group number per series (`groups`).
 */
export interface StatsQuery {
  readonly ids: readonly string[];
  /** A group number per id (same order): rows are then per group. Absent: per series. */
  readonly groups?: readonly number[];
  readonly from: number;
  readonly to: number;
  /** Bucket width in ms; null for one bucket over the whole range (its `ts` is then 0). */
  readonly stepMs: number | null;
  readonly quantiles: readonly QuantileFunction[];
  /** At most this many rows; more is an error naming `limit`. */
  readonly limit?: number;
}

export interface StatsRow {
  readonly key: string;
  readonly ts: number;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  readonly fromRollups: boolean;
  /** In the order of the query's `quantiles`. */
  readonly quantiles: readonly number[];
}

export function overLimit(limit: number, what: string): never {
  const message = `the answer holds more than ${limit} ${what}; use a larger step, a shorter range, fewer series, or a larger limit`;
  throw new ValidationError(`limit: ${message}`, [{ path: 'limit', message }]);
}

/** The key column and the parameters it needs. */
export function keyColumn(q: Pick<StatsQuery, 'ids' | 'groups'>, params: Record<string, unknown>): string {
  params.ids = q.ids.map((id) => BigInt(id));
  if (!q.groups) return 'series_id';
  params.groups = q.groups;
  return 'transform(series_id, {ids:Array(UInt64)}, {groups:Array(UInt32)}, toUInt32(0))';
}

export const rawBucket = (stepMs: number | null) =>
  stepMs === null ? 'toInt64(0)' : 'intDiv(toUnixTimestamp64Milli(ts), {step:Int64}) * {step:Int64}';

/** `ts` within the segments, as SQL (the raw samples' condition). */
export function rawWhere(
  segments: readonly Segment[],
  params: Record<string, unknown>,
  prefix = 'r',
): string {
  return segments
    .map((s, i) => {
      params[`${prefix}${i}f`] = s.from;
      params[`${prefix}${i}t`] = s.to;
      return `(ts >= fromUnixTimestamp64Milli({${prefix}${i}f:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({${prefix}${i}t:Int64}, 'UTC'))`;
    })
    .join(' OR ');
}

/**
 * Exact quantiles by nearest rank: for level q over n samples, the smallest sample with at least q·n
 * samples at or below it (the ⌈q·n⌉-th smallest). A t-digest that keeps every sample as its own centroid
 * (a small bucket) answers exactly this, so digests and raw samples agree wherever digests are exact.
 */
const nearestRank = (levels: readonly number[]) =>
  `arrayMap((q) -> sorted_values[toUInt64(greatest(1, ceil(q * length(sorted_values))))], [${levels.join(', ')}])`;

/** The statistics, from the raw samples and the rollups as `planSegments` assigns them. */
export async function bucketStats(store: AnalyticsStore, q: StatsQuery): Promise<StatsRow[]> {
  if (q.ids.length === 0 || q.from >= q.to) return [];
  const params: Record<string, unknown> = { step: q.stepMs ?? 1 };
  const key = keyColumn(q, params);
  const segments = planSegments(q.from, q.to, q.stepMs);
  const levels = q.quantiles.map((fn) => QUANTILES[fn]);
  const withQuantiles = levels.length > 0;
  const parts: string[] = [];
  const raw = segments.filter((s) => s.source === 'raw');
  if (raw.length) {
    const quantileColumns = withQuantiles ? ', digest_state, exact' : '';
    parts.push(`SELECT key, bucket_ms, n, total, low, high, raw_only ${quantileColumns} FROM (
                SELECT ${key} AS key, ${rawBucket(q.stepMs)} AS bucket_ms, count() AS n, sum(value) AS total,
                       min(value) AS low, max(value) AS high, 1 AS raw_only
                       ${withQuantiles ? `, arraySort(groupArray(value)) AS sorted_values, quantileTDigestState(value) AS digest_state, ${nearestRank(levels)} AS exact` : ''}
                  FROM ${store.table('samples')}
                 WHERE series_id IN {ids:Array(UInt64)} AND (${rawWhere(raw, params)})
                 GROUP BY key, bucket_ms)`);
  }
  for (const tier of ROLLUP_TIERS) {
    const mine = segments.filter((s) => s.source === tier.source);
    if (!mine.length) continue;
    const where = mine
      .map((s, i) => {
        params[`t${tier.source}${i}f`] = s.from / 1000;
        params[`t${tier.source}${i}t`] = s.to / 1000;
        return `(bucket >= toDateTime({t${tier.source}${i}f:UInt32}, 'UTC') AND bucket < toDateTime({t${tier.source}${i}t:UInt32}, 'UTC'))`;
      })
      .join(' OR ');
    const bucketMs =
      q.stepMs === null
        ? 'toInt64(0)'
        : 'intDiv(toInt64(toUnixTimestamp(bucket)) * 1000, {step:Int64}) * {step:Int64}';
    parts.push(`SELECT ${key} AS key, ${bucketMs} AS bucket_ms, sum(count) AS n, sum(sum) AS total,
                       min(min) AS low, max(max) AS high, 0 AS raw_only
                       ${withQuantiles ? ', quantileTDigestMergeState(digest) AS digest_state, CAST([] AS Array(Float64)) AS exact' : ''}
                  FROM ${store.table(tier.table)}
                 WHERE series_id IN {ids:Array(UInt64)} AND (${where})
                 GROUP BY key, bucket_ms`);
  }
  const quantileColumn = withQuantiles
    ? `, if(min(raw_only) = 1, any(exact), arrayMap((x) -> toFloat64(x), quantilesTDigestMerge(${levels.join(', ')})(digest_state))) AS q`
    : '';
  const limit = q.limit;
  const rows = await queryRows<{
    k: string;
    ts: string;
    cnt: string;
    s: number;
    lo: number;
    hi: number;
    rawOnly: number;
    q?: number[];
  }>(
    store,
    `SELECT toString(key) AS k, toString(bucket_ms) AS ts, sum(n) AS cnt, sum(total) AS s, min(low) AS lo,
            max(high) AS hi, min(raw_only) AS rawOnly ${quantileColumn}
       FROM (${parts.join(' UNION ALL ')})
      GROUP BY key, bucket_ms
      HAVING cnt > 0
      ORDER BY key, bucket_ms
      ${limit === undefined ? '' : 'LIMIT {limit:UInt32}'}`,
    { ...params, ...(limit === undefined ? {} : { limit: limit + 1 }) },
  );
  if (limit !== undefined && rows.length > limit) overLimit(limit, 'buckets');
  return rows.map((row) => ({
    key: row.k,
    ts: Number(row.ts),
    count: Number(row.cnt),
    sum: row.s,
    min: row.lo,
    max: row.hi,
    fromRollups: Number(row.rawOnly) !== 1,
    quantiles: row.q ?? [],
  }));
}
