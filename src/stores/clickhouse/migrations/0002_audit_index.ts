import type { Migration } from './migration.js';

/**
 * One row per event in the log: who did what to which stream, when, and why (correlation and
 * causation). Ordered for "history of a stream"; `position` ties each row to the log and lets the
 * projection remove rows written past its checkpoint after a crash.
 */
export const migration0002: Migration = {
  version: 2,
  name: 'audit_index',
  statements: (store) => [
    `CREATE TABLE IF NOT EXISTS ${store.table('audit_index')} (
      position        UInt64 CODEC(Delta, ZSTD(1)),
      stream_id       String CODEC(ZSTD(1)),
      category        LowCardinality(String),
      revision        UInt64 CODEC(Delta, ZSTD(1)),
      event_id        UUID,
      event_type      LowCardinality(String),
      created_at      DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
      principal       LowCardinality(String),
      correlation_id  String CODEC(ZSTD(1)),
      causation_id    String CODEC(ZSTD(1)),
      command_id      String CODEC(ZSTD(1)),
      machine_version UInt16,
      schema_version  UInt16,
      state           String CODEC(ZSTD(1))
    ) ENGINE = MergeTree
    PARTITION BY toYYYYMM(created_at)
    ORDER BY (category, stream_id, revision)`,
  ],
};
