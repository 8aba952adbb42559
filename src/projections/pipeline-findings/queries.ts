import { type AnalyticsStore, queryRows } from '../../stores/clickhouse/client.js';
import type { TimeRange } from '../metric-series/queries.js';

export interface AnomalyRow {
  readonly pipelineId: string;
  readonly seriesId: string;
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly ts: number;
  readonly value: number;
  readonly score: number;
  readonly detector: string;
  readonly expectedLow: number;
  readonly expectedHigh: number;
  /** The window the value departs from most, and its statistics before the sample. */
  readonly window: string;
  readonly windowCount: number;
  readonly windowMean: number;
  readonly windowStd: number;
  readonly windowMin: number;
  readonly windowMax: number;
}

export interface TrendRow {
  readonly pipelineId: string;
  readonly seriesId: string;
  readonly ts: number;
  readonly direction: string;
  readonly strength: string;
  readonly slope: number;
  readonly pValue: number;
}

export type FindingsQuery = TimeRange & {
  seriesId?: string;
  pipelineId?: string;
  limit?: number;
  /** Rows to skip first (pages of a connection). */
  offset?: number;
};

/**
 * One findings table's rows in a time range (by the sample's time), by series or pipeline and any
 * `extra` conditions; oldest first (ties by series, then log position). `columns` are the table's own
 * columns after the shared leading ones (pipeline, series, time).
 */
async function findingsIn<Row extends { ts: number }>(
  store: AnalyticsStore,
  table: string,
  columns: string,
  query: FindingsQuery,
  extra: { where?: string; params?: Record<string, unknown> } = {},
): Promise<Row[]> {
  const rows = await queryRows<Omit<Row, 'ts'> & { tsMs: string }>(
    store,
    `SELECT pipeline_id AS pipelineId, toString(series_id) AS seriesId, toUnixTimestamp64Milli(ts) AS tsMs,
            ${columns}
       FROM ${store.table(table)}
      WHERE ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
        ${query.seriesId ? 'AND series_id = {seriesId:UInt64}' : ''}
        ${query.pipelineId ? 'AND pipeline_id = {pipelineId:String}' : ''}
        ${extra.where ?? ''}
      ORDER BY ts, series_id, position LIMIT {limit:UInt32} OFFSET {offset:UInt64}`,
    {
      from: query.from.getTime(),
      to: query.to.getTime(),
      seriesId: query.seriesId,
      pipelineId: query.pipelineId,
      limit: query.limit ?? 10_000,
      offset: query.offset ?? 0,
      ...extra.params,
    },
  );
  return rows.map(({ tsMs, ...row }) => ({ ...row, ts: Number(tsMs) }) as unknown as Row);
}

/** Anomalies in a time range, by series or pipeline, at or above a score; oldest first. */
export function findAnomalies(
  store: AnalyticsStore,
  query: FindingsQuery & { minScore?: number },
): Promise<AnomalyRow[]> {
  return findingsIn<AnomalyRow>(
    store,
    'anomalies',
    `name, labels, value, score, detector, expected_low AS expectedLow, expected_high AS expectedHigh,
     window, window_count AS windowCount, window_mean AS windowMean, window_std AS windowStd,
     window_min AS windowMin, window_max AS windowMax`,
    query,
    { where: 'AND score >= {minScore:Float64}', params: { minScore: query.minScore ?? 0 } },
  );
}

/** Trend changes in a time range, by series or pipeline; oldest first. */
export function findTrends(store: AnalyticsStore, query: FindingsQuery): Promise<TrendRow[]> {
  return findingsIn<TrendRow>(store, 'trends', 'direction, strength, slope, p_value AS pValue', query);
}

export interface PeriodicityRow {
  readonly pipelineId: string;
  readonly seriesId: string;
  readonly ts: number;
  /** `seasonalityDetected`, `seasonalityLost`, `frequenciesChanged` or `recurringAnomalyDetected`. */
  readonly finding: string;
  readonly period: number;
  readonly periodMs: number | null;
  readonly strength: number;
  readonly previousPeriod: number | null;
  /** Cycles per sample, strongest first, and each one's share of the power. */
  readonly frequencies: number[];
  readonly powers: number[];
  readonly intervalMs: number;
  readonly occurrences: number;
}

/** Periodicity changes in a time range, by series or pipeline; oldest first. */
export function findPeriodicity(store: AnalyticsStore, query: FindingsQuery): Promise<PeriodicityRow[]> {
  return findingsIn<PeriodicityRow>(
    store,
    'periodicity',
    `finding, period, period_ms AS periodMs, strength, previous_period AS previousPeriod,
     frequencies, powers, interval_ms AS intervalMs, occurrences`,
    query,
  );
}

export interface PatternRow {
  readonly pipelineId: string;
  readonly seriesId: string;
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly ts: number;
  readonly pattern: string;
  readonly distance: number;
}

/** Stored-shape matches in a time range, by series, pipeline or pattern; oldest first. */
export function findPatterns(
  store: AnalyticsStore,
  query: FindingsQuery & { pattern?: string },
): Promise<PatternRow[]> {
  return findingsIn<PatternRow>(store, 'patterns', 'name, labels, pattern, distance', query, {
    where: query.pattern ? 'AND pattern = {pattern:String}' : '',
    params: { pattern: query.pattern },
  });
}
