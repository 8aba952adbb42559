import type { Logger } from 'pino';
import { type AnalyticsStore, queryRows } from './client.js';

export interface Retention {
  /** Days raw samples are kept. */
  readonly rawDays: number;
  /** Days 1-minute rollups are kept. */
  readonly rollup1mDays: number;
  /** Days 1-hour rollups are kept. */
  readonly rollup1hDays: number;
}

const TIERS = [
  { table: 'samples', key: 'rawDays', expression: 'toDateTime(ts)' },
  { table: 'samples_1m', key: 'rollup1mDays', expression: 'bucket' },
  { table: 'samples_1h', key: 'rollup1hDays', expression: 'bucket' },
] as const;

/**
 * Sets each tier's TTL to the configured number of days, only where it differs (changing a TTL
 * rewrites the table's parts, so it is not done on every start).
 */
export async function applyRetention(
  store: AnalyticsStore,
  retention: Retention,
  logger: Logger,
): Promise<void> {
  for (const tier of TIERS) {
    const days = retention[tier.key];
    if (!Number.isInteger(days) || days < 1)
      throw new Error(`retention ${tier.key} must be a whole number of days ≥ 1`);
    const [row] = await queryRows<{ engine_full: string }>(
      store,
      'SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {name:String}',
      { db: store.database, name: tier.table },
    );
    if (!row) continue;
    const current = /toIntervalDay\((\d+)\)/.exec(row.engine_full)?.[1];
    if (current === String(days)) continue;
    await store.client.command({
      query: `ALTER TABLE ${store.table(tier.table)} MODIFY TTL ${tier.expression} + INTERVAL ${days} DAY`,
    });
    logger.info({ table: tier.table, days, previous: current ? Number(current) : null }, 'set retention');
  }
}
