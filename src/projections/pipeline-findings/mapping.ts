import { type Fact, readFact } from '../../domain/facts.js';
import { decodePayload } from '../../domain/metrics/batch.js';
import { flattenPeriodicity, type SeriesFindingData } from '../../domain/pipeline/findings.js';
import type { RecordedEvent } from '../../stores/event-store/port.js';
import { clickhouseTime } from '../audit-index/mapping.js';
import type { Row } from '../projection.js';

export const FINDINGS_TABLE = 'quality_findings';
export const LATE_TABLE = 'late_samples';
export const ANOMALIES_TABLE = 'anomalies';
export const TRENDS_TABLE = 'trends';
export const PATTERNS_TABLE = 'patterns';
export const PERIODICITY_TABLE = 'periodicity';

/** The columns every per-series finding row starts with. */
function seriesColumns(pipelineId: string, d: SeriesFindingData, position: string): Row {
  return {
    pipeline_id: pipelineId,
    series_id: d.seriesId,
    name: d.name,
    labels: d.labels as unknown as string,
    ts: clickhouseTime(new Date(d.ts)),
    position,
  };
}

type Periodicity = Extract<
  Fact,
  { type: 'seasonalityDetected' | 'seasonalityLost' | 'frequenciesChanged' | 'recurringAnomalyDetected' }
>;

/** A periodicity finding as a row: the columns a finding does not have are 0, empty or null. */
function periodicityRow(pipelineId: string, fact: Periodicity, position: string): Row {
  const flat = flattenPeriodicity(fact);
  return {
    ...seriesColumns(pipelineId, fact.data, position),
    finding: fact.type,
    period: flat.period,
    period_ms: flat.periodMs,
    strength: flat.strength,
    previous_period: flat.previousPeriod,
    frequencies: flat.frequencies as unknown as string,
    powers: flat.powers as unknown as string,
    interval_ms: flat.intervalMs,
    occurrences: flat.occurrences,
    position,
  };
}

/** Rows for the findings tables from `findings-<pipeline>` facts (each parsed with its schema). Pure. */
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
    const fact = readFact(event);
    switch (fact.type) {
      case 'anomalyDetected': {
        const d = fact.data;
        const window = d.windows.find((w) => w.name === d.window);
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
        break;
      }
      case 'patternMatched':
        patterns.push({
          ...seriesColumns(pipelineId, fact.data, position),
          pattern: fact.data.pattern,
          distance: fact.data.distance,
          position,
        });
        break;
      case 'seasonalityDetected':
      case 'seasonalityLost':
      case 'frequenciesChanged':
      case 'recurringAnomalyDetected':
        periodicity.push(periodicityRow(pipelineId, fact, position));
        break;
      case 'trendChanged': {
        const d = fact.data;
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
        break;
      }
      case 'qualityIssuesFound': {
        const d = fact.data;
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
          // A named tuple takes an object in JSONEachRow.
          gaps: d.gaps.map((g) => ({
            series_id: g.seriesId,
            from: clickhouseTime(new Date(g.from)),
            to: clickhouseTime(new Date(g.to)),
          })) as unknown as string,
          position,
        });
        break;
      }
      case 'lateSamplesRouted': {
        const batch = decodePayload(fact.data.batch);
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
        break;
      }
      default:
        break; // not a finding with a table (yet): every fact of the stream is still parsed above
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
