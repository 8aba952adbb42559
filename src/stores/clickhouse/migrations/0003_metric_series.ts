import type { Migration } from './migration.js';

/**
 * Metric series: the series catalogue, raw samples stored by type (decimal values as scaled
 * integers, the rest as doubles), and 1-minute and 1-hour rollups kept by materialized views.
 * Retention (TTL) defaults here; `applyRetention` sets the configured values at start-up.
 *
 * Codecs, measured on a mix of noisy 2-decimal gauges, counters, near-constant and full-precision
 * series (see the ingest benchmark): DoubleDelta on timestamps, T64 on scaled integers, plain ZSTD on
 * doubles (Gorilla loses on decimal data).
 */
export const migration0003: Migration = {
  version: 3,
  name: 'metric_series',
  statements: (store) => [
    `CREATE TABLE IF NOT EXISTS ${store.table('series')} (
      series_id UInt64,
      name      LowCardinality(String),
      family    LowCardinality(String),
      kind      LowCardinality(String),
      role      LowCardinality(String),
      unit      LowCardinality(String),
      labels    Map(LowCardinality(String), String)
    ) ENGINE = ReplacingMergeTree
    ORDER BY series_id`,
    `CREATE TABLE IF NOT EXISTS ${store.table('samples')} (
      series_id   UInt64 CODEC(Delta, ZSTD(1)),
      ts          DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
      scale       UInt8 CODEC(ZSTD(1)),
      int_value   Int64 CODEC(Delta, T64, ZSTD(1)),
      float_value Float64 CODEC(FPC(20), ZSTD(1)),
      position    UInt64 CODEC(DoubleDelta, ZSTD(1)),
      value       Float64 ALIAS if(scale = 255, float_value, int_value / exp10(scale))
    ) ENGINE = MergeTree
    PARTITION BY toYYYYMMDD(ts)
    ORDER BY (series_id, ts)
    TTL toDateTime(ts) + INTERVAL 30 DAY`,
    ...(['1m', '1h'] as const).flatMap((tier) => {
      const bucket = tier === '1m' ? 'toStartOfMinute(ts)' : 'toStartOfHour(ts)';
      const days = tier === '1m' ? 180 : 730;
      return [
        `CREATE TABLE IF NOT EXISTS ${store.table(`samples_${tier}`)} (
          series_id UInt64,
          bucket    DateTime('UTC'),
          count     SimpleAggregateFunction(sum, UInt64),
          sum       SimpleAggregateFunction(sum, Float64),
          min       SimpleAggregateFunction(min, Float64),
          max       SimpleAggregateFunction(max, Float64),
          digest    AggregateFunction(quantileTDigest, Float64)
        ) ENGINE = AggregatingMergeTree
        PARTITION BY toYYYYMM(bucket)
        ORDER BY (series_id, bucket)
        TTL bucket + INTERVAL ${days} DAY`,
        `CREATE MATERIALIZED VIEW IF NOT EXISTS ${store.table(`samples_${tier}_mv`)} TO ${store.table(`samples_${tier}`)} AS
          SELECT series_id, ${bucket} AS bucket, count() AS count, sum(value) AS sum, min(value) AS min,
                 max(value) AS max, quantileTDigestState(value) AS digest
            FROM ${store.table('samples')}
           GROUP BY series_id, bucket`,
      ];
    }),
  ],
};
