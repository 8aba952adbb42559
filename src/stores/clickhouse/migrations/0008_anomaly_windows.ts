import type { Migration } from './migration.js';

/** Which sliding window an anomaly departs from most, and that window's statistics before the sample. */
export const migration0008: Migration = {
  version: 8,
  name: 'anomaly_windows',
  statements: (store) => [
    `ALTER TABLE ${store.table('anomalies')}
      ADD COLUMN IF NOT EXISTS window       LowCardinality(String) DEFAULT '' AFTER expected_high,
      ADD COLUMN IF NOT EXISTS window_count UInt32  DEFAULT 0 AFTER window,
      ADD COLUMN IF NOT EXISTS window_mean  Float64 DEFAULT 0 AFTER window_count,
      ADD COLUMN IF NOT EXISTS window_std   Float64 DEFAULT 0 AFTER window_mean,
      ADD COLUMN IF NOT EXISTS window_min   Float64 DEFAULT 0 AFTER window_std,
      ADD COLUMN IF NOT EXISTS window_max   Float64 DEFAULT 0 AFTER window_min`,
  ],
};
