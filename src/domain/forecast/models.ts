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

/**
 * A model's state between two values, as plain JSON: what `modelFromState` needs to go on filtering
 * exactly where `state()` was taken. Seasonal entries are indexed by the value's index modulo the period.
 */
export type ModelState =
  | {
      readonly kind: 'smoothing';
      readonly level: number;
      /** 0 without a trend. */
      readonly slope: number;
      /** The seasonal deviation of each phase (index t mod period); empty without a season. */
      readonly season: readonly number[];
    }
  | {
      readonly kind: 'naive';
      /** The last value of each phase (index t mod period; one value for the plain naive model). */
      readonly ring: readonly number[];
    };

export interface Model {
  /** The index of the first value `step` expects: the values before it initialised the model (0 when restored from a state). */
  readonly start: number;
  /** Feeds the value at index t (t = start, start + 1, …); returns the one-step error. */
  step(y: number, t: number): number;
  /** Writes the forecast of the h values from index t (the next value `step` expects) into `out`. */
  forecastInto(out: Float64Array, h: number, t: number): void;
  /**
   * The forecast of the value j steps ahead of index t (the next value `step` expects), that is of
   * index t + j − 1, as `forecastInto` gives it for j ≥ 1 (equal for j ≤ 1000, the damped trend's sum
   * in closed form beyond). j ≤ 0 (an index already seen): the present level with that index's phase of
   * the season, no trend (the naive models: the last value of that phase).
   */
  forecastAt(j: number, t: number): number;
  /**
   * Moves the model over k values it does not observe (a gap): as k steps whose error is zero (each
   * value taken to be its forecast), in closed form: the level follows the (damped) trend, the trend is
   * damped, the season and the naive ring stay as they are.
   */
  advance(k: number): void;
  /** The state as plain JSON (a copy). */
  state(): ModelState;
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

/** Beyond this many steps ahead the damped trend's sum is taken in closed form, not summed. */
const DAMPED_LOOP = 1000;

/** φ + φ² + … + φʲ, summed as `forecastInto` sums it (exactly equal up to `DAMPED_LOOP` terms). */
function dampedSum(phi: number, j: number): number {
  if (j <= 0) return 0;
  if (phi === 1) return j;
  if (j > DAMPED_LOOP) return (phi * (1 - phi ** j)) / (1 - phi);
  let damped = 0;
  let power = 1;
  for (let i = 0; i < j; i++) {
    power *= phi;
    damped += power;
  }
  return damped;
}

/** t mod m, non-negative. */
const phase = (t: number, m: number) => ((t % m) + m) % m;

function naiveModel(ring: Float64Array, start: number): Model {
  const m = ring.length;
  return {
    start,
    step(y, t) {
      const e = y - ring[t % m]!;
      ring[t % m] = y;
      return e;
    },
    forecastInto(out, h, t) {
      for (let j = 0; j < h; j++) out[j] = ring[(t + j) % m]!;
    },
    forecastAt: (j, t) => ring[phase(t + j - 1, m)]!,
    advance() {},
    state: () => ({ kind: 'naive', ring: Array.from(ring) }),
  };
}

/** The filter of a smoothing spec from its state (`season` is kept: one slot without a season). */
function smoothingModel(
  spec: Extract<ModelSpec, { kind: 'smoothing' }>,
  initial: { level: number; slope: number; season: Float64Array },
  start: number,
): Model {
  const { alpha, beta, gamma, trend } = spec;
  const phi = trend ? spec.phi : 0;
  const m = spec.period >= 2 ? spec.period : 0;
  const { season } = initial;
  let { level, slope } = initial;
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
    forecastAt: (j, t) => level + dampedSum(phi, j) * slope + (m ? season[phase(t + j - 1, m)]! : 0),
    advance(k) {
      if (!trend || k <= 0) return;
      level += dampedSum(phi, k) * slope;
      slope *= phi ** k;
    },
    state: () => ({ kind: 'smoothing', level, slope, season: m ? Array.from(season) : [] }),
  };
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
    return naiveModel(ring, m);
  }
  const { trend } = spec;
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
  return smoothingModel(spec, { level, slope, season }, start);
}

/**
 * The model of `spec` restored from a state its `state()` gave (start 0: it takes any index next, the
 * phase being the index modulo the period). Throws a RangeError when the state does not fit the spec
 * (another kind, a season or ring of another length, a non-finite number).
 */
export function modelFromState(spec: ModelSpec, state: ModelState): Model {
  const finite = (values: readonly number[]) =>
    values.every((v) => typeof v === 'number' && Number.isFinite(v));
  if (spec.kind === 'naive') {
    const m = Math.max(1, spec.period);
    if (state.kind !== 'naive' || state.ring.length !== m || !finite(state.ring))
      throw new RangeError(`a naive model of period ${spec.period} needs a ring of ${m} finite values`);
    return naiveModel(Float64Array.from(state.ring), 0);
  }
  const m = spec.period >= 2 ? spec.period : 0;
  if (
    state.kind !== 'smoothing' ||
    state.season.length !== m ||
    !finite([state.level, state.slope, ...state.season])
  )
    throw new RangeError(
      `a smoothing model of period ${spec.period} needs a level, a slope and ${m} seasonal values`,
    );
  const season = new Float64Array(Math.max(m, 1));
  season.set(state.season);
  return smoothingModel(spec, { level: state.level, slope: spec.trend ? state.slope : 0, season }, 0);
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
