import { z } from 'zod';
import { TimeMs } from '../primitives.js';

/**
 * Scheduled forecasts as facts, in `forecasts-<ruleId>`: `forecastMade` (one per series a rule run
 * forecast, appended together per run) and `forecastScored` (once, when what happened is known).
 */

export const FORECASTS_EVENT_SCHEMA_VERSION = 1;

const finite = z.number().finite();

export const ForecastPoint = z.object({
  /** The bucket `[ts, ts + stepMs)` forecast. */
  ts: TimeMs,
  mean: finite,
  lower80: finite,
  upper80: finite,
  lower95: finite,
  upper95: finite,
});
export type ForecastPoint = z.infer<typeof ForecastPoint>;

export const ForecastMadeSettings = z.object({
  method: z.string(),
  period: z.number().nullable(),
  params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])),
  cvError: z.number().nullable(),
});

export const ForecastMade = z.object({
  ruleId: z.string().min(1),
  /** `<seriesId>@<madeAt>`: what its score refers to. */
  forecastId: z.string().min(1),
  seriesId: z.string().regex(/^\d{1,20}$/),
  madeAt: TimeMs,
  stepMs: z.number().int().min(1),
  /** The history read: buckets `[historyFrom, lastTs + stepMs)`, `historyPoints` of them. */
  historyFrom: TimeMs,
  historyPoints: z.number().int().min(0),
  /**
   * The in-sample mean absolute error of the seasonal naive forecast (naive without a period) on the
   * history: MASE's scale. Null when the history is too short or flat.
   */
  scale: z.number().nullable(),
  points: z.array(ForecastPoint).min(1),
  settings: ForecastMadeSettings,
});
export type ForecastMade = z.infer<typeof ForecastMade>;

export const ScoredPoint = z.object({
  ts: TimeMs,
  mean: finite,
  /** The bucket's average, or null when no sample arrived for it (the point is not scored). */
  actual: finite.nullable(),
  /** actual − mean. */
  error: finite.nullable(),
  /** |error| / |actual|, null when actual is 0 or missing. */
  ape: finite.nullable(),
  inside80: z.boolean().nullable(),
  inside95: z.boolean().nullable(),
});
export type ScoredPoint = z.infer<typeof ScoredPoint>;

export const ForecastScored = z.object({
  ruleId: z.string().min(1),
  forecastId: z.string().min(1),
  seriesId: z.string().regex(/^\d{1,20}$/),
  madeAt: TimeMs,
  scoredAt: TimeMs,
  stepMs: z.number().int().min(1),
  points: z.array(ScoredPoint),
  /** How many points had an actual value. */
  scoredPoints: z.number().int().min(0),
  /** Over the scored points; null when none was. */
  mae: finite.nullable(),
  /** MAE / the forecast's scale; null without one. */
  mase: finite.nullable(),
  /** Mean absolute percentage error over the points with a non-zero actual. */
  mape: finite.nullable(),
  coverage80: finite.nullable(),
  coverage95: finite.nullable(),
});
export type ForecastScored = z.infer<typeof ForecastScored>;

export const FORECAST_FACTS = { forecastMade: ForecastMade, forecastScored: ForecastScored };
export const FORECAST_EVENT_TYPES = ['forecastMade', 'forecastScored'] as const;

/** The id a forecast is known by. */
export const forecastIdOf = (seriesId: string, madeAt: number) => `${seriesId}@${madeAt}`;

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/**
 * MASE's scale: the mean absolute difference between each value and the one a season (`period`, or 1)
 * before it; null when there are no such pairs or the values never change.
 */
export function naiveScale(values: readonly number[], period: number | null): number | null {
  const m = period && period >= 1 && period < values.length ? period : 1;
  const diffs: number[] = [];
  for (let i = m; i < values.length; i++) diffs.push(Math.abs(values[i]! - values[i - m]!));
  const scale = mean(diffs);
  return scale === null || scale === 0 ? null : scale;
}

/**
 * Scores a forecast against the actual bucket averages (by bucket start; a bucket absent had no
 * sample). Pure: the same forecast and actuals always give the same score.
 */
export function scoreForecast(
  made: Pick<ForecastMade, 'points' | 'scale'>,
  actuals: ReadonlyMap<number, number>,
): Pick<ForecastScored, 'points' | 'scoredPoints' | 'mae' | 'mase' | 'mape' | 'coverage80' | 'coverage95'> {
  const points: ScoredPoint[] = made.points.map((p) => {
    const actual = actuals.get(p.ts);
    if (actual === undefined || !Number.isFinite(actual))
      return { ts: p.ts, mean: p.mean, actual: null, error: null, ape: null, inside80: null, inside95: null };
    const error = actual - p.mean;
    return {
      ts: p.ts,
      mean: p.mean,
      actual,
      error,
      ape: actual === 0 ? null : Math.abs(error) / Math.abs(actual),
      inside80: actual >= p.lower80 && actual <= p.upper80,
      inside95: actual >= p.lower95 && actual <= p.upper95,
    };
  });
  const scored = points.filter((p) => p.actual !== null);
  const mae = mean(scored.map((p) => Math.abs(p.error!)));
  const apes = scored.flatMap((p) => (p.ape === null ? [] : [p.ape]));
  return {
    points,
    scoredPoints: scored.length,
    mae,
    mase: mae === null || made.scale === null ? null : mae / made.scale,
    mape: mean(apes),
    coverage80: mean(scored.map((p) => (p.inside80 ? 1 : 0))),
    coverage95: mean(scored.map((p) => (p.inside95 ? 1 : 0))),
  };
}

/**
 * When a forecast is scored: `delayMs` after its last bucket has ended (or after it was made, if later),
 * so samples arriving late for those buckets are counted; what has not arrived by then stays unscored.
 */
export const scoreDueAt = (made: Pick<ForecastMade, 'points' | 'stepMs' | 'madeAt'>, delayMs: number) =>
  Math.max(made.points[made.points.length - 1]!.ts + made.stepMs, made.madeAt) + delayMs;
