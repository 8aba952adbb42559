import { type AnalyticsStore, queryRows } from '../stores/clickhouse/client.js';

/**
 * Removes the rows of `table` that `where` selects, synchronously (the delete has happened when this
 * returns), and answers how many there were: counted first, so a table with none is not rewritten.
 */
export async function removeRows(
  analytics: AnalyticsStore,
  table: string,
  where: string,
  params: Record<string, unknown>,
): Promise<number> {
  const [row] = await queryRows<{ n: string }>(
    analytics,
    `SELECT count() AS n FROM ${analytics.table(table)} WHERE ${where}`,
    params,
  );
  const removed = Number(row?.n ?? 0);
  if (removed > 0)
    await analytics.client.command({
      query: `ALTER TABLE ${analytics.table(table)} DELETE WHERE ${where}`,
      query_params: params,
      clickhouse_settings: { mutations_sync: '2' },
    });
  return removed;
}
