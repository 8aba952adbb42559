import { describe, expect, it } from 'vitest';
import type {
  AnomalyDetected,
  FrequenciesChanged,
  SeasonalityDetected,
} from '../../../src/domain/pipeline/findings.js';
import { findingRows } from '../../../src/projections/pipeline-findings/mapping.js';
import type { JsonValue, RecordedEvent } from '../../../src/stores/event-store/port.js';

const head = {
  sourcePosition: '7',
  seriesId: '42',
  name: 'cpu',
  labels: { host: 'a' },
  ts: 1_700_000_000_000,
};
const event = (type: string, data: object, position: bigint): RecordedEvent => ({
  id: `00000000-0000-4000-8000-00000000000${position}`,
  type,
  streamId: 'findings-watch',
  category: 'findings',
  revision: position,
  position,
  data: data as JsonValue,
  metadata: {},
  createdAt: new Date('2026-11-27T04:00:00.000Z'),
});

describe('pipeline findings mapping', () => {
  it('puts the window an anomaly departs from most, with its statistics, in the anomaly row', () => {
    const anomaly: AnomalyDetected = {
      ...head,
      value: 95,
      score: 1,
      detector: 'zscore',
      expectedLow: 40,
      expectedHigh: 60,
      window: 'short',
      windows: [
        { name: 'short', count: 30, mean: 50, std: 1.5, min: 47, max: 53 },
        { name: 'long', count: 200, mean: 51, std: 4, min: 40, max: 60 },
      ],
    };
    const rows = findingRows([event('anomalyDetected', anomaly, 3n)]).anomalies!;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      series_id: '42',
      value: 95,
      window: 'short',
      window_count: 30,
      window_mean: 50,
      window_std: 1.5,
      window_min: 47,
      window_max: 53,
      position: '3',
    });
  });

  it('maps each periodicity finding to a row of the periodicity table', () => {
    const season: SeasonalityDetected = {
      ...head,
      period: 16,
      periodMs: 16_000,
      strength: 0.93,
      previousPeriod: null,
    };
    const frequencies: FrequenciesChanged = {
      ...head,
      frequencies: [
        { frequency: 1 / 16, period: 16, power: 0.8 },
        { frequency: 1 / 64, period: 64, power: 0.2 },
      ],
    };
    const rows = findingRows([
      event('seasonalityDetected', season, 4n),
      event('frequenciesChanged', frequencies, 5n),
      event('seasonalityLost', { ...head, previousPeriod: 16 }, 6n),
      event('recurringAnomalyDetected', { ...head, intervalMs: 3_600_000, occurrences: 4 }, 7n),
    ]).periodicity!;
    expect(
      rows.map((r) => [r.finding, r.period, r.period_ms, r.previous_period, r.interval_ms, r.occurrences]),
    ).toEqual([
      ['seasonalityDetected', 16, 16_000, null, 0, 0],
      ['frequenciesChanged', 0, null, null, 0, 0],
      ['seasonalityLost', 0, null, 16, 0, 0],
      ['recurringAnomalyDetected', 0, null, null, 3_600_000, 4],
    ]);
    expect([rows[1]!.frequencies, rows[1]!.powers]).toEqual([
      [1 / 16, 1 / 64],
      [0.8, 0.2],
    ]);
    expect(rows.map((r) => r.position)).toEqual(['4', '5', '6', '7']);
  });
});
