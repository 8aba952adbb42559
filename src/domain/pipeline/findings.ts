import type { Frequency } from '../analytics/patterns.js';
import type { WindowStats } from '../analytics/windows.js';
import type { TickResult } from './engine.js';

/** What every per-series finding in `findings-<pipeline>` starts with. */
export interface SeriesFindingData {
  /** The log position of the source batch whose processing found it. */
  readonly sourcePosition: string;
  readonly seriesId: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Time of the sample that showed it. */
  readonly ts: number;
}

export interface AnomalyDetected extends SeriesFindingData {
  readonly value: number;
  readonly score: number;
  /** The detector that fired, and the range it expected the value in. */
  readonly detector: string;
  readonly expectedLow: number;
  readonly expectedHigh: number;
  /** The name of the window (of `windows`) the value departs from most. */
  readonly window: string;
  /** The series' sliding windows just before the sample. */
  readonly windows: readonly WindowStats[];
}

export interface PatternMatched extends SeriesFindingData {
  readonly pattern: string;
  readonly distance: number;
}

export interface TrendChanged extends SeriesFindingData {
  readonly direction: string;
  readonly strength: string;
  readonly slope: number;
  readonly slopeLow: number;
  readonly slopeHigh: number;
  readonly pValue: number;
  readonly momentum: number;
}

/** A series' seasonality appeared, or its period moved (by more than 5 % and at least one sample). */
export interface SeasonalityDetected extends SeriesFindingData {
  /** In samples, and in milliseconds over a time window (null over a count window). */
  readonly period: number;
  readonly periodMs: number | null;
  /** The autocorrelation at that period. */
  readonly strength: number;
  readonly previousPeriod: number | null;
}

/** The seasonality last reported for a series is gone. */
export interface SeasonalityLost extends SeriesFindingData {
  readonly previousPeriod: number;
}

/** A series' dominant frequencies (FFT; each with at least `minPower` of the power) are not those last reported. */
export interface FrequenciesChanged extends SeriesFindingData {
  readonly frequencies: readonly Frequency[];
}

/** A series' anomalies recur at a regular interval: first found, or the interval moved beyond the tolerance. */
export interface RecurringAnomalyDetected extends SeriesFindingData {
  readonly intervalMs: number;
  readonly occurrences: number;
}

/** The per-series findings of one tick as typed events, in the order they are appended. */
export type SeriesFindingEvent =
  | { readonly type: 'anomalyDetected'; readonly data: AnomalyDetected }
  | { readonly type: 'patternMatched'; readonly data: PatternMatched }
  | { readonly type: 'trendChanged'; readonly data: TrendChanged }
  | { readonly type: 'seasonalityDetected'; readonly data: SeasonalityDetected }
  | { readonly type: 'seasonalityLost'; readonly data: SeasonalityLost }
  | { readonly type: 'frequenciesChanged'; readonly data: FrequenciesChanged }
  | { readonly type: 'recurringAnomalyDetected'; readonly data: RecurringAnomalyDetected };

/** The event types of periodicity findings (all in `findings-<pipeline>`). */
export const PERIODICITY_EVENT_TYPES = [
  'seasonalityDetected',
  'seasonalityLost',
  'frequenciesChanged',
  'recurringAnomalyDetected',
] as const;

/** The finding events of a tick, triggered by the source batch at `sourcePosition`. Pure. */
export function seriesFindingEvents(result: TickResult, sourcePosition: string): SeriesFindingEvent[] {
  const head = (f: {
    def: { id: string; name: string; labels: Readonly<Record<string, string>> };
    ts: number;
  }) => ({
    sourcePosition,
    seriesId: f.def.id,
    name: f.def.name,
    labels: f.def.labels,
    ts: f.ts,
  });
  return [
    ...result.anomalies.map(
      (a): SeriesFindingEvent => ({
        type: 'anomalyDetected',
        data: {
          ...head(a),
          value: a.value,
          score: a.score,
          detector: a.detector,
          expectedLow: a.expectedLow,
          expectedHigh: a.expectedHigh,
          window: a.window,
          windows: a.windows,
        },
      }),
    ),
    ...result.patterns.map(
      (p): SeriesFindingEvent => ({
        type: 'patternMatched',
        data: { ...head(p), pattern: p.pattern, distance: p.distance },
      }),
    ),
    ...result.trends.map(
      (t): SeriesFindingEvent => ({
        type: 'trendChanged',
        data: {
          ...head(t),
          direction: t.direction,
          strength: t.strength,
          slope: t.slope,
          slopeLow: t.slopeLow,
          slopeHigh: t.slopeHigh,
          pValue: t.pValue,
          momentum: t.momentum,
        },
      }),
    ),
    ...result.periodicity.map((p): SeriesFindingEvent => {
      switch (p.type) {
        case 'seasonalityDetected':
          return {
            type: p.type,
            data: {
              ...head(p),
              period: p.period,
              periodMs: p.periodMs,
              strength: p.strength,
              previousPeriod: p.previousPeriod,
            },
          };
        case 'seasonalityLost':
          return { type: p.type, data: { ...head(p), previousPeriod: p.previousPeriod } };
        case 'frequenciesChanged':
          return { type: p.type, data: { ...head(p), frequencies: p.frequencies } };
        default:
          return {
            type: p.type,
            data: { ...head(p), intervalMs: p.intervalMs, occurrences: p.occurrences },
          };
      }
    }),
  ];
}
