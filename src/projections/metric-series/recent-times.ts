import { type AnalyticsStore, queryRows } from '../../stores/clickhouse/client.js';

/**
 * The times of each series' last `n` samples (ms), newest first: what a cadence is measured on. One
 * query for all the series asked about.
 */
export async function recentTimes(
  store: AnalyticsStore,
  seriesIds: readonly string[],
  n = 33,
): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>(seriesIds.map((id) => [id, []]));
  if (!seriesIds.length) return out;
  const rows = await queryRows<{ seriesId: string; tsMs: string }>(
    store,
    `SELECT toString(series_id) AS seriesId, toUnixTimestamp64Milli(ts) AS tsMs
       FROM ${store.table('samples')}
      WHERE series_id IN {ids:Array(UInt64)}
      ORDER BY series_id, ts DESC
      LIMIT {n:UInt32} BY series_id`,
    { ids: seriesIds.map((id) => BigInt(id)), n },
  );
  for (const row of rows) out.get(row.seriesId)?.push(Number(row.tsMs));
  return out;
}
