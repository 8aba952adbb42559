/**
 * The forecasting models as one-pass filters: a model is initialised from the first values of a series,
 * then fed the rest one value at a time (`step`), and can forecast from wherever it stands
 * (`forecastInto`). A forecast made before `step(t)` only depends on the values before t, which is what
 * makes rolling-origin cross-validation one pass per candidate.
 */

/** A model's specification: which method, its season and its parameters. */
export type ModelSpec =
  | {
      /** Additive exponential smoothing (error-correction form of ETS(A, A/Ad/N, A/N)). */
      readonly kind: 'smoothing';
      /** Season in points (≥ 2), or 0 without a season. */
      readonly period: number;
      readonly alpha: number;
      /** Trend smoothing (error-correction form, β = α·β*); ignored without a trend. */
      readonly beta: number;
      /** Season smoothing; ignored without a season. */
      readonly gamma: number;
      /** Trend damping (1: undamped). */
      readonly phi: number;
      readonly trend: boolean;
    }
  | {
      /** The last value of the same phase: seasonal naive (period ≥ 2) or naive (period 1). */
      readonly kind: 'naive';
      readonly period: number;
    };

export interface Model {
  /** The index of the first value `step` expects: the values before it initialised the model. */
  readonly start: number;
  /** Feeds the value at index t (t = start, start + 1, …); returns the one-step error. */
  step(y: number, t: number): number;
  /** Writes the forecast of the h values from index t (the next value `step` expects) into `out`. */
  forecastInto(out: Float64Array, h: number, t: number): void;
}

/** Values a model needs before it can forecast: two seasons, or a few points without one. */
export function initialLength(spec: ModelSpec, n: number): number {
  if (spec.kind === 'naive') return spec.period;
  return spec.period >= 2 ? 2 * spec.period : Math.min(Math.max(2, n >> 1), 20);
}

function mean(values: readonly number[], from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += values[i]!;
  return sum / (to - from);
}

/**
 * A model of `spec`, initialised from the first values (see `initialLength`; at least that many are
 * required). Smoothing with a season starts as the classical decomposition of the first two seasons
 * (level: the first season's mean, trend: the change of the mean between the two seasons, season: the
 * first season's deviations) and filters from the second season on; without a season the level starts at
 * the first value and the trend at the change of the mean between the first two blocks of up to 10
 * values.
 */
export function createModel(values: readonly number[], spec: ModelSpec): Model {
  if (spec.kind === 'naive') {
    const m = Math.max(1, spec.period);
    const ring = new Float64Array(m);
    for (let i = 0; i < m; i++) ring[i] = values[i]!;
    return {
      start: m,
      step(y, t) {
        const e = y - ring[t % m]!;
        ring[t % m] = y;
        return e;
      },
      forecastInto(out, h, t) {
        for (let j = 0; j < h; j++) out[j] = ring[(t + j) % m]!;
      },
    };
  }
  const { alpha, beta, gamma, trend } = spec;
  const phi = trend ? spec.phi : 0;
  const m = spec.period >= 2 ? spec.period : 0;
  const season = new Float64Array(Math.max(m, 1));
  let level: number;
  let slope = 0;
  let start: number;
  if (m) {
    const first = mean(values, 0, m);
    if (trend) slope = (mean(values, m, 2 * m) - first) / m;
    for (let i = 0; i < m; i++) season[i] = values[i]! - (first + (i - (m - 1) / 2) * slope);
    level = first + ((m - 1) / 2) * slope;
    start = m;
  } else {
    const k = Math.max(1, Math.min(10, (values.length - 1) >> 1));
    level = values[0]!;
    if (trend) slope = (mean(values, k, 2 * k) - mean(values, 0, k)) / k;
    start = 1;
  }
  return {
    start,
    step(y, t) {
      const i = m ? t % m : 0;
      const s = season[i]!;
      const trendPart = phi * slope;
      const e = y - (level + trendPart + s);
      level += trendPart + alpha * e;
      if (trend) slope = trendPart + beta * e;
      if (m) season[i] = s + gamma * e;
      return e;
    },
    forecastInto(out, h, t) {
      let damped = 0;
      let power = 1;
      for (let j = 0; j < h; j++) {
        power *= phi;
        damped += power;
        out[j] = level + damped * slope + (m ? season[(t + j) % m]! : 0);
      }
    },
  };
}

/**
 * The analytic variance multipliers of the h-step forecast of additive exponential smoothing
 * (Hyndman et al., "Forecasting with Exponential Smoothing", class 1): v_j = 1 + Σ_{i<j} c_i², with
 * c_i = α + β(φ + … + φ^i) + γ·[i is a multiple of the period]. For the naive models: the number of
 * seasons the step reaches ahead.
 */
export function varianceMultipliers(spec: ModelSpec, h: number): Float64Array {
  const out = new Float64Array(h);
  if (spec.kind === 'naive') {
    const m = Math.max(1, spec.period);
    for (let j = 0; j < h; j++) out[j] = Math.floor(j / m) + 1;
    return out;
  }
  const phi = spec.trend ? spec.phi : 0;
  const beta = spec.trend ? spec.beta : 0;
  const m = spec.period >= 2 ? spec.period : 0;
  let sum = 1;
  let damped = 0;
  let power = 1;
  for (let j = 0; j < h; j++) {
    out[j] = sum;
    const i = j + 1;
    power *= phi;
    damped += power;
    const c = spec.alpha + beta * damped + (m && i % m === 0 ? spec.gamma : 0);
    sum += c * c;
  }
  return out;
}
