import { ValidationError } from '../../domain/errors.js';
import { type AnalyticsStore, queryRows } from '../../stores/clickhouse/client.js';
import { FLOAT_SCALE } from './encode.js';
import { planSegments, ROLLUP_TIERS, type Segment } from './plan.js';
import type { Sql } from './selector.js';
import { QUANTILES, type QuantileFunction, type SeriesFunction } from './types.js';

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
  /**
   * Instead of `ids`, the series a condition picks (see `seriesFilter`): the query then runs beside
   * the catalogue's, not after it. Per series only (no `groups`).
   */
  readonly filter?: Sql;
  /**
   * Only the `k` keys with the highest (`desc`) or lowest value of `fn`, ties by key ascending: ranked
   * by ClickHouse, not after. For a whole range (`stepMs` null); `fn` is avg, sum, min, max, count or
   * the (first) quantile.
   */
  readonly top?: { readonly fn: Exclude<SeriesFunction, 'rate'>; readonly desc: boolean; readonly k: number };
}

const VALUE_OF: Record<Exclude<SeriesFunction, 'rate'>, string> = {
  avg: 's / cnt',
  sum: 's',
  min: 'lo',
  max: 'hi',
  count: 'cnt',
  p50: 'q[1]',
  p90: 'q[1]',
  p99: 'q[1]',
};

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
 * Settings for the statistics queries (in the SQL text, so scoped to the query: see client.ts). Small
 * answers gain nothing from more threads (a thread pool costs more than they do); rollup rows are
 * grouped in their table's order, which merges their digest states several times faster than a hash
 * table of states does.
 */
export const statsSettings = (threads: number) =>
  `SETTINGS optimize_aggregation_in_order = 1, max_threads = ${Math.max(1, Math.trunc(threads))}`;

const PARAM = /\{(\w+):([A-Za-z0-9(), ]+)\}/g;
const isNumeric = (v: unknown): boolean =>
  (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'bigint';

/**
 * The query with its numeric parameters written in as typed literals (`CAST(… AS Type)`); the others
 * stay parameters. chDB binds parameters through a slower path than it runs plain text (about a
 * millisecond a query), and a query left without parameters takes the plain one. Only numbers (and
 * arrays of numbers) are written in: nothing a caller gives as text ever is.
 */
export function inlineNumbers(
  sql: string,
  params: Record<string, unknown>,
): { sql: string; params: Record<string, unknown> } {
  const rest: Record<string, unknown> = {};
  const literal = (v: unknown): string | null =>
    isNumeric(v)
      ? String(v)
      : Array.isArray(v) && v.every(isNumeric)
        ? `[${v.map(String).join(', ')}]`
        : null;
  const text = sql.replace(PARAM, (whole, name: string, type: string) => {
    const value = literal(params[name]);
    if (value === null) {
      rest[name] = params[name];
      return whole;
    }
    return `CAST(${value} AS ${type})`;
  });
  return { sql: text, params: rest };
}

const NO_VALUES = 'CAST([] AS Array(Float64))';

/** Digest state columns that merge nothing (`has_state` 0): for parts whose buckets need no digest. */
const EMPTY_STATE = `, arrayReduce('quantileTDigestState', ${'CAST([] AS Array(Float64))'}) AS digest_state, toUInt8(0) AS has_state`;

/**
 * Nearest-rank quantiles as an aggregate, in linear time: ClickHouse's `quantileExact` at level l gives
 * the sorted values' element at index ⌊l·n⌋ (0-based, by nth_element); nearest rank wants index
 * ⌈q·n⌉ − 1. With l = q − 1e-12 the two are the same index for every n below 10^10 (q·n an integer k:
 * ⌊k − n·1e-12⌋ = k − 1; otherwise q·n is at least 0.01 above its floor for these levels, and n·1e-12
 * is below that) — checked for every n up to 3·10^6 in double arithmetic, and by the exactness tests.
 */
const exactQuantiles = (levels: readonly number[]) =>
  `arrayMap((x) -> toFloat64(x), quantilesExact(${levels.map((q) => q - 1e-12).join(', ')})(v))`;

/** Quantiles by nearest rank over a sorted array expression (see `mergedColumns`). */
const nearestRank = (sorted: string, levels: readonly number[]) =>
  `arrayMap((q) -> ${sorted}[toUInt64(greatest(1, ceil(q * length(${sorted}))))], [${levels.join(', ')}])`;

export interface SourceQuery {
  readonly from: number;
  readonly to: number;
  readonly stepMs: number | null;
  /** Quantile levels (0–1); none: no quantile columns. */
  readonly levels: readonly number[];
  /**
   * True when the caller merges several series into one key (groups): quantiles then merge across
   * series (raw values, digest states). False: one key per series, and what can be final is.
   */
  readonly grouped: boolean;
}

/**
 * Whether digest states must be carried to the caller's merge. Per series, a rollup whose width is the
 * step serves whole buckets of its own (no other store serves a bucket it serves) and raw-only buckets
 * are exact: both are final where they are read. States are needed where a rollup row is part of a
 * wider bucket, or when series are merged into groups.
 */
export const carriesStates = (
  q: Pick<SourceQuery, 'stepMs' | 'grouped' | 'levels'>,
  segments: readonly Segment[],
) =>
  q.levels.length > 0 &&
  segments.some(
    (s) =>
      s.source !== 'raw' &&
      (q.grouped || ROLLUP_TIERS.find((t) => t.source === s.source)!.width !== q.stepMs),
  );

/**
 * The per series and bucket statistics of each store `planSegments` assigns, as `UNION ALL`ed SELECTs
 * with the columns series_id, bucket_ms, n, total, low, high, raw_only and, with levels: `fin` (final
 * quantiles, where they can be), `vals` (raw values, grouped only) and, where `carriesStates`,
 * digest_state and has_state. `idFilter` is a condition on `series_id` (never a join onto sample rows).
 * Rollup rows are grouped by their table's own key, in its order: merging their digest states there is
 * several times faster than in a hash table.
 */
export function sourceParts(
  store: AnalyticsStore,
  q: SourceQuery,
  params: Record<string, unknown>,
  idFilter: string,
  segments = planSegments(q.from, q.to, q.stepMs),
  options: {
    /** Parameter names' prefix (two plans in one query). */
    prefix?: string;
    /** Whether to carry digest states (their columns), whatever the plan needs itself. */
    states?: boolean;
    /** A further condition on every part. */
    guard?: string;
    /** Raw samples only, every bucket exact: the states carried are empty. */
    exact?: boolean;
    /** The key, as SQL on `series_id` (default: the series id). */
    key?: string;
  } = {},
): string[] {
  params.step = q.stepMs ?? 1;
  const levels = q.levels;
  const withQuantiles = levels.length > 0;
  const states = options.states ?? carriesStates(q, segments);
  const prefix = options.prefix ?? 'r';
  if (options.guard) idFilter = `${idFilter} AND ${options.guard}`;
  const parts: string[] = [];
  const raw = segments.filter((s) => s.source === 'raw');
  const key = options.key ?? 'series_id';
  if (raw.length) {
    // Where every bucket is raw only, its quantiles are final here, by key (a group of series too).
    const final = !q.grouped || options.exact === true;
    const quantiles = !withQuantiles
      ? ''
      : final
        ? `, ${q.grouped ? `${NO_VALUES} AS vals, ` : ''}${exactQuantiles(levels)} AS fin`
        : `, groupArray(v) AS vals, ${NO_VALUES} AS fin`;
    const where = `${idFilter} AND (${rawWhere(raw, params, prefix)})`;
    // The samples' value, read by kind: doubles (FPC, slow to decode) only where a row holds one
    // (PREWHERE on the scale skips the granules that hold none), scaled integers elsewhere — the very
    // expression of the table's \`value\` ALIAS, one branch each.
    const samples = `(SELECT series_id, ts, float_value AS v FROM ${store.table('samples')}
                       PREWHERE scale = ${FLOAT_SCALE} WHERE ${where}
                      UNION ALL
                      SELECT series_id, ts, int_value / exp10(scale) AS v FROM ${store.table('samples')}
                       PREWHERE scale != ${FLOAT_SCALE} WHERE ${where})`;
    parts.push(`SELECT ${key} AS key_, ${rawBucket(q.stepMs)} AS bucket_ms, count() AS n, sum(v) AS total,
                       min(v) AS low, max(v) AS high, toUInt8(1) AS raw_only ${quantiles}
                       ${!states ? '' : options.exact ? EMPTY_STATE : ', quantileTDigestState(v) AS digest_state, toUInt8(1) AS has_state'}
                  FROM ${samples}
                 GROUP BY ${final ? 'key_' : 'series_id, key_'}, bucket_ms`);
  }
  for (const tier of ROLLUP_TIERS) {
    const mine = segments.filter((s) => s.source === tier.source);
    if (!mine.length) continue;
    const where = mine
      .map((s, i) => {
        const name = `${prefix}t${tier.source}${i}`;
        params[`${name}f`] = s.from / 1000;
        params[`${name}t`] = s.to / 1000;
        return `(bucket >= toDateTime({${name}f:UInt32}, 'UTC') AND bucket < toDateTime({${name}t:UInt32}, 'UTC'))`;
      })
      .join(' OR ');
    const bucketMs =
      q.stepMs === null
        ? 'toInt64(0)'
        : 'intDiv(toInt64(toUnixTimestamp(bucket)) * 1000, {step:Int64}) * {step:Int64}';
    if (!q.grouped && tier.width === q.stepMs) {
      // Each row (its table's key merged by FINAL, as a GROUP BY on that key would) is one bucket.
      const quantiles = withQuantiles
        ? `, arrayMap((x) -> toFloat64(x), arrayReduce('quantilesTDigestMerge(${levels.join(', ')})', [digest])) AS fin
           ${states ? EMPTY_STATE : ''}`
        : '';
      parts.push(`SELECT ${key} AS key_, ${bucketMs} AS bucket_ms, count AS n, sum AS total, min AS low, max AS high,
                         toUInt8(0) AS raw_only ${quantiles}
                    FROM ${store.table(tier.table)} FINAL
                   WHERE ${idFilter} AND (${where})`);
      continue;
    }
    const quantiles = withQuantiles
      ? `, ${q.grouped ? `${NO_VALUES} AS vals, ` : ''}${NO_VALUES} AS fin,
           quantileTDigestMergeState(digest) AS digest_state, toUInt8(1) AS has_state`
      : '';
    parts.push(`SELECT ${key} AS key_, ${bucketMs} AS bucket_ms, sum(count) AS n, sum(sum) AS total,
                       min(min) AS low, max(max) AS high, toUInt8(0) AS raw_only ${quantiles}
                  FROM ${store.table(tier.table)}
                 WHERE ${idFilter} AND (${where})
                 GROUP BY series_id, bucket`);
  }
  return parts;
}

/**
 * The merged statistics columns over `sourceParts` rows (grouped by the caller's key and bucket): cnt,
 * s, lo, hi, rawOnly and, with levels, q.
 *
 * Exact quantiles by nearest rank: for level q over n samples, the smallest sample with at least q·n
 * samples at or below it (the ⌈q·n⌉-th smallest). A t-digest that keeps every sample as its own centroid
 * (a small bucket) answers exactly this, so digests and raw samples agree wherever digests are exact.
 * Buckets only raw samples served are exact; the others come from the merged digests.
 */
export function mergedColumns(q: Pick<SourceQuery, 'levels' | 'grouped'>, states: boolean): string {
  const { levels } = q;
  const common = 'sum(n) AS cnt, sum(total) AS s, min(low) AS lo, max(high) AS hi, min(raw_only) AS rawOnly';
  if (!levels.length) return common;
  const merged = `arrayMap((x) -> toFloat64(x), quantilesTDigestMergeIf(${levels.join(', ')})(digest_state, has_state = 1))`;
  if (q.grouped)
    return `${common},
      if(rawOnly = 1, arraySort(arrayFlatten(groupArray(vals))), ${NO_VALUES}) AS sorted_values,
      if(rawOnly = 1, if(max(notEmpty(fin)) = 1, anyIf(fin, notEmpty(fin)), ${nearestRank('sorted_values', levels)}),
         ${states ? merged : 'any(fin)'}) AS q`;
  // Per series: a raw-only bucket is one raw row, a bucket of a final rollup one row of it.
  return `${common}, ${states ? `if(rawOnly = 1 OR max(has_state) = 0, any(fin), ${merged})` : 'any(fin)'} AS q`;
}

/**
 * Raw samples a merged digest is worth: merging one digest state costs about as much as reading this
 * many samples (measured on chDB: some 20 µs a state against 30–40 ns a sample). 0: digests whenever
 * rollups may serve (as the plan alone says).
 */
export const QUANTILE_COST = { samplesPerDigest: 500 };

/**
 * For quantiles over one bucket spanning the range (an aggregation), where rollups would serve: a
 * condition (computed once, from the hour rollups' counts) that holds when reading the raw samples
 * of the whole range costs less than merging the digests the rollup plan merges. The query then
 * carries both plans, each under the condition or its negation, and reads one: exact quantiles where
 * they are cheaper, digests where the samples are too many. Null when there is no choice to make.
 */
function exactGuard(
  store: AnalyticsStore,
  q: StatsQuery,
  segments: readonly Segment[],
  filter: string,
  params: Record<string, unknown>,
): string | null {
  if (q.quantiles.length === 0 || q.stepMs !== null || segments.every((s) => s.source === 'raw')) return null;
  const digests = segments.reduce((n, s) => {
    const tier = ROLLUP_TIERS.find((t) => t.source === s.source);
    return tier ? n + (s.to - s.from) / tier.width : n;
  }, 0);
  params.gf = Math.floor(q.from / 3_600_000) * 3_600;
  params.gt = Math.ceil(q.to / 3_600_000) * 3_600;
  params.gbudget = Math.round(QUANTILE_COST.samplesPerDigest * digests);
  // Per series that has rows (each has `digests` of them at most), against the samples of all.
  return `((SELECT sum(count) <= {gbudget:UInt64} * uniqExact(series_id) FROM ${store.table('samples_1h')}
             WHERE ${filter} AND bucket >= toDateTime({gf:UInt32}, 'UTC') AND bucket < toDateTime({gt:UInt32}, 'UTC')) = 1)`;
}

/** Threads for a statistics query: one for small ones (most), two past four series-days of range. */
export function threadsFor(from: number, to: number, series: number): number {
  return (to - from) * series > 86_400_000 * 4 ? 2 : 1;
}

interface MergedRow {
  k: string;
  ts: string;
  cnt: string;
  s: number;
  lo: number;
  hi: number;
  rawOnly: number;
  q?: number[];
}

const toStatsRow = (row: MergedRow): StatsRow => ({
  key: row.k,
  ts: Number(row.ts),
  count: Number(row.cnt),
  sum: row.s,
  min: row.lo,
  max: row.hi,
  fromRollups: Number(row.rawOnly) !== 1,
  quantiles: row.q ?? [],
});

/**
 * Per series, where one rollup serves the whole range and its width is the step: its rows are the
 * buckets, read as they are (no merge in ClickHouse; rows of one bucket not yet merged by the table are
 * added up here, or with quantiles merged by FINAL). Null where this does not apply, or where the rows
 * pass the limit (the general path then counts the buckets, and refuses if they do too).
 */
async function wholeBuckets(
  store: AnalyticsStore,
  q: StatsQuery,
  segments: readonly Segment[],
  levels: readonly number[],
): Promise<StatsRow[] | null> {
  const [only, ...more] = segments;
  const tier = ROLLUP_TIERS.find((t) => t.source === only?.source);
  if (!only || more.length || !tier || tier.width !== q.stepMs || q.groups || q.top) return null;
  const params: Record<string, unknown> = { ...q.filter?.params, ids: q.ids.map((id) => BigInt(id)) };
  const sql = inlineNumbers(
    `SELECT toString(series_id) AS k, toInt64(toUnixTimestamp(bucket)) * 1000 AS bucket_ms, count, sum, min, max
            ${levels.length ? `, arrayMap((x) -> toFloat64(x), arrayReduce('quantilesTDigestMerge(${levels.join(', ')})', [digest])) AS q` : ''}
       FROM ${store.table(tier.table)} ${levels.length ? 'FINAL' : ''}
      WHERE ${q.filter?.where ?? 'series_id IN {ids:Array(UInt64)}'}
        AND bucket >= toDateTime({wf:UInt32}, 'UTC') AND bucket < toDateTime({wt:UInt32}, 'UTC')
      ${q.limit === undefined ? '' : 'LIMIT {wlimit:UInt32}'}
      ${statsSettings(1)}`,
    { ...params, wf: only.from / 1000, wt: only.to / 1000, wlimit: (q.limit ?? 0) + 1 },
  );
  const rows = await queryRows<{
    k: string;
    bucket_ms: string;
    count: string;
    sum: number;
    min: number;
    max: number;
    q?: number[];
  }>(store, sql.sql, sql.params);
  // More rows than the limit: perhaps more buckets too; the general path counts them.
  if (q.limit !== undefined && rows.length > q.limit) return null;
  const out = new Map<string, StatsRow & { count: number; sum: number; min: number; max: number }>();
  for (const row of rows) {
    const id = `${row.k}@${row.bucket_ms}`;
    const seen = out.get(id);
    if (seen) {
      // The same bucket in two parts not merged yet (never with quantiles: FINAL merged them).
      seen.count += Number(row.count);
      seen.sum += row.sum;
      seen.min = Math.min(seen.min, row.min);
      seen.max = Math.max(seen.max, row.max);
      continue;
    }
    out.set(id, {
      key: row.k,
      ts: Number(row.bucket_ms),
      count: Number(row.count),
      sum: row.sum,
      min: row.min,
      max: row.max,
      fromRollups: true,
      quantiles: row.q ?? [],
    });
  }
  return [...out.values()]
    .filter((row) => row.count > 0)
    .sort((a, b) => (a.key === b.key ? a.ts - b.ts : BigInt(a.key) < BigInt(b.key) ? -1 : 1));
}

/** The statistics, from the raw samples and the rollups as `planSegments` assigns them. */
export async function bucketStats(store: AnalyticsStore, q: StatsQuery): Promise<StatsRow[]> {
  if ((q.filter === undefined && q.ids.length === 0) || q.from >= q.to) return [];
  const whole = await wholeBuckets(
    store,
    q,
    planSegments(q.from, q.to, q.stepMs),
    q.quantiles.map((fn) => QUANTILES[fn]),
  );
  if (whole) return whole;
  const params: Record<string, unknown> = { ...q.filter?.params };
  const threads = threadsFor(q.from, q.to, q.filter ? 1 : q.ids.length);
  const levels = q.quantiles.map((fn) => QUANTILES[fn]);
  const segments = planSegments(q.from, q.to, q.stepMs);
  const source = { ...q, levels, grouped: q.groups !== undefined };
  const filter = q.filter?.where ?? 'series_id IN {ids:Array(UInt64)}';
  const states = carriesStates(source, segments);
  const exact = exactGuard(store, q, segments, filter, params);
  const key = keyColumn(q, params);
  const parts = exact
    ? [
        ...sourceParts(store, source, params, filter, [{ source: 'raw', from: q.from, to: q.to }], {
          prefix: 'x',
          states,
          guard: exact,
          exact: true,
          key,
        }),
        ...sourceParts(store, source, params, filter, segments, { guard: `NOT ${exact}`, key }),
      ]
    : sourceParts(store, source, params, filter, segments, { key });
  const limit = q.limit;
  // One store whose rows are whole buckets of one series (raw samples, or a rollup as wide as the step):
  // its rows are the answer, with nothing to merge.
  const single =
    parts.length === 1 &&
    !q.top &&
    !source.grouped &&
    segments.every(
      (s) => s.source === 'raw' || ROLLUP_TIERS.find((t) => t.source === s.source)!.width === q.stepMs,
    );
  const sql = inlineNumbers(
    single
      ? `SELECT key_, toString(key_) AS k, toString(bucket_ms) AS ts, n AS cnt, total AS s, low AS lo,
                high AS hi, raw_only AS rawOnly ${levels.length ? ', fin AS q' : ''}
           FROM (${parts[0]})
          WHERE cnt > 0
          ORDER BY key_, bucket_ms
      ${limit === undefined ? '' : 'LIMIT {limit:UInt32}'}
      ${statsSettings(threads)}`
      : `SELECT key_, toString(key_) AS k, toString(bucket_ms) AS ts, ${mergedColumns(source, states)}
              ${q.top ? `, ${VALUE_OF[q.top.fn]} AS value` : ''}
       FROM (${parts.join(' UNION ALL ')})
      GROUP BY key_, bucket_ms
      HAVING cnt > 0
      ORDER BY ${q.top ? `value ${q.top.desc ? 'DESC' : 'ASC'}, key_ LIMIT ${Math.trunc(q.top.k)}` : 'key_, bucket_ms'}
      ${limit === undefined ? '' : 'LIMIT {limit:UInt32}'}
      ${statsSettings(threads)}`,
    { ...params, ...(limit === undefined ? {} : { limit: limit + 1 }) },
  );
  const rows = await queryRows<MergedRow>(store, sql.sql, sql.params);
  if (limit !== undefined && rows.length > limit) overLimit(limit, 'buckets');
  return rows.map(toStatsRow);
}
