import type { Logger } from 'pino';
import { type AnalyticsStore, queryRows } from './client.js';
import { migration0001 } from './migrations/0001_projection_checkpoints.js';
import { migration0002 } from './migrations/0002_audit_index.js';
import { migration0003 } from './migrations/0003_metric_series.js';
import { migration0004 } from './migrations/0004_pipeline_quality.js';
import { migration0005 } from './migrations/0005_anomalies_trends.js';
import { migration0006 } from './migrations/0006_alerts.js';
import { migration0007 } from './migrations/0007_patterns.js';
import { migration0008 } from './migrations/0008_anomaly_windows.js';
import { migration0009 } from './migrations/0009_periodicity.js';
import { migration0010 } from './migrations/0010_checkpoint_identity.js';
import { migration0011 } from './migrations/0011_models.js';
import { migration0012 } from './migrations/0012_forecasts.js';
import { migration0013 } from './migrations/0013_predictions.js';
import type { Migration } from './migrations/migration.js';

/**
 * A numbered schema change. Once released a migration never changes: later changes are new
 * migrations. Statements are idempotent (`IF NOT EXISTS`), so two instances starting together
 * converge.
 */
export type { Migration } from './migrations/migration.js';

export const MIGRATIONS: readonly Migration[] = [
  migration0001,
  migration0002,
  migration0003,
  migration0004,
  migration0005,
  migration0006,
  migration0007,
  migration0008,
  migration0009,
  migration0010,
  migration0011,
  migration0012,
  migration0013,
];

/** Applies the migrations that are not yet recorded, in order; returns the versions it applied. */
export async function migrate(
  store: AnalyticsStore,
  logger: Logger,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  const ledger = store.table('schema_migrations');
  await store.client.command({
    query: `CREATE TABLE IF NOT EXISTS ${ledger} (
      version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
    ) ENGINE = ReplacingMergeTree ORDER BY version`,
  });
  const done = new Set(
    (await queryRows<{ version: number }>(store, `SELECT DISTINCT version FROM ${ledger}`)).map((r) =>
      Number(r.version),
    ),
  );
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(migration.version)) continue;
    for (const statement of migration.statements(store)) await store.client.command({ query: statement });
    await store.client.insert({
      table: ledger,
      values: [{ version: migration.version, name: migration.name }],
      format: 'JSONEachRow',
    });
    logger.info({ version: migration.version, name: migration.name }, 'applied ClickHouse migration');
    applied.push(migration.version);
  }
  return applied;
}
