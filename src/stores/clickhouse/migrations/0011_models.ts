import type { Migration } from './migration.js';

/**
 * Models (`model-<id>` streams) and their versions. Each fact that changes a model or a version adds
 * a row keyed by its log position, so a replayed event lands on the same key; the current row of a
 * model (of a version) is the one with the highest position.
 */
export const migration0011: Migration = {
  version: 11,
  name: 'models',
  statements: (store) => [
    `CREATE TABLE IF NOT EXISTS ${store.table('models')} (
      model_id         String,
      name             String,
      algorithm        LowCardinality(String),
      task             LowCardinality(String),
      state            LowCardinality(String),
      deployed_version Nullable(UInt32),
      versions         UInt32,
      last_version     UInt32,
      registered_at    Nullable(DateTime64(3, 'UTC')),
      updated_at       DateTime64(3, 'UTC'),
      updated_by       String,
      updated_by_fact  LowCardinality(String),
      position         UInt64
    ) ENGINE = ReplacingMergeTree
    ORDER BY (model_id, position)`,
    `CREATE TABLE IF NOT EXISTS ${store.table('model_versions')} (
      model_id        String,
      version         UInt32,
      status          LowCardinality(String),
      algorithm       LowCardinality(String),
      implementation  LowCardinality(String),
      params          String,
      feature_names   String,
      data_source     LowCardinality(String),
      data_rows       UInt64,
      train_rows      UInt64,
      test_rows       UInt64,
      data_from       Nullable(DateTime64(3, 'UTC')),
      data_to         Nullable(DateTime64(3, 'UTC')),
      data_hash       String,
      metrics         String,
      train_ms        Float64,
      artifact_kind   LowCardinality(String),
      artifact_sha256 String,
      artifact_bytes  UInt64,
      requested_at    Nullable(DateTime64(3, 'UTC')),
      requested_by    String,
      trained_at      Nullable(DateTime64(3, 'UTC')),
      trained_by      String,
      failure_reason  String,
      deployed        Bool,
      position        UInt64
    ) ENGINE = ReplacingMergeTree
    ORDER BY (model_id, version, position)`,
  ],
};
