import type { Migration } from './migration.js';

/**
 * Scheduled forecasts (`forecastMade`, one row per forecast point) and their scores (`forecastScored`,
 * one row per scored point) from the `forecasts-<ruleId>` streams.
 */
export const migration0012: Migration = {
  version: 12,
  name: 'forecasts',
  statements: (store) => [
    `CREATE TABLE IF NOT EXISTS ${store.table('forecasts')} (
      rule_id     LowCardinality(String),
      forecast_id String,
      series_id   UInt64,
      made_at     DateTime64(3, 'UTC'),
      step_ms     UInt64,
      ts          DateTime64(3, 'UTC'),
      mean        Float64,
      lower80     Float64,
      upper80     Float64,
      lower95     Float64,
      upper95     Float64,
      method      LowCardinality(String),
      position    UInt64
    ) ENGINE = ReplacingMergeTree
    PARTITION BY toYYYYMM(ts)
    ORDER BY (series_id, ts, made_at, rule_id)`,
    `CREATE TABLE IF NOT EXISTS ${store.table('forecast_errors')} (
      rule_id     LowCardinality(String),
      forecast_id String,
      series_id   UInt64,
      made_at     DateTime64(3, 'UTC'),
      scored_at   DateTime64(3, 'UTC'),
      ts          DateTime64(3, 'UTC'),
      mean        Float64,
      actual      Float64,
      error       Float64,
      ape         Nullable(Float64),
      inside80    Bool,
      inside95    Bool,
      position    UInt64
    ) ENGINE = ReplacingMergeTree
    PARTITION BY toYYYYMM(ts)
    ORDER BY (series_id, ts, made_at, rule_id)`,
  ],
};
