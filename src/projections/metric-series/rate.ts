import { type AnalyticsStore, queryRows } from '../../stores/clickhouse/client.js';
import { coveredMs } from './plan.js';
import { keyColumn, rawBucket, rawWhere, type StatsQuery } from './stats.js';

/**
 * Rate, defined so that it can be computed exactly from the raw samples:
 *
 * For each series, take its samples in `[from, to)` in time order. Each sample after the first adds
 * an increase over its predecessor: `v − prev` when `v ≥ prev`, else `v` (the counter reset and counted
 * up from 0 again). The increase belongs to the bucket holding the later sample. A bucket's rate is the
 * sum of its increases divided by the seconds of the bucket that lie inside `[from, to)`; over a whole
 * range (no step) it is the total increase divided by `(to − from)` in seconds. The first sample in the
 * range has no predecessor inside it and adds nothing: no sample outside the range is ever looked at.
 * Across series (a group), rates add up.
 *
 * Rollups cannot serve this (they keep no first and last value), so it always reads raw samples.
 */
export async function bucketRates(
  store: AnalyticsStore,
  q: Omit<StatsQuery, 'quantiles' | 'limit'>,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (q.ids.length === 0 || q.from >= q.to) return out;
  const params: Record<string, unknown> = { step: q.stepMs ?? 1 };
  const key = keyColumn(q, params);
  const rows = await queryRows<{ k: string; ts: string; increase: number }>(
    store,
    `SELECT toString(key) AS k, toString(bucket_ms) AS ts,
            sum(if(isNull(prev), 0., if(cur >= assumeNotNull(prev), cur - assumeNotNull(prev), cur))) AS increase
       FROM (
         SELECT ${key} AS key, ${rawBucket(q.stepMs)} AS bucket_ms, value AS cur,
                lagInFrame(toNullable(value)) OVER (PARTITION BY series_id ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS prev
           FROM ${store.table('samples')}
          WHERE series_id IN {ids:Array(UInt64)} AND (${rawWhere([{ source: 'raw', from: q.from, to: q.to }], params)})
       )
      GROUP BY key, bucket_ms`,
    params,
  );
  for (const row of rows) {
    const ts = Number(row.ts);
    const ms = q.stepMs === null ? q.to - q.from : coveredMs(ts, q.stepMs, q.from, q.to);
    out.set(rateKey(row.k, ts), row.increase / (ms / 1000));
  }
  return out;
}

export const rateKey = (key: string, ts: number) => `${key}@${ts}`;
