import { decodeBatch } from '../../domain/metrics/batch.js';
import type { RecordedEvent } from '../../stores/event-store/port.js';
import { clickhouseTime } from '../audit-index/mapping.js';
import type { Row } from '../projection.js';

export const FINDINGS_TABLE = 'quality_findings';
export const LATE_TABLE = 'late_samples';

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

/** Rows for the quality tables from `quality-<pipeline>` events. Pure. */
export function qualityRows(events: readonly RecordedEvent[]): Record<string, Row[]> {
  const findings: Row[] = [];
  const late: Row[] = [];
  for (const event of events) {
    const pipelineId = event.streamId.slice('quality-'.length);
    const position = event.position.toString();
    if (event.type === 'qualityIssuesFound') {
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
  return { [FINDINGS_TABLE]: findings, [LATE_TABLE]: late };
}
