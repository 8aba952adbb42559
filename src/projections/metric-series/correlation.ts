import { ValidationError } from '../../domain/errors.js';
import type { AnalyticsStore } from '../../stores/clickhouse/client.js';
import { bucketCount, bucketStart } from './plan.js';
import { checkRange, DEFAULT_POINT_LIMIT, idsOf } from './range.js';
import { resolveKnown, type SeriesSelector } from './selector.js';
import { bucketStats, overLimit } from './stats.js';
import type { SeriesInfo, TimeRange } from './types.js';

/** Lags are whole steps with |lag| ≤ MAX_LAG, at most MAX_LAG_SPAN + 1 of them per query. */
export const MAX_LAG = 1000;
export const MAX_LAG_SPAN = 200;
/** Fewer common buckets than this and a correlation is undefined (NaN). */
export const MIN_PAIRS = 3;

export interface LagCorrelation {
  /** `a`'s bucket t is paired with `b`'s bucket t + lag·step: a positive lag means b follows a. */
  readonly lag: number;
  /** Pearson's r over the paired buckets; NaN with fewer than MIN_PAIRS of them or no variance. */
  readonly pearson: number;
  readonly buckets: number;
}

export interface SeriesCorrelation {
  readonly series: SeriesInfo;
  /** The lag with the strongest correlation (largest |r|; on a tie the smallest |lag|), or null. */
  readonly best: LagCorrelation | null;
  readonly lags: readonly LagCorrelation[];
}

export interface CorrelationQuery {
  /** Exactly one series. */
  readonly a: SeriesSelector;
  /** One or many series, each compared with `a` (`a` itself left out). */
  readonly b: SeriesSelector;
  readonly from: number;
  readonly to: number;
  readonly stepMs: number;
  readonly minLag?: number;
  readonly maxLag?: number;
  /** At most this many buckets fetched in all (buckets in the range × series); more is an error. */
  readonly limit?: number;
}

function invalid(path: string, message: string): never {
  throw new ValidationError(`${path}: ${message}`, [{ path, message }]);
}

/** Pearson's r of x[i] and y[i + lag] over the i where both are numbers (two passes, for accuracy). */
export function pearsonAt(x: Float64Array, y: Float64Array, lag: number): LagCorrelation {
  let n = 0;
  let sx = 0;
  let sy = 0;
  const lo = Math.max(0, -lag);
  const hi = Math.min(x.length, y.length - lag);
  for (let i = lo; i < hi; i++) {
    const u = x[i]!;
    const v = y[i + lag]!;
    if (Number.isNaN(u) || Number.isNaN(v)) continue;
    n++;
    sx += u;
    sy += v;
  }
  if (n < MIN_PAIRS) return { lag, pearson: Number.NaN, buckets: n };
  const mx = sx / n;
  const my = sy / n;
  let cov = 0;
  let vx = 0;
  let vy = 0;
  for (let i = lo; i < hi; i++) {
    const u = x[i]!;
    const v = y[i + lag]!;
    if (Number.isNaN(u) || Number.isNaN(v)) continue;
    cov += (u - mx) * (v - my);
    vx += (u - mx) ** 2;
    vy += (v - my) ** 2;
  }
  const pearson = vx > 0 && vy > 0 ? Math.max(-1, Math.min(1, cov / Math.sqrt(vx * vy))) : Number.NaN;
  return { lag, pearson, buckets: n };
}

/** Bucket averages per key as dense arrays over the range's buckets (NaN where a bucket is empty). */
async function averages(
  store: AnalyticsStore,
  ids: readonly string[],
  groups: readonly number[] | undefined,
  r: { from: number; to: number; stepMs: number },
): Promise<Map<string, Float64Array>> {
  const n = bucketCount(r.from, r.to, r.stepMs);
  const first = bucketStart(r.from, r.stepMs);
  const out = new Map<string, Float64Array>();
  const rows = await bucketStats(store, { ids, ...(groups ? { groups } : {}), ...r, quantiles: [] });
  for (const row of rows) {
    const values = out.get(row.key) ?? new Float64Array(n).fill(Number.NaN);
    out.set(row.key, values);
    values[(row.ts - first) / r.stepMs] = row.sum / row.count;
  }
  return out;
}

/**
 * How `a` correlates with each series `b` selects, at each lag from `minLag` to `maxLag` steps: both
 * averaged into buckets of the step (exact averages, see `plan.ts`), then paired with the lag.
 * Strongest first.
 */
export async function correlate(
  store: AnalyticsStore,
  q: CorrelationQuery,
): Promise<{ a: SeriesInfo; results: SeriesCorrelation[] }> {
  checkRange(q.from, q.to, q.stepMs);
  const minLag = q.minLag ?? Math.min(q.maxLag ?? 0, 0);
  const maxLag = q.maxLag ?? Math.max(minLag, 0);
  for (const [path, lag] of [
    ['minLag', minLag],
    ['maxLag', maxLag],
  ] as const)
    if (!Number.isInteger(lag) || Math.abs(lag) > MAX_LAG)
      invalid(path, `must be an integer from -${MAX_LAG} to ${MAX_LAG}, got ${lag}`);
  if (maxLag < minLag) invalid('maxLag', 'must not be below minLag');
  if (maxLag - minLag > MAX_LAG_SPAN) invalid('maxLag', `at most ${MAX_LAG_SPAN + 1} lags per query`);
  // Series named by id that this process has read before are not asked of the catalogue again.
  const [a, ...more] = await resolveKnown(store, q.a, 'a', 1);
  if (!a || more.length) invalid('a', 'must select exactly one series');
  const others = (await resolveKnown(store, q.b, 'b')).filter((s) => s.seriesId !== a.seriesId);
  const limit = q.limit ?? DEFAULT_POINT_LIMIT;
  const n = bucketCount(q.from, q.to, q.stepMs);
  if (n * (others.length + 1) > limit) overLimit(limit, `buckets (${n} per series × ${others.length + 1})`);
  const r = { from: q.from, to: q.to, stepMs: q.stepMs };
  const values = await averages(store, [a.seriesId, ...others.map((s) => s.seriesId)], undefined, r);
  const empty = new Float64Array(n).fill(Number.NaN);
  const x = values.get(a.seriesId) ?? empty;
  const strength = (c: LagCorrelation | null) => (c && !Number.isNaN(c.pearson) ? Math.abs(c.pearson) : -1);
  const results = others.map((series) => {
    const y = values.get(series.seriesId) ?? empty;
    const lags: LagCorrelation[] = [];
    let best: LagCorrelation | null = null;
    for (let lag = minLag; lag <= maxLag; lag++) {
      const c = pearsonAt(x, y, lag);
      lags.push(c);
      if (Number.isNaN(c.pearson)) continue;
      if (
        best === null ||
        strength(c) > strength(best) ||
        (strength(c) === strength(best) && Math.abs(lag) < Math.abs(best.lag))
      )
        best = c;
    }
    return { series, best, lags };
  });
  results.sort((x1, x2) => strength(x2.best) - strength(x1.best));
  return { a, results };
}

/**
 * Pearson correlation of two selections (each averaged over all its series) over buckets of `stepMs`,
 * at lag 0; NaN with fewer than MIN_PAIRS common buckets.
 */
export async function correlation(
  store: AnalyticsStore,
  a: SeriesSelector,
  b: SeriesSelector,
  r: TimeRange & { stepMs: number },
): Promise<{ pearson: number; buckets: number }> {
  const range = { from: r.from.getTime(), to: r.to.getTime(), stepMs: r.stepMs };
  checkRange(range.from, range.to, range.stepMs);
  const side = async (selector: SeriesSelector) => {
    const ids = await idsOf(store, selector);
    const n = bucketCount(range.from, range.to, range.stepMs);
    const values = await averages(
      store,
      ids,
      ids.map(() => 0),
      range,
    );
    return values.get('0') ?? new Float64Array(n).fill(Number.NaN);
  };
  const { pearson, buckets } = pearsonAt(await side(a), await side(b), 0);
  return { pearson, buckets };
}
