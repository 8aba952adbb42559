import { decodeBatch } from '../../domain/metrics/batch.js';
import {
  type AnomalyDetected,
  type FrequenciesChanged,
  PERIODICITY_EVENT_TYPES,
  type RecurringAnomalyDetected,
  type SeasonalityDetected,
  type SeriesFindingData,
} from '../../domain/pipeline/findings.js';
import type { RecordedEvent } from '../../stores/event-store/port.js';
import { clickhouseTime } from '../audit-index/mapping.js';
import type { Row } from '../projection.js';

export const FINDINGS_TABLE = 'quality_findings';
export const LATE_TABLE = 'late_samples';
export const ANOMALIES_TABLE = 'anomalies';
export const TRENDS_TABLE = 'trends';
export const PATTERNS_TABLE = 'patterns';
export const PERIODICITY_TABLE = 'periodicity';

interface FindingsData {
  sourcePosition: string;
  watermark: number | null;
  samplesIn: number;
  schemaViolations: number;
  duplicates: number;
  outOfOrder: number;
  late: number;
  gaps: { seriesId: string; from: number; to: number }[];
}

interface SeriesFinding {
  seriesId: string;
  name: string;
  labels: Record<string, string>;
  ts: number;
}

/** The columns every per-series finding row starts with. */
function seriesColumns(pipelineId: string, d: SeriesFinding, position: string): Row {
  return {
    pipeline_id: pipelineId,
    series_id: d.seriesId,
    name: d.name,
    labels: d.labels as unknown as string,
    ts: clickhouseTime(new Date(d.ts)),
    position,
  };
}

/** A periodicity finding as a row: the columns a finding does not have are 0, empty or null. */
function periodicityRow(pipelineId: string, event: RecordedEvent, position: string): Row {
  const d = event.data as unknown as SeriesFindingData &
    Partial<SeasonalityDetected & FrequenciesChanged & RecurringAnomalyDetected>;
  return {
    ...seriesColumns(pipelineId, d, position),
    finding: event.type,
    period: d.period ?? 0,
    period_ms: d.periodMs ?? null,
    strength: d.strength ?? 0,
    previous_period: d.previousPeriod ?? null,
    frequencies: (d.frequencies ?? []).map((f) => f.frequency) as unknown as string,
    powers: (d.frequencies ?? []).map((f) => f.power) as unknown as string,
    interval_ms: d.intervalMs ?? 0,
    occurrences: d.occurrences ?? 0,
    position,
  };
}

/** Rows for the findings tables from `findings-<pipeline>` events. Pure. */
export function findingRows(events: readonly RecordedEvent[]): Record<string, Row[]> {
  const findings: Row[] = [];
  const late: Row[] = [];
  const anomalies: Row[] = [];
  const trends: Row[] = [];
  const patterns: Row[] = [];
  const periodicity: Row[] = [];
  for (const event of events) {
    const pipelineId = event.streamId.slice('findings-'.length);
    const position = event.position.toString();
    if (event.type === 'anomalyDetected') {
      const d = event.data as unknown as AnomalyDetected;
      const window = d.windows?.find((w) => w.name === d.window);
      anomalies.push({
        ...seriesColumns(pipelineId, d, position),
        value: d.value,
        score: d.score,
        detector: d.detector,
        expected_low: d.expectedLow,
        expected_high: d.expectedHigh,
        window: window?.name ?? '',
        window_count: window?.count ?? 0,
        window_mean: window?.mean ?? 0,
        window_std: window?.std ?? 0,
        window_min: window?.min ?? 0,
        window_max: window?.max ?? 0,
        detected_at: clickhouseTime(event.createdAt),
        position,
      });
    } else if (event.type === 'patternMatched') {
      const d = event.data as unknown as SeriesFinding & { pattern: string; distance: number };
      patterns.push({
        ...seriesColumns(pipelineId, d, position),
        pattern: d.pattern,
        distance: d.distance,
        position,
      });
    } else if ((PERIODICITY_EVENT_TYPES as readonly string[]).includes(event.type)) {
      periodicity.push(periodicityRow(pipelineId, event, position));
    } else if (event.type === 'trendChanged') {
      const d = event.data as unknown as SeriesFinding &
        Record<'direction' | 'strength', string> &
        Record<'slope' | 'slopeLow' | 'slopeHigh' | 'pValue' | 'momentum', number>;
      trends.push({
        ...seriesColumns(pipelineId, d, position),
        direction: d.direction,
        strength: d.strength,
        slope: d.slope,
        slope_low: d.slopeLow,
        slope_high: d.slopeHigh,
        p_value: d.pValue,
        momentum: d.momentum,
        position,
      });
    } else if (event.type === 'qualityIssuesFound') {
      const d = event.data as unknown as FindingsData;
      findings.push({
        pipeline_id: pipelineId,
        found_at: clickhouseTime(event.createdAt),
        source_position: d.sourcePosition,
        watermark: d.watermark === null ? null : clickhouseTime(new Date(d.watermark)),
        samples_in: d.samplesIn,
        schema_violations: d.schemaViolations,
        duplicates: d.duplicates,
        out_of_order: d.outOfOrder,
        late: d.late,
        gaps: d.gaps.map((g) => [
          g.seriesId,
          clickhouseTime(new Date(g.from)),
          clickhouseTime(new Date(g.to)),
        ]) as unknown as string,
        position,
      });
    } else if (event.type === 'lateSamplesRouted') {
      const batch = decodeBatch((event.data as { batch: unknown }).batch);
      for (let i = 0; i < batch.values.length; i++) {
        late.push({
          pipeline_id: pipelineId,
          series_id: batch.series[batch.seriesIndex[i]!]!.id,
          ts: clickhouseTime(new Date(batch.timestamps[i]!)),
          value: batch.values[i]!,
          routed_at: clickhouseTime(event.createdAt),
          position,
        });
      }
    }
  }
  return {
    [FINDINGS_TABLE]: findings,
    [LATE_TABLE]: late,
    [ANOMALIES_TABLE]: anomalies,
    [TRENDS_TABLE]: trends,
    [PATTERNS_TABLE]: patterns,
    [PERIODICITY_TABLE]: periodicity,
  };
}
