import type { Migration } from './migration.js';

/** Every alert transition (pending, fired, escalated, resolved, acknowledged), by time and severity. */
export const migration0006: Migration = {
  version: 6,
  name: 'alerts',
  statements: (store) => [
    `CREATE TABLE IF NOT EXISTS ${store.table('alerts')} (
      manager_id  LowCardinality(String),
      alert_key   String,
      rule        LowCardinality(String),
      series_id   UInt64,
      labels      Map(LowCardinality(String), String),
      transition  LowCardinality(String),
      severity    LowCardinality(String),
      value       Float64,
      at          DateTime64(3, 'UTC'),
      acknowledged_by String,
      position    UInt64
    ) ENGINE = MergeTree
    PARTITION BY toYYYYMM(at)
    ORDER BY (rule, alert_key, at)`,
  ],
};
