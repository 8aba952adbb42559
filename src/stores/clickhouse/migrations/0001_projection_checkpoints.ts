import type { Migration } from './migration.js';

/** Where each projection has got to: the position of the last event whose rows are written. */
export const migration0001: Migration = {
  version: 1,
  name: 'projection_checkpoints',
  statements: (store) => [
    `CREATE TABLE IF NOT EXISTS ${store.table('projection_checkpoints')} (
      projection_name LowCardinality(String),
      position UInt64,
      updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
    ) ENGINE = ReplacingMergeTree(position)
    ORDER BY projection_name`,
  ],
};
