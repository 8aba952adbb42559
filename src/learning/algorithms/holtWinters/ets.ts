import { z } from 'zod';
import { type Candidate, candidates, chooseCandidate, FALLBACK } from '../../../domain/forecast/forecast.js';
import {
  createModel,
  type ModelSpec as EtsSpec,
  type ModelState as EtsState,
  type Model,
  modelFromState,
} from '../../../domain/forecast/models.js';
import { resolvePeriod } from '../../../domain/forecast/period.js';
import type { JsonValue } from '../../../stores/event-store/port.js';
import type {
  FittedModel,
  Implementation,
  ModelSpec,
  SerializedModel,
  TrainingData,
  UpdateOptions,
} from '../../algorithm.js';
import { createFittedModel } from '../shared/fitted.js';
import { invalid, parseParams, parseState } from '../shared/params.js';
import { numbers } from '../shared/schemas.js';

/**
 * Holt-Winters as a learning algorithm: additive exponential smoothing (the forecasting code's one-pass
 * ETS filters, `src/domain/forecast/models.ts`) of the target over time, whose state moves on with each
 * new row (`update`), so a real-time pipeline keeps it current without refitting.
 *
 * Univariate: a row is its target and its time, read from one feature column (`timeColumn`, default the
 * last one, where a series dataset's `timeIndex` puts `step`: the row's time in steps), rounded to a whole
 * step. Every other column is ignored. Rows are taken in the order of their steps; of rows on the same
 * step the first given counts. A gap (missing steps) is crossed with the model's `advance`: as steps whose
 * value is their forecast (no error correction: the level follows the trend, the season stays).
 *
 * Fitting: the smoothing weights, when `alpha` is not given, are chosen as `forecast()` chooses them
 * (`chooseCandidate` over `candidates`: naive, seasonal naive, SES, Holt, Holt-Winters on a grid, scored
 * by rolling-origin cross-validation of `horizon`-step forecasts), on the series with its gaps filled by
 * linear interpolation; the model is initialised from the first values (two seasons) of that series and
 * filtered over the observed rows from there. The chosen spec is recorded in the state.
 *
 * Predicting a row: h = its step − the last step seen; h ≥ 1 gives the h-step forecast; h ≤ 0 (a row the
 * model has already passed) gives the state's present estimate at that row's phase (level + season, no
 * trend): in-sample rows are not refitted nor replayed. No feature importance (one input).
 *
 * The time column must reach the model as whole steps: train it behind no scaling or expansion of the
 * features (a feature pipeline with `scale: 'none'`), or the steps are lost.
 */

/** Cross-validation horizon without a season (with one: a season). */
const DEFAULT_HORIZON = 10;
/** Steps the fitted rows may span (the series is made dense to choose the period and the weights). */
export const MAX_SPAN = 1_000_000;

export const holtWintersParams = z
  .strictObject({
    /** The feature holding each row's time in whole steps; default the last one. */
    timeColumn: z.number().int().min(0).optional(),
    /** The season in steps (≥ 2), 0 for none; default: found from the values (as forecasts find it). */
    period: z
      .number()
      .int()
      .min(0)
      .refine((p) => p !== 1, 'a season is at least 2 steps (0: none)')
      .optional(),
    /** Steps ahead the cross-validation scores the candidates on; default a season, or 10 steps. */
    horizon: z.number().int().min(1).max(10_000).optional(),
    /** Level smoothing; given, it fixes the model (no cross-validation) with the weights below. */
    alpha: z.number().gt(0).max(1).optional(),
    /** Trend smoothing, error-correction form (β = α·β*, so at most α); default 0. */
    beta: z.number().min(0).max(1).optional(),
    /** Season smoothing, at most 1 − α; default 0. */
    gamma: z.number().min(0).max(1).optional(),
    /** Trend damping in (0, 1]; default 1 (undamped). */
    phi: z.number().gt(0).max(1).optional(),
    /**
     * With `alpha`: whether the model has a trend (default: when beta or phi is given). Without: restricts
     * the candidates to the smoothing ones with (true) or without (false) a trend.
     */
    trend: z.boolean().optional(),
  })
  .superRefine((p, ctx) => {
    for (const key of ['beta', 'gamma', 'phi'] as const) {
      if (p[key] !== undefined && p.alpha === undefined)
        ctx.addIssue({ code: 'custom', path: [key], message: 'give alpha too, or no weight at all' });
    }
    if (p.alpha !== undefined && p.beta !== undefined && p.beta > p.alpha)
      ctx.addIssue({ code: 'custom', path: ['beta'], message: 'at most alpha (β = α·β*, β* ≤ 1)' });
    if (p.alpha !== undefined && p.gamma !== undefined && p.gamma > 1 - p.alpha + 1e-12)
      ctx.addIssue({ code: 'custom', path: ['gamma'], message: 'at most 1 − alpha' });
    if (p.trend === false)
      for (const key of ['beta', 'phi'] as const)
        if (p[key] !== undefined)
          ctx.addIssue({ code: 'custom', path: [key], message: 'applies with a trend only' });
  });
type HoltWintersParams = z.output<typeof holtWintersParams>;

const specSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('smoothing'),
    period: z.number().int().min(0),
    alpha: z.number(),
    beta: z.number(),
    gamma: z.number(),
    phi: z.number(),
    trend: z.boolean(),
  }),
  z.strictObject({ kind: z.literal('naive'), period: z.number().int().min(1) }),
]);

const modelStateSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('smoothing'), level: z.number(), slope: z.number(), season: numbers }),
  z.strictObject({ kind: z.literal('naive'), ring: numbers }),
]);

const stepSchema = z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

const stateSchema = z.strictObject({
  /** The candidate chosen (`naive`, `seasonalNaive`, `ses`, `holt`, `holtWinters`), as forecasts name it. */
  method: z.string().min(1),
  /** Whether the cross-validation chose it (false: given by the params, or the fallback). */
  chosenByCv: z.boolean(),
  /** Its cross-validated MASE, when chosen by cross-validation. */
  cvError: z.number().nullable(),
  spec: specSchema,
  /** The filter's state after `lastStep`. */
  model: modelStateSchema,
  /** The step of the model's index 0: a step's phase in the season is (step − origin) mod period. */
  origin: stepSchema,
  /** The last step the model has seen. */
  lastStep: stepSchema,
  /** The standard deviation of the one-step errors of every row filtered (fit and updates). */
  residualSd: z.number().min(0),
  /** Rows those errors were taken on. */
  residualCount: z.number().int().min(0),
});
type HoltWintersState = z.output<typeof stateSchema>;

const NAME = 'holtWinters/ets';

/** The time column the params name (default the last), checked against the rows' width. */
function timeColumnOf(params: HoltWintersParams, p: number): number {
  const column = params.timeColumn ?? p - 1;
  if (column >= p)
    throw invalid(
      'params.timeColumn',
      `expected a feature index below ${p} (the rows have ${p} features), got ${column}`,
    );
  return column;
}

/** Rows as (step, value) sorted by step, the first of equal steps kept, only steps after `after`. */
function ordered(data: TrainingData, column: number, after: number): { steps: number[]; ys: number[] } {
  const pairs: { step: number; y: number }[] = [];
  for (let i = 0; i < data.features.length; i++) {
    const step = Math.round(data.features[i]![column]!);
    if (!Number.isSafeInteger(step))
      throw invalid(`data.features[${i}][${column}]`, `expected a time in whole steps, got ${step}`);
    if (step > after) pairs.push({ step, y: data.target[i]! });
  }
  // Stable: of equal steps the first row given stays first.
  pairs.sort((a, b) => a.step - b.step);
  const steps: number[] = [];
  const ys: number[] = [];
  for (const { step, y } of pairs) {
    if (steps.length && steps[steps.length - 1] === step) continue;
    steps.push(step);
    ys.push(y);
  }
  return { steps, ys };
}

/** The values on every step from the first to the last, missing ones linearly interpolated. */
function dense(steps: readonly number[], ys: readonly number[]): number[] {
  const origin = steps[0]!;
  const span = steps[steps.length - 1]! - origin + 1;
  const out = new Array<number>(span);
  for (let i = 0; i < steps.length; i++) {
    const at = steps[i]! - origin;
    out[at] = ys[i]!;
    if (i === 0) continue;
    const from = steps[i - 1]! - origin;
    const y0 = ys[i - 1]!;
    for (let t = from + 1; t < at; t++) out[t] = y0 + ((ys[i]! - y0) * (t - from)) / (at - from);
  }
  return out;
}

interface Fed {
  lastStep: number;
  sse: number;
  count: number;
}

/** Filters the rows after `lastStep` in step order, crossing gaps with `advance`. */
function feed(model: Model, steps: readonly number[], ys: readonly number[], origin: number, from: Fed): Fed {
  let { lastStep, sse, count } = from;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (step <= lastStep) continue;
    if (step - lastStep > 1) model.advance(step - lastStep - 1);
    const e = model.step(ys[i]!, step - origin);
    sse += e * e;
    count++;
    lastStep = step;
  }
  return { lastStep, sse, count };
}

const methodOf = (spec: EtsSpec): string =>
  spec.kind === 'naive'
    ? spec.period >= 2
      ? 'seasonalNaive'
      : 'naive'
    : spec.period >= 2
      ? 'holtWinters'
      : spec.trend
        ? 'holt'
        : 'ses';

/** The spec the params fix (alpha given), completed with its defaults. */
function fixedSpec(params: HoltWintersParams, period: number, alpha: number): EtsSpec {
  const trend = params.trend ?? (params.beta !== undefined || params.phi !== undefined);
  return {
    kind: 'smoothing',
    period,
    alpha,
    beta: trend ? (params.beta ?? 0) : 0,
    gamma: period ? (params.gamma ?? 0) : 0,
    phi: trend ? (params.phi ?? 1) : 1,
    trend,
  };
}

/** The season: the params' one (0: none), or the one found from the values. */
function periodOf(params: HoltWintersParams, values: readonly number[]): number {
  if (params.period === undefined) return resolvePeriod(values, undefined) ?? 0;
  if (params.period >= 2 && values.length <= 2 * params.period)
    throw invalid(
      'params.period',
      `a season of ${params.period} steps needs rows spanning more than two seasons (${2 * params.period + 1} steps), these span ${values.length}`,
    );
  return params.period;
}

/** The spec to fit: fixed by the params, or chosen by cross-validation as forecasts choose it. */
function choose(
  params: HoltWintersParams,
  values: readonly number[],
): Pick<HoltWintersState, 'method' | 'chosenByCv' | 'cvError' | 'spec'> {
  if (values.length < 2) {
    // One step: nothing to smooth; the naive model repeats it.
    return { method: 'naive', chosenByCv: false, cvError: null, spec: { kind: 'naive', period: 1 } };
  }
  const period = periodOf(params, values);
  if (params.alpha !== undefined) {
    const spec = fixedSpec(params, period, params.alpha);
    return { method: methodOf(spec), chosenByCv: false, cvError: null, spec };
  }
  const { trend } = params;
  const list = candidates(period || null).filter(
    (c) => trend === undefined || (c.spec.kind === 'smoothing' && c.spec.trend === trend),
  );
  const fallbackSpec: EtsSpec =
    FALLBACK.kind === 'smoothing' && trend !== undefined ? { ...FALLBACK, trend } : FALLBACK;
  const fallback: Candidate = { method: methodOf(fallbackSpec), spec: fallbackSpec };
  const horizon = params.horizon ?? (period || DEFAULT_HORIZON);
  const choice = chooseCandidate(values, horizon, period || null, list, fallback);
  return {
    method: choice.best.method,
    chosenByCv: choice.cvError !== null,
    cvError: choice.cvError,
    spec: choice.best.spec,
  };
}

function finiteState(state: EtsState): boolean {
  return state.kind === 'naive'
    ? state.ring.every(Number.isFinite)
    : Number.isFinite(state.level) && Number.isFinite(state.slope) && state.season.every(Number.isFinite);
}

function restore(state: HoltWintersState): Model {
  try {
    return modelFromState(state.spec, state.model);
  } catch (error) {
    if (error instanceof RangeError) throw invalid('state.model', error.message);
    throw error;
  }
}

/** The state after filtering: the model's, the position and the residuals' spread. */
function settle(
  base: Pick<HoltWintersState, 'method' | 'chosenByCv' | 'cvError' | 'spec' | 'origin'>,
  model: Model,
  fed: Fed,
  prior: { sd: number; count: number } = { sd: 0, count: 0 },
): HoltWintersState {
  const state = model.state();
  if (!finiteState(state)) throw new Error(`${NAME}: the filter did not give a finite state`);
  return {
    ...base,
    // A fresh copy from `state()`: nothing else holds its arrays.
    model: state as HoltWintersState['model'],
    lastStep: fed.lastStep,
    residualSd: fed.count === prior.count ? prior.sd : Math.sqrt(fed.sse / fed.count),
    residualCount: fed.count,
  };
}

function build(params: HoltWintersParams & { timeColumn: number }, state: HoltWintersState, p: number) {
  const model = restore(state);
  const column = params.timeColumn;
  const next = state.lastStep - state.origin + 1;
  return createFittedModel({
    algorithm: 'holtWinters',
    implementation: 'ets',
    task: 'regression',
    featureCount: p,
    params: params as JsonValue,
    predictOne: (row) => model.forecastAt(Math.round(row[column]!) - state.lastStep, next),
    state: () => state as unknown as JsonValue,
  });
}

/** A serialised model's params (time column resolved) and state, checked against its width. */
function parseModel(serialized: SerializedModel) {
  const parsed = parseParams(holtWintersParams, serialized.params, NAME);
  const params = { ...parsed, timeColumn: timeColumnOf(parsed, serialized.featureCount) };
  const state = parseState(stateSchema, serialized.state, NAME);
  restore(state);
  return { params, state };
}

export const holtWintersEts: Implementation = {
  name: 'ets',
  tasks: ['regression'],
  fit(data: TrainingData, spec: ModelSpec) {
    const parsed = parseParams(holtWintersParams, spec.params, 'holtWinters');
    const p = data.features[0]!.length;
    const params = { ...parsed, timeColumn: timeColumnOf(parsed, p) };
    const { steps, ys } = ordered(data, params.timeColumn, Number.NEGATIVE_INFINITY);
    const origin = steps[0]!;
    const span = steps[steps.length - 1]! - origin + 1;
    if (span > MAX_SPAN)
      throw invalid(
        'data.features',
        `the time column (feature ${params.timeColumn}) spans ${span} steps, at most ${MAX_SPAN}: is it the time in steps?`,
      );
    const values = dense(steps, ys);
    const chosen = choose(params, values);
    const model = createModel(values, chosen.spec);
    const fed = feed(model, steps, ys, origin, { lastStep: origin + model.start - 1, sse: 0, count: 0 });
    return build(params, settle({ ...chosen, origin }, model, fed), p);
  },
  load(serialized: SerializedModel): FittedModel {
    const { params, state } = parseModel(serialized);
    return build(params, state, serialized.featureCount);
  },
  /**
   * Filters the batch's rows whose steps come after the last one seen, in step order (gaps crossed by
   * `advance`; earlier or repeated steps ignored), with the fitted spec: exactly what fitting on all the
   * rows with that spec fixed would have done from there. The options' learningRate and epochs do not
   * apply (the smoothing weights are the step sizes; each row is seen once).
   */
  update(serialized: SerializedModel, data: TrainingData, _options: UpdateOptions) {
    const { params, state } = parseModel(serialized);
    const model = restore(state);
    const { steps, ys } = ordered(data, params.timeColumn, state.lastStep);
    const fed = feed(model, steps, ys, state.origin, {
      lastStep: state.lastStep,
      sse: state.residualSd ** 2 * state.residualCount,
      count: state.residualCount,
    });
    const prior = { sd: state.residualSd, count: state.residualCount };
    return build(params, settle(state, model, fed, prior), serialized.featureCount);
  },
};
