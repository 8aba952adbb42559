import { z } from 'zod';
import { BatchPayload } from '../metrics/batch.js';
import { Count32, LabelSet, TimeMs, UInt64Text } from '../primitives.js';
import type { TickResult } from './engine.js';

/**
 * The facts a pipeline records in `findings-<pipeline>` and `pipelinestate-<pipeline>`: one zod schema
 * each, the only declaration of their payloads. Writers check against them before appending; readers
 * (projections, the alert manager, complex events, GraphQL) parse with them (`readFact`).
 */

/** A log position as text. */
export const PositionText = UInt64Text;
/** A series id: the UInt64 of its canonical key, as decimal text. */
export const SeriesIdText = UInt64Text;

/** What every per-series finding starts with. */
export const SeriesFindingData = z.object({
  /** The log position of the source batch whose processing found it. */
  sourcePosition: PositionText,
  seriesId: SeriesIdText,
  name: z.string(),
  labels: LabelSet,
  /** Time of the sample that showed it. */
  ts: TimeMs,
});
export type SeriesFindingData = z.infer<typeof SeriesFindingData>;

export const WindowStats = z.object({
  name: z.string(),
  count: Count32,
  // A window with no values has no mean or spread: recorded as null.
  mean: z.number().nullable(),
  std: z.number().nullable(),
  min: z.number().nullable(),
  max: z.number().nullable(),
});

export const AnomalyDetected = SeriesFindingData.extend({
  value: z.number(),
  score: z.number(),
  /** The detector that fired, and the range it expected the value in. */
  detector: z.string(),
  expectedLow: z.number().nullable(),
  expectedHigh: z.number().nullable(),
  /** The name of the window (of `windows`) the value departs from most. */
  window: z.string(),
  /** The series' sliding windows just before the sample. */
  windows: z.array(WindowStats),
});
export type AnomalyDetected = z.infer<typeof AnomalyDetected>;

export const PatternMatched = SeriesFindingData.extend({ pattern: z.string(), distance: z.number() });
export type PatternMatched = z.infer<typeof PatternMatched>;

export const TrendChanged = SeriesFindingData.extend({
  direction: z.string(),
  strength: z.string(),
  slope: z.number(),
  slopeLow: z.number().nullable(),
  slopeHigh: z.number().nullable(),
  pValue: z.number().nullable(),
  momentum: z.number().nullable(),
});
export type TrendChanged = z.infer<typeof TrendChanged>;

/** A series' seasonality appeared, or its period moved (by more than 5 % and at least one sample). */
export const SeasonalityDetected = SeriesFindingData.extend({
  /** In samples, and in milliseconds over a time window (null over a count window). */
  period: z.number().nonnegative(),
  periodMs: z.number().nonnegative().nullable(),
  /** The autocorrelation at that period. */
  strength: z.number(),
  previousPeriod: z.number().nonnegative().nullable(),
});
export type SeasonalityDetected = z.infer<typeof SeasonalityDetected>;

/** The seasonality last reported for a series is gone. */
export const SeasonalityLost = SeriesFindingData.extend({ previousPeriod: z.number().nonnegative() });
export type SeasonalityLost = z.infer<typeof SeasonalityLost>;

export const Frequency = z.object({ frequency: z.number(), period: z.number(), power: z.number() });

/** A series' dominant frequencies (FFT; each with at least `minPower` of the power) are not those last reported. */
export const FrequenciesChanged = SeriesFindingData.extend({ frequencies: z.array(Frequency) });
export type FrequenciesChanged = z.infer<typeof FrequenciesChanged>;

/** A series' anomalies recur at a regular interval: first found, or the interval moved beyond the tolerance. */
export const RecurringAnomalyDetected = SeriesFindingData.extend({
  intervalMs: z.number().nonnegative(),
  occurrences: Count32,
});
export type RecurringAnomalyDetected = z.infer<typeof RecurringAnomalyDetected>;

/** What the quality checks of one emission found. */
export const QualityIssuesFound = z.object({
  sourcePosition: PositionText,
  watermark: TimeMs.nullable(),
  samplesIn: z.number().int().nonnegative(),
  schemaViolations: z.number().int().nonnegative(),
  duplicates: z.number().int().nonnegative(),
  outOfOrder: z.number().int().nonnegative(),
  late: z.number().int().nonnegative(),
  /** Silences longer than the pipeline's gap threshold: series, from, to. */
  gaps: z.array(z.object({ seriesId: SeriesIdText, from: TimeMs, to: TimeMs })),
});
export type QualityIssuesFound = z.infer<typeof QualityIssuesFound>;

/** Samples older than the allowed lateness, routed out of the analysis (as a columnar batch). */
export const LateSamplesRouted = z.object({ sourcePosition: PositionText, batch: BatchPayload });
export type LateSamplesRouted = z.infer<typeof LateSamplesRouted>;

/**
 * A checkpoint of a pipeline's whole state (a cache in `pipelinestate-<id>`, truncated as newer ones
 * come): inline, or (`parts`) the marker after that many `pipelineCheckpointPart` events.
 */
export const PipelineCheckpointed = z.looseObject({
  sourcePosition: PositionText,
  parts: z.number().int().positive().optional(),
});
export const PipelineCheckpointPart = z.object({
  sourcePosition: PositionText,
  index: z.number().int().nonnegative(),
  parts: z.number().int().positive(),
  json: z.string(),
});

/** Every fact of `findings-<pipeline>` streams, by type. */
export const FINDING_FACTS = {
  anomalyDetected: AnomalyDetected,
  patternMatched: PatternMatched,
  trendChanged: TrendChanged,
  seasonalityDetected: SeasonalityDetected,
  seasonalityLost: SeasonalityLost,
  frequenciesChanged: FrequenciesChanged,
  recurringAnomalyDetected: RecurringAnomalyDetected,
  qualityIssuesFound: QualityIssuesFound,
  lateSamplesRouted: LateSamplesRouted,
} as const;

/** Every fact of `pipelinestate-<pipeline>` streams, by type. */
export const PIPELINE_STATE_FACTS = {
  pipelineCheckpointed: PipelineCheckpointed,
  pipelineCheckpointPart: PipelineCheckpointPart,
} as const;

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

/** JSON has no NaN or ±Infinity: a statistic that is not a number is recorded as null. */
const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

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
          expectedLow: finiteOrNull(a.expectedLow),
          expectedHigh: finiteOrNull(a.expectedHigh),
          window: a.window,
          windows: a.windows.map((w) => ({
            name: w.name,
            count: w.count,
            mean: finiteOrNull(w.mean),
            std: finiteOrNull(w.std),
            min: finiteOrNull(w.min),
            max: finiteOrNull(w.max),
          })),
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
          slopeLow: finiteOrNull(t.slopeLow),
          slopeHigh: finiteOrNull(t.slopeHigh),
          pValue: finiteOrNull(t.pValue),
          momentum: finiteOrNull(t.momentum),
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

type PeriodicityFact =
  | { readonly type: 'seasonalityDetected'; readonly data: SeasonalityDetected }
  | { readonly type: 'seasonalityLost'; readonly data: SeasonalityLost }
  | { readonly type: 'frequenciesChanged'; readonly data: FrequenciesChanged }
  | { readonly type: 'recurringAnomalyDetected'; readonly data: RecurringAnomalyDetected };

/**
 * A periodicity finding as one flat record, as the `periodicity` table and the API show it: the fields
 * a kind of change does not have are 0, empty or null. Pure.
 */
export function flattenPeriodicity(fact: PeriodicityFact) {
  const frequencies = fact.type === 'frequenciesChanged' ? fact.data.frequencies : [];
  return {
    period: fact.type === 'seasonalityDetected' ? fact.data.period : 0,
    periodMs: fact.type === 'seasonalityDetected' ? fact.data.periodMs : null,
    strength: fact.type === 'seasonalityDetected' ? fact.data.strength : 0,
    previousPeriod:
      fact.type === 'seasonalityDetected' || fact.type === 'seasonalityLost'
        ? fact.data.previousPeriod
        : null,
    frequencies: frequencies.map((f) => f.frequency),
    powers: frequencies.map((f) => f.power),
    intervalMs: fact.type === 'recurringAnomalyDetected' ? fact.data.intervalMs : 0,
    occurrences: fact.type === 'recurringAnomalyDetected' ? fact.data.occurrences : 0,
  };
}
