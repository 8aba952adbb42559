import { randomUUID } from 'node:crypto';
import { factVersion } from '../domain/facts.js';
import type { SeriesDeleted, SeriesDeletionRequested } from '../domain/retention/facts.js';
import { forgetSeries } from '../projections/metric-series/selector.js';
import { envelope } from '../runtime/envelope.js';
import { type AnalyticsStore, queryRows } from '../stores/clickhouse/client.js';
import type { EventStore, Position } from '../stores/event-store/port.js';
import { removeRows } from './remove-rows.js';

export const DELETION_STREAM = 'deletion-main';

/** Tables whose rows belong to a series (each row with the log position it came from). */
const SERIES_TABLES = [
  'samples',
  'anomalies',
  'trends',
  'patterns',
  'periodicity',
  'late_samples',
  'alerts',
  'predictions',
  'forecasts',
  'forecast_errors',
] as const;
const ROLLUPS = [
  { table: 'samples_1m', bucket: 'toStartOfMinute' },
  { table: 'samples_1h', bucket: 'toStartOfHour' },
] as const;

export interface SeriesDeletion {
  readonly seriesIds: readonly string[];
  /** The request's log position: every record of the series from before it is gone. */
  readonly position: Position;
  readonly tables: SeriesDeleted['tables'];
}

export interface DeleteSeriesDeps {
  readonly events: EventStore;
  readonly analytics: AnalyticsStore;
  /** Resolves once every projection and pipeline has handled the log up to a position. */
  readonly projected: (position: Position) => Promise<void>;
}

/**
 * Secure disposal of series: records who asked (`seriesDeletionRequested` in `deletion-main`, the
 * caller as principal), waits until every projection has written what came before it, then removes
 * the series' samples, rollups, findings, alerts, predictions and forecasts written from events before
 * the request (samples sent after it start the series again), drops it from the catalogue when
 * nothing of it remains, and records what went (`seriesDeleted`, caused by the request).
 */
export async function deleteSeries(
  deps: DeleteSeriesDeps,
  seriesIds: readonly string[],
  principal: string,
  reason: string | null,
): Promise<SeriesDeletion> {
  const { events, analytics } = deps;
  const requestId = randomUUID();
  const request: SeriesDeletionRequested = { seriesIds: [...seriesIds], reason, at: Date.now() };
  const appended = await events.append(DELETION_STREAM, [
    {
      id: requestId,
      type: 'seriesDeletionRequested',
      data: request,
      metadata: envelope({ principal, schemaVersion: factVersion('seriesDeletionRequested') }, requestId),
    },
  ]);
  const position = appended.position;
  await deps.projected(position);
  const params = { ids: seriesIds.map((id) => BigInt(id)), before: position.toString() };
  const tables: SeriesDeleted['tables'] = [];
  const removeWhere = async (table: string, where: string) => {
    tables.push({ table, removed: await removeRows(analytics, table, where, params) });
  };
  const ofSeries = 'series_id IN {ids:Array(UInt64)}';
  for (const table of SERIES_TABLES) await removeWhere(table, `${ofSeries} AND position < {before:UInt64}`);
  // Rollups carry no position: the series' buckets go, and are made again from the samples that
  // remain and were written before they went (later ones reach the rollups through the views).
  for (const rollup of ROLLUPS) {
    const [written] = await queryRows<{ p: string }>(
      analytics,
      `SELECT toString(max(position)) AS p FROM ${analytics.table('samples')} WHERE ${ofSeries}`,
      params,
    );
    await removeWhere(rollup.table, ofSeries);
    await analytics.client.command({
      query: `INSERT INTO ${analytics.table(rollup.table)}
              SELECT series_id, ${rollup.bucket}(ts) AS bucket, count(), sum(value), min(value), max(value),
                     quantileTDigestState(value)
                FROM ${analytics.table('samples')} WHERE ${ofSeries} AND position <= {written:UInt64}
               GROUP BY series_id, bucket`,
      query_params: { ...params, written: written?.p ?? '0' },
    });
  }
  await removeWhere(
    'series',
    `${ofSeries} AND series_id NOT IN (SELECT DISTINCT series_id FROM ${analytics.table('samples')} WHERE ${ofSeries})`,
  );
  forgetSeries(analytics, seriesIds);
  const doneId = randomUUID();
  const done: SeriesDeleted = {
    seriesIds: seriesIds.length,
    before: position.toString(),
    tables,
    at: Date.now(),
  };
  await events.append(DELETION_STREAM, [
    {
      id: doneId,
      type: 'seriesDeleted',
      data: done,
      metadata: envelope(
        {
          principal: 'system:retention',
          schemaVersion: factVersion('seriesDeleted'),
          source: { id: requestId, position },
        },
        doneId,
      ),
    },
  ]);
  return { seriesIds, position, tables };
}
