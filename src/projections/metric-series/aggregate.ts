import { ValidationError } from '../../domain/errors.js';
import { LABEL_NAME } from '../../domain/metrics/identity.js';
import type { Labels } from '../../domain/metrics/kinds.js';
import type { AnalyticsStore } from '../../stores/clickhouse/client.js';
import { checkRange } from './range.js';
import { bucketRates, rateKey } from './rate.js';
import { resolveSeries, type SeriesSelector } from './selector.js';
import { bucketStats } from './stats.js';
import { isQuantile, type SeriesFunction, type TimeRange } from './types.js';

export const MAX_K = 10_000;

export type AggregateQuery = SeriesSelector &
  TimeRange & {
    readonly fn: SeriesFunction;
    /** Label names to group by (none: one group). A series without a label has it as ''. */
    readonly groupBy?: readonly string[];
    /** Only the k groups with the highest value, highest first. */
    readonly topK?: number;
    /** Only the k groups with the lowest value, lowest first. */
    readonly bottomK?: number;
  };

export interface AggregateGroup {
  readonly labels: Labels;
  readonly value: number;
  /** How many series the selector put in the group. */
  readonly series: number;
  /** True when rollups served part of the range (quantiles then come from merged digests). */
  readonly fromRollups: boolean;
}

/** Label values in order, compared one by one. */
function compareValues(x: readonly string[], y: readonly string[]): number {
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return 0;
}

function invalid(path: string, message: string): never {
  throw new ValidationError(`${path}: ${message}`, [{ path, message }]);
}

function checkK(path: string, k: number | undefined): void {
  if (k !== undefined && (!Number.isInteger(k) || k < 1 || k > MAX_K))
    invalid(path, `must be an integer from 1 to ${MAX_K}, got ${k}`);
}

/**
 * One value per group of series over `[from, to)`: `fn` over all the samples of the group's series
 * (avg, min, max, sum, count, quantiles), or for `rate` the sum of the series' rates (see `rate.ts`).
 * Groups without a sample in the range are left out. Ordered by the group's label values, or by
 * value with `topK` / `bottomK`.
 */
export async function aggregate(store: AnalyticsStore, query: AggregateQuery): Promise<AggregateGroup[]> {
  const from = query.from.getTime();
  const to = query.to.getTime();
  checkRange(from, to);
  const groupBy = query.groupBy ?? [];
  groupBy.forEach((key, i) => {
    if (!LABEL_NAME.test(key)) invalid(`groupBy[${i}]`, `invalid label name '${key}'`);
  });
  checkK('topK', query.topK);
  checkK('bottomK', query.bottomK);
  if (query.topK !== undefined && query.bottomK !== undefined)
    invalid('bottomK', 'give topK or bottomK, not both');
  const { fn } = query;
  const selector: SeriesSelector = {
    seriesId: query.seriesId,
    seriesIds: query.seriesIds,
    name: query.name,
    labels: query.labels,
    matchers: query.matchers,
    text: query.text,
  };
  const series = await resolveSeries(store, selector, 'selector');
  // Groups numbered in label order (their values compared as the sort below compares them), so that
  // ClickHouse breaks ties between values by that order too.
  const valuesOf = series.map((s) => groupBy.map((key) => s.labels[key] ?? ''));
  const distinct = new Map<string, string[]>();
  for (const values of valuesOf) distinct.set(JSON.stringify(values), values);
  const ordered = [...distinct.values()].sort(compareValues);
  const groupIndex = new Map(ordered.map((values, i) => [JSON.stringify(values), i]));
  const groupLabels: Labels[] = ordered.map((values) =>
    Object.fromEntries(groupBy.map((key, i) => [key, values[i]!])),
  );
  const members = ordered.map(() => 0);
  const groups = valuesOf.map((values) => {
    const index = groupIndex.get(JSON.stringify(values))!;
    members[index]!++;
    return index;
  });
  const ids = series.map((s) => s.seriesId);
  const base = { ids, groups, from, to, stepMs: null };
  const k = query.topK ?? query.bottomK;
  const stats = await bucketStats(store, {
    ...base,
    quantiles: isQuantile(fn) ? [fn] : [],
    ...(fn !== 'rate' && k !== undefined ? { top: { fn, desc: query.topK !== undefined, k } } : {}),
  });
  const rates = fn === 'rate' ? await bucketRates(store, base) : null;
  const out = stats.map((row) => {
    const value =
      fn === 'avg'
        ? row.sum / row.count
        : fn === 'sum' || fn === 'min' || fn === 'max' || fn === 'count'
          ? row[fn]
          : fn === 'rate'
            ? (rates!.get(rateKey(row.key, row.ts)) ?? 0)
            : row.quantiles[0]!;
    const index = Number(row.key);
    return {
      labels: groupLabels[index]!,
      value,
      series: members[index]!,
      fromRollups: fn === 'rate' ? false : row.fromRollups,
    };
  });
  const byLabels = (a: AggregateGroup, b: AggregateGroup) =>
    compareValues(Object.values(a.labels), Object.values(b.labels));
  out.sort(byLabels);
  if (query.topK !== undefined)
    return out.sort((a, b) => b.value - a.value || byLabels(a, b)).slice(0, query.topK);
  if (query.bottomK !== undefined)
    return out.sort((a, b) => a.value - b.value || byLabels(a, b)).slice(0, query.bottomK);
  return out;
}
