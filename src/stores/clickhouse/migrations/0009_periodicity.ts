import type { Migration } from './migration.js';

/**
 * Changes of series' periodicity that pipelines found: seasonality detected or lost, dominant
 * frequencies changed, anomalies recurring at a regular interval; one row per finding event.
 */
export const migration0009: Migration = {
  version: 9,
  name: 'periodicity',
  statements: (store) => [
    `CREATE TABLE IF NOT EXISTS ${store.table('periodicity')} (
      pipeline_id     LowCardinality(String),
      series_id       UInt64,
      name            LowCardinality(String),
      labels          Map(LowCardinality(String), String),
      ts              DateTime64(3, 'UTC'),
      finding         LowCardinality(String),
      period          Float64,
      period_ms       Nullable(Float64),
      strength        Float64,
      previous_period Nullable(Float64),
      frequencies     Array(Float64),
      powers          Array(Float64),
      interval_ms     Float64,
      occurrences     UInt32,
      position        UInt64
    ) ENGINE = MergeTree
    PARTITION BY toYYYYMM(ts)
    ORDER BY (series_id, ts)`,
  ],
};
