import type { Migration } from './migration.js';

/** What pipelines found: per-batch quality findings, and the late samples they routed out. */
export const migration0004: Migration = {
  version: 4,
  name: 'pipeline_quality',
  statements: (store) => [
    `CREATE TABLE IF NOT EXISTS ${store.table('quality_findings')} (
      pipeline_id       LowCardinality(String),
      found_at          DateTime64(3, 'UTC'),
      source_position   UInt64,
      watermark         Nullable(DateTime64(3, 'UTC')),
      samples_in        UInt64,
      schema_violations UInt64,
      duplicates        UInt64,
      out_of_order      UInt64,
      late              UInt64,
      gaps              Array(Tuple(series_id UInt64, from DateTime64(3, 'UTC'), to DateTime64(3, 'UTC'))),
      position          UInt64
    ) ENGINE = MergeTree
    PARTITION BY toYYYYMM(found_at)
    ORDER BY (pipeline_id, found_at)`,
    `CREATE TABLE IF NOT EXISTS ${store.table('late_samples')} (
      pipeline_id LowCardinality(String),
      series_id   UInt64,
      ts          DateTime64(3, 'UTC'),
      value       Float64,
      routed_at   DateTime64(3, 'UTC'),
      position    UInt64
    ) ENGINE = MergeTree
    PARTITION BY toYYYYMM(routed_at)
    ORDER BY (pipeline_id, series_id, ts)`,
  ],
};
