import type { Migration } from './migration.js';

/** Live predictions (`predictionsMade`, one row per prediction) from the `predictions-<attachmentId>` streams. */
export const migration0013: Migration = {
  version: 13,
  name: 'predictions',
  statements: (store) => [
    `CREATE TABLE IF NOT EXISTS ${store.table('predictions')} (
      attachment_id LowCardinality(String),
      model_id      LowCardinality(String),
      version       UInt32,
      series_id     UInt64,
      ts            DateTime64(3, 'UTC'),
      value         Float64,
      position      UInt64
    ) ENGINE = ReplacingMergeTree(position)
    PARTITION BY toYYYYMM(ts)
    ORDER BY (attachment_id, ts, series_id)`,
  ],
};
