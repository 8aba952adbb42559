import { decodeBatch, type SampleBatch } from '../../domain/metrics/batch.js';
import type { SeriesDef } from '../../domain/metrics/kinds.js';
import type { AnalyticsStore } from '../../stores/clickhouse/client.js';
import { queryRows } from '../../stores/clickhouse/client.js';
import type { Position, RecordedEvent } from '../../stores/event-store/port.js';
import type { Projection } from '../projection.js';
import { encodeSamples, SAMPLE_COLUMNS } from './encode.js';

interface Prepared {
  readonly definitions: readonly SeriesDef[];
  readonly rows: number;
  readonly block: Uint8Array[];
}

export const SAMPLES_TABLE = 'samples';
export const SERIES_TABLE = 'series';
export const ROLLUPS = [
  { table: 'samples_1m', bucket: 'toStartOfMinute', seconds: 60 },
  { table: 'samples_1h', bucket: 'toStartOfHour', seconds: 3600 },
] as const;

/**
 * The metric series projection: every `batchFlushed` event in a `samples-*` stream becomes rows of the
 * `samples` table (one Native insert per write), and its series definitions rows of `series`.
 * Materialized views keep the rollups.
 *
 * Exactly once, rollups included: rows carry their batch's log position. To recover, the rows past the
 * checkpoint are deleted from `samples`; views do not see deletes, so the rollup buckets those rows
 * touched are deleted too and recomputed from the raw samples that remain, before the log is replayed
 * from the checkpoint (which adds the replayed batches to the rollups through the views once more).
 */
export function metricSeriesProjection(): Projection {
  const knownSeries = new Set<string>();
  return {
    name: 'metric_series',
    filter: { categories: ['samples'], eventTypes: ['batchFlushed'] },
    tables: [SAMPLES_TABLE, SERIES_TABLE, ...ROLLUPS.map((r) => r.table)],
    // A batch event holds up to tens of thousands of samples: decoding and encoding a write of them
    // is done in one piece on the event loop, so a write takes a few events at a time.
    maxBatch: 16,

    /** Decodes the batches and encodes their samples as one Native block (CPU only). */
    prepare(events: readonly RecordedEvent[]): Prepared {
      const batches: { batch: SampleBatch; position: bigint }[] = [];
      const definitions = new Map<string, SeriesDef>();
      for (const event of events) {
        const batch = decodeBatch(event.data);
        batches.push({ batch, position: event.position });
        for (const def of batch.series) if (!knownSeries.has(def.id)) definitions.set(def.id, def);
      }
      return { definitions: [...definitions.values()], ...encodeSamples(batches) };
    },

    async write(events: readonly RecordedEvent[], analytics: AnalyticsStore, prepared?: unknown) {
      const { definitions, rows, block } =
        (prepared as Prepared | undefined) ?? (this.prepare!(events) as Prepared);
      // The catalogue first: a series is never in `samples` without its definition. Re-inserting a
      // definition is harmless (ReplacingMergeTree on the id; definitions never change).
      const fresh = definitions.filter((def) => !knownSeries.has(def.id));
      if (fresh.length) {
        await analytics.client.insert({
          table: analytics.table(SERIES_TABLE),
          values: fresh.map((def) => ({
            series_id: def.id,
            name: def.name,
            family: def.family,
            kind: def.kind,
            role: def.role,
            unit: def.unit,
            labels: def.labels,
          })),
          format: 'JSONEachRow',
        });
        for (const def of fresh) knownSeries.add(def.id);
      }
      if (rows > 0) await analytics.insertNative(SAMPLES_TABLE, SAMPLE_COLUMNS, block);
    },

    async recover(analytics: AnalyticsStore, checkpoint: Position | null) {
      if (checkpoint === null) knownSeries.clear(); // a rebuild: the catalogue starts empty
      const samples = analytics.table(SAMPLES_TABLE);
      const after = (checkpoint ?? 0n).toString();
      const [touched] = await queryRows<{ n: string; from: string; to: string }>(
        analytics,
        `SELECT count() AS n, toUnixTimestamp(min(ts)) AS from, toUnixTimestamp(max(ts)) AS to
           FROM ${samples} WHERE position > {after:UInt64}`,
        { after },
      );
      if (!touched || touched.n === '0') return;
      await analytics.client.command({
        query: `DELETE FROM ${samples} WHERE position > {after:UInt64}`,
        query_params: { after },
      });
      for (const rollup of ROLLUPS) {
        const table = analytics.table(rollup.table);
        const range = { from: Number(touched.from), to: Number(touched.to) };
        const where = `bucket >= ${rollup.bucket}(toDateTime({from:UInt32}, 'UTC')) AND bucket <= ${rollup.bucket}(toDateTime({to:UInt32}, 'UTC'))`;
        await analytics.client.command({ query: `DELETE FROM ${table} WHERE ${where}`, query_params: range });
        await analytics.client.command({
          query: `INSERT INTO ${table}
                  SELECT series_id, ${rollup.bucket}(ts) AS bucket, count(), sum(value), min(value), max(value),
                         quantileTDigestState(value)
                    FROM ${samples}
                   WHERE ts >= ${rollup.bucket}(toDateTime({from:UInt32}, 'UTC'))
                     AND ts < ${rollup.bucket}(toDateTime({to:UInt32}, 'UTC')) + INTERVAL ${rollup.seconds} SECOND
                   GROUP BY series_id, bucket`,
          query_params: range,
        });
      }
    },
  };
}
