import type { Migration } from './migration.js';

/** Stored shapes that pipelines found in series: which pattern, where, and how close. */
export const migration0007: Migration = {
  version: 7,
  name: 'patterns',
  statements: (store) => [
    `CREATE TABLE IF NOT EXISTS ${store.table('patterns')} (
      pipeline_id LowCardinality(String),
      series_id   UInt64,
      name        LowCardinality(String),
      labels      Map(LowCardinality(String), String),
      ts          DateTime64(3, 'UTC'),
      pattern     LowCardinality(String),
      distance    Float64,
      position    UInt64
    ) ENGINE = MergeTree
    PARTITION BY toYYYYMM(ts)
    ORDER BY (series_id, ts)`,
  ],
};
