import type { Migration } from './migration.js';

/** What pipelines' detectors found: anomalies and trend changes, by series and time. */
export const migration0005: Migration = {
  version: 5,
  name: 'anomalies_trends',
  statements: (store) => [
    `CREATE TABLE IF NOT EXISTS ${store.table('anomalies')} (
      pipeline_id   LowCardinality(String),
      series_id     UInt64,
      name          LowCardinality(String),
      labels        Map(LowCardinality(String), String),
      ts            DateTime64(3, 'UTC'),
      value         Float64,
      score         Float64,
      detector      LowCardinality(String),
      expected_low  Float64,
      expected_high Float64,
      detected_at   DateTime64(3, 'UTC'),
      position      UInt64
    ) ENGINE = MergeTree
    PARTITION BY toYYYYMM(ts)
    ORDER BY (series_id, ts)`,
    `CREATE TABLE IF NOT EXISTS ${store.table('trends')} (
      pipeline_id LowCardinality(String),
      series_id   UInt64,
      name        LowCardinality(String),
      labels      Map(LowCardinality(String), String),
      ts          DateTime64(3, 'UTC'),
      direction   LowCardinality(String),
      strength    LowCardinality(String),
      slope       Float64,
      slope_low   Float64,
      slope_high  Float64,
      p_value     Float64,
      momentum    Float64,
      position    UInt64
    ) ENGINE = MergeTree
    PARTITION BY toYYYYMM(ts)
    ORDER BY (series_id, ts)`,
  ],
};
