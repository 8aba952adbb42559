import { emptyBands, pushEmpirical, pushNormal } from './intervals.js';
import type { Forecast, ForecastOptions } from './method.js';
import { naiveScale } from './metrics.js';
import { createModel, initialLength, type ModelSpec, varianceMultipliers } from './models.js';
import { resolvePeriod } from './period.js';
import { validateInput } from './validate.js';

/**
 * The default forecasting method: additive exponential smoothing (Holt-Winters and its simpler
 * relatives) with the method and its smoothing parameters chosen by rolling-origin cross-validation on
 * the series' own past, and prediction intervals from the empirical distribution of the chosen model's
 * past errors, step by step ahead.
 */

/** The candidates' smoothing grid (error-correction form: β = α·β*, season weight γ ≤ 1 − α). */
const ALPHAS = [0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9];
const BETA_STARS = [0.01, 0.05, 0.2];
const PHIS = [1, 0.98, 0.9];
const GAMMAS = [0.02, 0.05, 0.1, 0.2, 0.4];
/** Cross-validation: at most this many cut points, half a horizon apart, ending a horizon before the end. */
export const CV_ORIGINS = 20;
/**
 * Empirical intervals: errors of forecasts made from the last 3 horizons + 100 origins, or two seasons
 * and a horizon if longer (so every step's errors come from all phases of the season)…
 */
const INTERVAL_HORIZONS = 3;
const INTERVAL_EXTRA = 100;
/** …and at least this many errors for a step, or the analytic variance is used for it. */
const MIN_EMPIRICAL = 30;
/** Used when the series is too short to cross-validate: damped Holt with middling weights. */
export const FALLBACK: ModelSpec = {
  kind: 'smoothing',
  period: 0,
  alpha: 0.5,
  beta: 0.05,
  gamma: 0,
  phi: 0.9,
  trend: true,
};

export interface Candidate {
  readonly method: string;
  readonly spec: ModelSpec;
}

/** The candidate methods, simplest first (ties go to the simpler one). */
export function candidates(period: number | null): Candidate[] {
  const out: Candidate[] = [{ method: 'naive', spec: { kind: 'naive', period: 1 } }];
  if (period) out.push({ method: 'seasonalNaive', spec: { kind: 'naive', period } });
  for (const alpha of ALPHAS)
    out.push({
      method: 'ses',
      spec: { kind: 'smoothing', period: 0, alpha, beta: 0, gamma: 0, phi: 1, trend: false },
    });
  for (const alpha of ALPHAS)
    for (const b of BETA_STARS)
      for (const phi of PHIS)
        out.push({
          method: 'holt',
          spec: { kind: 'smoothing', period: 0, alpha, beta: alpha * b, gamma: 0, phi, trend: true },
        });
  if (period)
    for (const alpha of ALPHAS)
      for (const gamma of new Set(GAMMAS.map((g) => Math.min(g, 1 - alpha)))) {
        out.push({
          method: 'holtWinters',
          spec: { kind: 'smoothing', period, alpha, beta: 0, gamma, phi: 1, trend: false },
        });
        for (const b of BETA_STARS)
          for (const phi of PHIS)
            out.push({
              method: 'holtWinters',
              spec: { kind: 'smoothing', period, alpha, beta: alpha * b, gamma, phi, trend: true },
            });
      }
  return out;
}

/** Where the cross-validation cuts a series: forecasts of `horizon` values from each origin, all before the end. */
export interface CvPlan {
  readonly origins: readonly number[];
  readonly horizon: number;
  /** The MASE scale: the seasonal naive one-step MAE of the values before the first origin. */
  readonly scale: number;
}

/** Values the cross-validation keeps before its first origin: two and a half seasons, or up to 20 values. */
export function minTraining(n: number, period: number | null): number {
  return period ? 2 * period + Math.ceil(period / 2) : Math.max(4, Math.min(20, n >> 1));
}

/**
 * The rolling origins: up to `CV_ORIGINS` cut points half a horizon apart, the last one a horizon before
 * the end of the values, none earlier than `minTraining`; a series too short for one full horizon is
 * cross-validated on a shorter one from a single origin; null when not even that fits.
 */
export function cvPlan(values: readonly number[], horizon: number, period: number | null): CvPlan | null {
  const n = values.length;
  const min = minTraining(n, period);
  const step = Math.max(1, Math.ceil(horizon / 2));
  const origins: number[] = [];
  for (let k = 0; k < CV_ORIGINS; k++) {
    const o = n - horizon - k * step;
    if (o < min) break;
    origins.unshift(o);
  }
  let h = horizon;
  if (!origins.length) {
    h = n - min;
    if (h < 1) return null;
    origins.push(min);
  }
  let scale = naiveScale(values.slice(0, origins[0]), period);
  if (!(scale > 0)) {
    // A constant past: score by plain absolute error.
    scale = 1;
  }
  return { origins, horizon: h, scale };
}

/**
 * A candidate's cross-validated MASE: the model filters the values once; at each origin it forecasts
 * `horizon` values from what it has seen before that origin. Infinity if the model cannot start before
 * the first origin.
 */
export function cvError(values: readonly number[], spec: ModelSpec, plan: CvPlan): number {
  if (initialLength(spec, values.length) > plan.origins[0]!) return Number.POSITIVE_INFINITY;
  const model = createModel(values, spec);
  const h = plan.horizon;
  const out = new Float64Array(h);
  let t = model.start;
  let sum = 0;
  for (const origin of plan.origins) {
    for (; t < origin; t++) model.step(values[t]!, t);
    model.forecastInto(out, h, origin);
    for (let j = 0; j < h; j++) sum += Math.abs(values[origin + j]! - out[j]!);
  }
  const error = sum / (plan.origins.length * h * plan.scale);
  return Number.isFinite(error) ? error : Number.POSITIVE_INFINITY;
}

/** The candidate `chooseCandidate` picked, the cross-validation plan and the error it was picked on. */
export interface Choice {
  readonly best: Candidate;
  readonly plan: CvPlan | null;
  /** The best candidate's cross-validated MASE; null when none could be scored (`fallback` chosen). */
  readonly cvError: number | null;
}

/**
 * The candidate (of `list`, simplest first) with the lowest rolling-origin cross-validated error of
 * `horizon`-step forecasts (`cvPlan`, `cvError`), ties within rounding going to the earlier one; the
 * `fallback` when the values are too short to cross-validate or no candidate could be scored.
 */
export function chooseCandidate(
  values: readonly number[],
  horizon: number,
  period: number | null,
  list: readonly Candidate[],
  fallback: Candidate = { method: 'holt', spec: FALLBACK },
): Choice {
  const plan = cvPlan(values, horizon, period);
  let best = fallback;
  let bestError: number | null = null;
  if (plan) {
    let lowest = Number.POSITIVE_INFINITY;
    for (const candidate of list) {
      const error = cvError(values, candidate.spec, plan);
      // Ties (within rounding) go to the earlier, simpler candidate.
      const tolerance = Number.isFinite(lowest) ? 1e-12 * Math.max(1, lowest) : 0;
      if (error < lowest - tolerance) {
        lowest = error;
        best = candidate;
      }
    }
    if (Number.isFinite(lowest)) bestError = lowest;
  }
  return { best, plan, cvError: bestError };
}

function paramsOf(candidate: Candidate): Record<string, number | string | boolean | null> {
  const { spec } = candidate;
  if (spec.kind === 'naive') return { lag: spec.period };
  return {
    alpha: spec.alpha,
    beta: spec.trend ? spec.beta : null,
    gamma: spec.period ? spec.gamma : null,
    phi: spec.trend ? spec.phi : null,
    trend: spec.trend,
    damped: spec.trend && spec.phi < 1,
  };
}

/**
 * Fits `spec` on all the values and forecasts `h` values ahead. Intervals: for each step ahead j, the
 * empirical 10/90 % and 2.5/97.5 % quantiles of the errors of the j-step forecasts the model made from the
 * last 3 horizons + 100 origins, or two seasons + a horizon if longer (at least 30 errors), or else the analytic variance of additive
 * exponential smoothing with the one-step residual variance and normal quantiles.
 */
export function fitAndForecast(
  values: readonly number[],
  spec: ModelSpec,
  h: number,
  empirical: boolean,
): { mean: number[]; bands: ReturnType<typeof emptyBands>; intervals: string } {
  const n = values.length;
  const model = createModel(values, spec);
  const m = spec.period >= 2 ? spec.period : 0;
  const window = Math.max(INTERVAL_HORIZONS * h + INTERVAL_EXTRA, 2 * m + h);
  const errorsFrom = Math.max(model.start, n - window);
  const errors: number[][] = Array.from({ length: h }, () => []);
  const out = new Float64Array(h);
  let sse = 0;
  let count = 0;
  for (let t = model.start; t < n; t++) {
    if (empirical && t >= errorsFrom) {
      const ahead = Math.min(h, n - t);
      model.forecastInto(out, ahead, t);
      for (let j = 0; j < ahead; j++) errors[j]!.push(values[t + j]! - out[j]!);
    }
    const e = model.step(values[t]!, t);
    sse += e * e;
    count++;
  }
  model.forecastInto(out, h, n);
  const mean = Array.from(out);
  const sigma = count ? Math.sqrt(sse / count) : 0;
  const multipliers = varianceMultipliers(spec, h);
  const bands = emptyBands();
  let analytic = 0;
  for (let j = 0; j < h; j++) {
    const past = errors[j]!;
    if (past.length >= MIN_EMPIRICAL) pushEmpirical(bands, mean[j]!, Float64Array.from(past).sort());
    else {
      pushNormal(bands, mean[j]!, sigma * Math.sqrt(multipliers[j]!));
      analytic++;
    }
  }
  const intervals = analytic === 0 ? 'empirical' : analytic === h ? 'analytic' : 'empirical+analytic';
  return { mean, bands, intervals };
}

/**
 * Forecasts the `options.horizon` values after `values` (finite numbers, at least 3): the candidate
 * methods — naive, seasonal naive, simple exponential smoothing, Holt (damped or not) and additive
 * Holt-Winters (without trend, with a trend, damped or not) over a grid of smoothing weights — are scored
 * by rolling-origin cross-validation on the values (MASE of `horizon`-step forecasts from up to 6 cut
 * points), and the lowest is fitted on all values. The season is `options.period` or, without one, found
 * from the values; a series shorter than two seasons plus a point has none.
 */
export function forecast(values: readonly number[], options: ForecastOptions): Forecast {
  validateInput(values, options);
  const h = options.horizon;
  const period = resolvePeriod(values, options.period);
  const { best, plan, cvError: bestError } = chooseCandidate(values, h, period, candidates(period));
  const { mean, bands, intervals } = fitAndForecast(values, best.spec, h, true);
  return {
    mean,
    ...bands,
    settings: {
      method: best.method,
      period: best.spec.period >= 2 ? best.spec.period : null,
      params: {
        ...paramsOf(best),
        intervals,
        cvOrigins: plan ? plan.origins.length : 0,
        cvHorizon: plan ? plan.horizon : null,
        seasonConsidered: period,
      },
      cvError: bestError,
    },
  };
}
