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

const RANGE =
  "ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({to:Int64}, 'UTC')";

/** Anomalies in a time range, by series or pipeline, at or above a score; oldest first. */
export async function findAnomalies(
  store: AnalyticsStore,
  query: TimeRange & { seriesId?: string; pipelineId?: string; minScore?: number; limit?: number },
): Promise<AnomalyRow[]> {
  const rows = await queryRows<Omit<AnomalyRow, 'ts'> & { tsMs: string }>(
    store,
    `SELECT pipeline_id AS pipelineId, toString(series_id) AS seriesId, name, labels, toUnixTimestamp64Milli(ts) AS tsMs,
            value, score, detector, expected_low AS expectedLow, expected_high AS expectedHigh,
            window, window_count AS windowCount, window_mean AS windowMean, window_std AS windowStd,
            window_min AS windowMin, window_max AS windowMax
       FROM ${store.table('anomalies')}
      WHERE ${RANGE} AND score >= {minScore:Float64}
        ${query.seriesId ? 'AND series_id = {seriesId:UInt64}' : ''}
        ${query.pipelineId ? 'AND pipeline_id = {pipelineId:String}' : ''}
      ORDER BY ts, series_id LIMIT {limit:UInt32}`,
    {
      from: query.from.getTime(),
      to: query.to.getTime(),
      minScore: query.minScore ?? 0,
      seriesId: query.seriesId,
      pipelineId: query.pipelineId,
      limit: query.limit ?? 10_000,
    },
  );
  return rows.map(({ tsMs, ...row }) => ({ ...row, ts: Number(tsMs) }));
}

/** Trend changes in a time range, by series or pipeline; oldest first. */
export async function findTrends(
  store: AnalyticsStore,
  query: TimeRange & { seriesId?: string; pipelineId?: string; limit?: number },
): Promise<TrendRow[]> {
  const rows = await queryRows<Omit<TrendRow, 'ts'> & { tsMs: string }>(
    store,
    `SELECT pipeline_id AS pipelineId, toString(series_id) AS seriesId, toUnixTimestamp64Milli(ts) AS tsMs,
            direction, strength, slope, p_value AS pValue
       FROM ${store.table('trends')}
      WHERE ${RANGE}
        ${query.seriesId ? 'AND series_id = {seriesId:UInt64}' : ''}
        ${query.pipelineId ? 'AND pipeline_id = {pipelineId:String}' : ''}
      ORDER BY ts, series_id LIMIT {limit:UInt32}`,
    {
      from: query.from.getTime(),
      to: query.to.getTime(),
      seriesId: query.seriesId,
      pipelineId: query.pipelineId,
      limit: query.limit ?? 10_000,
    },
  );
  return rows.map(({ tsMs, ...row }) => ({ ...row, ts: Number(tsMs) }));
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
export async function findPeriodicity(
  store: AnalyticsStore,
  query: TimeRange & { seriesId?: string; pipelineId?: string; limit?: number },
): Promise<PeriodicityRow[]> {
  const rows = await queryRows<Omit<PeriodicityRow, 'ts'> & { tsMs: string }>(
    store,
    `SELECT pipeline_id AS pipelineId, toString(series_id) AS seriesId, toUnixTimestamp64Milli(ts) AS tsMs,
            finding, period, period_ms AS periodMs, strength, previous_period AS previousPeriod,
            frequencies, powers, interval_ms AS intervalMs, occurrences
       FROM ${store.table('periodicity')}
      WHERE ${RANGE}
        ${query.seriesId ? 'AND series_id = {seriesId:UInt64}' : ''}
        ${query.pipelineId ? 'AND pipeline_id = {pipelineId:String}' : ''}
      ORDER BY ts, series_id, position LIMIT {limit:UInt32}`,
    {
      from: query.from.getTime(),
      to: query.to.getTime(),
      seriesId: query.seriesId,
      pipelineId: query.pipelineId,
      limit: query.limit ?? 10_000,
    },
  );
  return rows.map(({ tsMs, ...row }) => ({ ...row, ts: Number(tsMs) }));
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
export async function findPatterns(
  store: AnalyticsStore,
  query: TimeRange & { seriesId?: string; pipelineId?: string; pattern?: string; limit?: number },
): Promise<PatternRow[]> {
  const rows = await queryRows<Omit<PatternRow, 'ts'> & { tsMs: string }>(
    store,
    `SELECT pipeline_id AS pipelineId, toString(series_id) AS seriesId, name, labels,
            toUnixTimestamp64Milli(ts) AS tsMs, pattern, distance
       FROM ${store.table('patterns')}
      WHERE ${RANGE}
        ${query.seriesId ? 'AND series_id = {seriesId:UInt64}' : ''}
        ${query.pipelineId ? 'AND pipeline_id = {pipelineId:String}' : ''}
        ${query.pattern ? 'AND pattern = {pattern:String}' : ''}
      ORDER BY ts, series_id, position LIMIT {limit:UInt32}`,
    {
      from: query.from.getTime(),
      to: query.to.getTime(),
      seriesId: query.seriesId,
      pipelineId: query.pipelineId,
      pattern: query.pattern,
      limit: query.limit ?? 10_000,
    },
  );
  return rows.map(({ tsMs, ...row }) => ({ ...row, ts: Number(tsMs) }));
}
