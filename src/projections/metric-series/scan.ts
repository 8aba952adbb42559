import { type AnalyticsStore, queryRows } from '../../stores/clickhouse/client.js';

export interface ScannedSample {
  readonly seriesId: string;
  readonly ts: number;
  readonly value: number;
}

/**
 * Every raw sample of the given series in `[from, to)`, by series then time, a page at a time: each
 * page is one query that resumes after the last key (series id, timestamp) of the one before, so
 * memory stays bounded however long the range and the caller sets the pace. A page never ends in the
 * middle of samples sharing one key, so none are skipped.
 */
export async function* scanSamples(
  store: AnalyticsStore,
  ids: readonly string[],
  from: number,
  to: number,
  pageSize = 10_000,
): AsyncGenerator<ScannedSample[]> {
  if (!ids.length || from >= to) return;
  let after: { id: string; ts: number } | null = null;
  for (;;) {
    const rows: { seriesId: string; tsMs: string; value: number }[] = await queryRows<{
      seriesId: string;
      tsMs: string;
      value: number;
    }>(
      store,
      `SELECT toString(series_id) AS seriesId, toUnixTimestamp64Milli(ts) AS tsMs, value
         FROM ${store.table('samples')}
        WHERE series_id IN {ids:Array(UInt64)}
          AND ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
          ${after ? "AND (series_id > {afterId:UInt64} OR (series_id = {afterId:UInt64} AND ts > fromUnixTimestamp64Milli({afterTs:Int64}, 'UTC')))" : ''}
        ORDER BY series_id, ts
        LIMIT {limit:UInt32}`,
      {
        ids: ids.map((id) => BigInt(id)),
        from,
        to,
        limit: pageSize,
        ...(after ? { afterId: BigInt(after.id), afterTs: after.ts } : {}),
      },
    );
    let page = rows.map((row) => ({ seriesId: row.seriesId, ts: Number(row.tsMs), value: row.value }));
    const full = rows.length === pageSize;
    if (full) {
      // Hold back the samples sharing the last key: the next page starts with all of them.
      const last = page[page.length - 1]!;
      const cut = page.findIndex((s) => s.seriesId === last.seriesId && s.ts === last.ts);
      if (cut > 0) page = page.slice(0, cut);
    }
    if (page.length) yield page;
    if (!full) return;
    const last = page[page.length - 1]!;
    after = { id: last.seriesId, ts: last.ts };
  }
}
